// The end-of-run summary in the terminal: meters, idle baseline, energy per
// epoch, energy per accuracy step, the functional unit and its impacts
// with every factor. Every energy figure is labelled with its provenance.
#include "core/energy/report/summary.h"
#include "core/energy/report/world_summary.h"

#include <math.h>
#include <string.h>

#include "core/energy/report/format.h"
#include "core/energy/report/repeats_summary.h"
#include "core/energy/report/segments_summary.h"

// The number of significant digits an energy with half-width u supports (2 for u's own digits, at most 4).
static int sig_digits(double j, double u) {
    if (!(u > 0) || !isfinite(u) || !(fabs(j) > 0)) return 4;
    int d = (int)floor(log10(fabs(j))) - (int)floor(log10(u)) + 2;
    return d < 1 ? 1 : d > 4 ? 4 : d;
}

// Prints str right-aligned in width display columns (± is two bytes, one column).
static void cell(FILE *out, int width, const char *str) {
    int cols = 0;
    for (const char *p = str; *p; p++) cols += ((unsigned char)*p & 0xC0) != 0x80;
    fprintf(out, " %*s%s", width > cols ? width - cols : 0, "", str);
}

static const char *short_prov(cnn_provenance p) {
    switch (p) {
    case CNN_PROV_MEASURED_COUNTER: return "counter";
    case CNN_PROV_MEASURED_POWER: return "power";
    case CNN_PROV_ESTIMATED: return "estimated";
    }
    return "estimated";
}

static void meter_header(const cnn_energy_result *res, FILE *out, int with_total) {
    for (int m = 0; m < res->n_meters; m++) fprintf(out, " %16.16s", res->info[m].name);
    if (with_total) fprintf(out, " %16s", "total");
}

static void prov_header(const cnn_energy_result *res, FILE *out, int with_total) {
    for (int m = 0; m < res->n_meters; m++) fprintf(out, " %16s", short_prov(res->info[m].prov));
    if (with_total) fprintf(out, " %16s", short_prov(res->acc.total_prov));
}


#define W 16 // width of an energy column

static void print_meters(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_accounting *a = &res->acc;
    char b1[48];
    fprintf(out, "\n== energy ==\n");
    fprintf(out, "meters:\n");
    for (int m = 0; m < res->n_meters; m++) {
        const cnn_meter_info *mi = &res->info[m];
        fprintf(out, "  %-16s %-16s %s; updates every %g ms", mi->name, cnn_provenance_name(mi->prov), mi->device,
                1000.0 * mi->update_period_s);
        if (mi->resolution_j > 0) fprintf(out, ", resolution %g J", mi->resolution_j);
        fprintf(out, "\n                   %s\n", mi->method);
    }
    if (res->n_meters == 0) fprintf(out, "  (none: no energy is measured)\n");
    for (int i = 0; i < res->notes.n; i++) fprintf(out, "note: %s\n", res->notes.text[i]);
    if (a->idle_measured) {
        if (!strcmp(res->idle_source, "cached"))
            fprintf(out, "idle baseline of the machine (before the backend opened the device), cached from %s (%.1f h "
                         "old, measured over %.2f s):", res->idle_cached_utc, res->idle_cache_age_s / 3600.0, a->idle_s);
        else
            fprintf(out, "idle baseline of the machine (before the backend opened the device), measured now over "
                         "%.2f s:", a->idle_s);
        for (int m = 0; m < res->n_meters; m++)
            fprintf(out, " %s %s W;", res->info[m].name, cnn_energy_fmt_ju(b1, sizeof b1, a->idle_w[m], a->idle_u_w[m]));
        fprintf(out, " total %s W (%s)\n", cnn_energy_fmt_ju(b1, sizeof b1, a->idle_total_w, a->idle_total_u_w),
                cnn_provenance_name(a->total_prov));
        double cw = 0, cu = 0;
        for (int m = 0; res->ctx_known && m < res->n_meters; m++) cw += res->ctx_w[m], cu += res->ctx_u[m];
        if (res->ctx_known)
            fprintf(out, "idle of the device with the backend's context open: total %s W (not subtracted)\n",
                    cnn_energy_fmt_ju(b1, sizeof b1, cw, cu));
    } else {
        fprintf(out, "idle baseline: not measured (--idle-seconds 0): no energy above idle\n");
    }
}

static void print_epoch_row(const cnn_energy_result *res, FILE *out, const char *label, double dt,
                            const cnn_energy_epoch_row *e, const cnn_energy_window *w, double above_j,
                            double above_u) {
    char b[48];
    fprintf(out, "%6s %9.3f", label, dt);
    if (e && e->has_eval) fprintf(out, " %10.4f %9.4f", e->last_eval.train_loss, e->last_eval.test_acc);
    else fprintf(out, " %10s %9s", e ? "-" : "", e ? "-" : "");
    for (int m = 0; m < res->n_meters; m++) cell(out, W, cnn_energy_fmt_ju(b, sizeof b, w->j[m], w->u[m]));
    cell(out, W, cnn_energy_fmt_ju(b, sizeof b, w->total_j, w->total_u));
    cell(out, W, cnn_energy_fmt_ju(b, sizeof b, above_j, above_u));
    fputc('\n', out);
}

static void print_epochs(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_accounting *a = &res->acc;
    fprintf(out, "\nenergy per epoch (J, value ± half-width of the interval the meters allow; a..b or <= b: the\n"
                 "meter only bounds a window shorter than its update period; <res: not bounded)\n");
    fprintf(out, "%6s %9s %10s %9s", "epoch", "time_s", "train_loss", "test_acc");
    meter_header(res, out, 1);
    fprintf(out, " %16s\n", "above idle");
    fprintf(out, "%6s %9s %10s %9s", "", "", "", "");
    prov_header(res, out, 1);
    fprintf(out, " %16s\n", short_prov(a->total_prov));
    for (int k = 0; k < a->n_epochs; k++) {
        const cnn_energy_epoch_row *e = &a->epochs[k];
        char label[16];
        snprintf(label, sizeof label, "%d", e->epoch);
        print_epoch_row(res, out, label, e->w.t1 - e->w.t0, e, &e->w, e->above_idle_total_j, e->above_idle_total_u);
    }
    double outside_s = a->train.t1 - a->train.t0;
    for (int k = 0; k < a->n_epochs; k++) outside_s -= a->epochs[k].w.t1 - a->epochs[k].w.t0;
    double oj = a->idle_measured ? a->outside.total_j - a->idle_total_w * outside_s : NAN;
    double ou = a->idle_measured ? a->outside.total_u + a->idle_total_u_w * outside_s : NAN;
    print_epoch_row(res, out, "other", outside_s, NULL, &a->outside, oj, ou);
    print_epoch_row(res, out, "total", a->train.t1 - a->train.t0, NULL, &a->train, a->above_idle_total_j,
                    a->above_idle_total_u);
    if (a->idle_measured)
        fprintf(out, "above idle: minus the machine's idle (before the device was opened, %s) %.1f W x duration\n",
                res->idle_source, a->idle_total_w);
}

// share = m / c and the half-width of the interval it can take given m ± um and c ± uc.
static double share_u(double m, double um, double c, double uc, double *share) {
    *share = c > 0 ? m / c : NAN;
    double lo = fmax(0, m - um) / (c + uc), hi = c - uc > 0 ? fmin(1.0, (m + um) / (c - uc)) : 1.0;
    return fmax(hi - *share, *share - lo);
}

static void print_steps(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_accounting *a = &res->acc;
    const char *tprov = cnn_provenance_name(a->total_prov);
    char b1[48], b2[48];
    fprintf(out, "\nenergy per accuracy step (at the first evaluation reaching it; J, %s)\n", tprov);
    fprintf(out, "%7s %6s %8s %9s %9s %18s %18s %12s\n", "step", "epoch", "step#", "time_s", "test_acc", "cumulative",
            "marginal", "share");
    for (int k = 0; k < a->n_steps; k++) {
        const cnn_energy_step_row *st = &a->steps[k];
        if (!st->reached) {
            fprintf(out, "%7.4g %6s %8s %9s %9s %18s\n", st->threshold, "-", "-", "-", "-", "not reached");
            continue;
        }
        double sh, su = share_u(st->marginal_total_j, st->marginal_total_u, st->cum_total_j, st->cum_total_u, &sh);
        char shb[32];
        if (st->same_eval_as_previous) snprintf(shb, sizeof shb, "0%%"); // an empty window: exactly nothing
        else if (cnn_energy_resolved(sh, su)) snprintf(shb, sizeof shb, "%.1f%%", 100.0 * sh);
        else snprintf(shb, sizeof shb, "unresolved");
        fprintf(out, "%7.4g %6d %8ld %9.3f %9.4f", st->threshold, st->eval.epoch, st->eval.step, st->elapsed_s,
                st->eval.test_acc);
        cell(out, 18, cnn_energy_fmt_ju(b1, sizeof b1, st->cum_total_j, st->cum_total_u));
        cell(out, 18, cnn_energy_fmt_ju(b2, sizeof b2, st->marginal_total_j, st->marginal_total_u));
        fprintf(out, " %12s%s\n", shb, st->same_eval_as_previous ? "  (same evaluation as the step before)" : "");
    }
    if (a->last_step_index < 0) {
        fprintf(out, "no accuracy step was reached\n");
        return;
    }
    const cnn_energy_step_row *st = &a->steps[a->last_step_index];
    double from = a->last_step_index > 0 ? a->steps[a->last_step_index - 1].threshold : 0.0;
    if (st->same_eval_as_previous)
        fprintf(out, "the last step (%.4g -> %.4g) was reached at the same evaluation as the step before: it took no "
                     "energy of its own (evaluate more often, --eval-every, to split it)\n",
                from, st->threshold);
    else if (cnn_energy_resolved(a->last_step_share, a->last_step_share_u))
        fprintf(out, "the last step (%.4g -> %.4g) took %.1f%% ± %.1f%% of the energy spent to reach %.4g (%s J of %s J, %s)\n",
                from, st->threshold, 100.0 * a->last_step_share, 100.0 * a->last_step_share_u, st->threshold,
                cnn_energy_fmt_ju(b1, sizeof b1, st->marginal_total_j, st->marginal_total_u),
                cnn_energy_fmt_ju(b2, sizeof b2, st->cum_total_j, st->cum_total_u), tprov);
    else
        fprintf(out, "the last step's (%.4g -> %.4g) share of the energy is not resolved (%s J of %s J): its windows "
                     "are too short for the meter; --repeat N resolves it\n",
                from, st->threshold, cnn_energy_fmt_ju(b1, sizeof b1, st->marginal_total_j, st->marginal_total_u),
                cnn_energy_fmt_ju(b2, sizeof b2, st->cum_total_j, st->cum_total_u));
}

static void print_functional_unit(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_accounting *a = &res->acc;
    const char *tprov;
    char b1[48];
    fprintf(out, "\nfunctional unit: ");
    if (res->cfg.target_acc > 0)
        fprintf(out, "train %s (%s) to test accuracy >= %g\n", res->dataset, res->model_desc, res->cfg.target_acc);
    else
        fprintf(out, "train %s (%s) for %d epochs (no --target-acc)\n", res->dataset, res->model_desc,
                res->have_result ? res->result.epochs : a->n_epochs);
    const double *fj = res->fu.j, *fu = res->fu.u; // earlier segments included (cnn-train resume)
    double ftotal = res->fu.total_j, futot = res->fu.total_u, ftime = res->fu.time_s;
    tprov = cnn_provenance_name(res->fu.prov);
    if (res->cfg.target_acc > 0 && !a->target_reached)
        fprintf(out, "  target NOT reached: the figures below are for the whole run\n");
    fprintf(out, "  time%s      %.3f s\n", a->target_reached ? " to target  " : "            ", ftime);
    fprintf(out, "  energy%s    ", a->target_reached ? " to target" : "          ");
    for (int m = 0; m < res->n_meters; m++)
        fprintf(out, "%s %s J (%s); ", res->info[m].name, cnn_energy_fmt_ju(b1, sizeof b1, fj[m], fu[m]),
                cnn_provenance_name(res->info[m].prov));
    fprintf(out, "total %s J = %.*g kWh (%s)\n", cnn_energy_fmt_ju(b1, sizeof b1, ftotal, futot), sig_digits(ftotal, futot),
            ftotal / 3.6e6, tprov);
    if (!cnn_energy_resolved(ftotal, futot) || futot > 0.02 * ftotal) {
        int n = cnn_energy_repeats_needed(ftotal, futot, ftime);
        if (n > 1)
            fprintf(out, "  a single run is not resolved to 2%%: --repeat %d would bring the energy to target's "
                         "uncertainty under 2%% (windows of >= 10 s in all)\n", n);
    }
}

static void print_impacts(const cnn_energy_result *res, FILE *out) {
    const cnn_impact_factors *f = &res->factors;
    const cnn_impacts *im = &res->impacts;
    double ej = res->fu.total_j, eu = res->fu.total_u;
    int d = sig_digits(ej, eu); // impacts carry the precision of their energy
    fprintf(out, "\nimpacts, estimated (operational = energy x PUE x grid factor; embodied = hardware x share x "
                 "time / (AUR x lifetime)); operational to %d significant digits, as its energy:\n", d);
    fprintf(out, "  %-28s %14s %14s %14s\n", "", "operational", "embodied", "total");
    fprintf(out, "  %-28s %14.*g %14.4g %14.*g\n", "climate change (kgCO2eq)", d, im->operational.gwp, im->embodied.gwp,
            d, im->total.gwp);
    fprintf(out, "  %-28s %14.*g %14.4g %14.*g\n", "primary energy (MJ)", d, im->operational.pe, im->embodied.pe, d,
            im->total.pe);
    fprintf(out, "  %-28s %14.*g %14.4g %14.*g\n", "abiotic depletion (kgSbeq)", d, im->operational.adp,
            im->embodied.adp, d, im->total.adp);
    fprintf(out, "factors:\n");
    fprintf(out, "  energy %.*g kWh (%s) x PUE %.3g\n", d, im->energy_kwh, cnn_provenance_name(res->fu.prov), f->pue);
    fprintf(out, "  electricity %s (%s): %.4g kgCO2eq/kWh, %.4g MJ/kWh, %.4g kgSbeq/kWh\n    source: %s\n",
            f->grid_name, f->grid_code, f->grid.gwp, f->grid.pe, f->grid.adp, f->grid_source);
    for (int i = 0; i < f->n_devices; i++) {
        const cnn_embodied_device *dv = &f->devices[i];
        fprintf(out, "  embodied %s: %g kgCO2eq, %g MJ, %g kgSbeq x share %.4g\n    source: %s\n", dv->name,
                dv->embodied.gwp, dv->embodied.pe, dv->embodied.adp, dv->share, dv->source);
    }
    fprintf(out, "  time %.3f s / (AUR %.2f x %.3g years) = %.4g of the hardware's useful life\n", im->time_s, f->aur,
            f->lifetime_years, im->life_share);
}

static void print_sampler(const cnn_energy_result *res, FILE *out) {
    const double train_s = res->training_s, life_s = res->t_stop - res->sampler_t0, over = res->overhead_pct;
    fprintf(out, "\nsampler: %ld meter reads, %ld window marks (mean %.2f us, longest %.1f us); overhead %.3f%% of "
                 "the training time (sampler thread CPU %.1f ms over its %.2f s, marks %.3f ms, training %.2f s)%s\n",
            res->reads, res->marks, res->marks ? 1e6 * res->mark_s / (double)res->marks : 0.0, 1e6 * res->mark_max_s, over,
            1e3 * res->thread_cpu_s, life_s, 1e3 * res->mark_s, train_s,
            over >= 1.0 ? " -- above the 1% target: raise --power-interval-ms" : "");
    fprintf(out, "run record: %s (run.json, epochs.csv, power.csv, emissions.csv); plots: cnn-train report %s\n",
            res->run_dir, res->run_dir);
}

void cnn_energy_print_summary(const cnn_energy_result *res, FILE *out) {
    print_meters(res, out);
    print_epochs(res, out);
    print_steps(res, out);
    cnn_energy_print_segments(res, out);
    print_functional_unit(res, out);
    cnn_energy_print_world(res, out);
    print_impacts(res, out);
    cnn_energy_print_repeats(res, out);
    print_sampler(res, out);
    fflush(out);
}
