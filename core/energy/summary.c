// The end-of-run summary in the terminal: meters, idle baseline, energy per
// epoch, energy per accuracy step, the functional unit and its impacts
// with every factor. Every energy figure is labelled with its provenance.
#include <math.h>
#include <string.h>

#include "core/energy/session.h"

// Formats a number of joules (or a flag) into buf, width-free.
static const char *fmt_j(char *buf, size_t len, double j, int below_res) {
    if (below_res) snprintf(buf, len, "<res");
    else if (!isfinite(j)) snprintf(buf, len, "-");
    else if (fabs(j) >= 1e5) snprintf(buf, len, "%.4g", j);
    else snprintf(buf, len, "%.2f", j);
    return buf;
}

static const char *short_prov(cnn_provenance p) {
    switch (p) {
    case CNN_PROV_MEASURED_COUNTER: return "counter";
    case CNN_PROV_MEASURED_POWER: return "power";
    case CNN_PROV_ESTIMATED: return "estimated";
    }
    return "estimated";
}

static void meter_header(const cnn_energy_session *s, FILE *out, int with_total) {
    for (int m = 0; m < s->n_meters; m++) fprintf(out, " %14.14s", s->info[m].name);
    if (with_total) fprintf(out, " %14s", "total");
}

static void prov_header(const cnn_energy_session *s, FILE *out, int with_total) {
    for (int m = 0; m < s->n_meters; m++) fprintf(out, " %14s", short_prov(s->info[m].prov));
    if (with_total) fprintf(out, " %14s", short_prov(s->acc.total_prov));
}

void cnn_energy_print_summary(const cnn_energy_session *s, FILE *out) {
    const cnn_energy_accounting *a = &s->acc;
    const char *tprov = cnn_provenance_name(a->total_prov);
    char b1[32], b2[32];
    fprintf(out, "\n== energy ==\n");
    fprintf(out, "meters:\n");
    for (int m = 0; m < s->n_meters; m++) {
        const cnn_meter_info *mi = &s->info[m];
        fprintf(out, "  %-16s %-16s %s; updates every %g ms", mi->name, cnn_provenance_name(mi->prov), mi->device,
                1000.0 * mi->update_period_s);
        if (mi->resolution_j > 0) fprintf(out, ", resolution %g J", mi->resolution_j);
        fprintf(out, "\n                   %s\n", mi->method);
    }
    if (s->n_meters == 0) fprintf(out, "  (none: no energy is measured)\n");
    for (int i = 0; i < s->n_notes; i++) fprintf(out, "note: %s\n", s->notes[i]);

    if (a->idle_measured) {
        fprintf(out, "idle baseline over %.2f s:", a->idle_s);
        for (int m = 0; m < s->n_meters; m++) fprintf(out, " %s %.2f W;", s->info[m].name, a->idle_w[m]);
        fprintf(out, " total %.2f W (%s)\n", a->idle_total_w, tprov);
    } else {
        fprintf(out, "idle baseline: not measured (--idle-seconds 0): no energy above idle\n");
    }

    // Per epoch.
    fprintf(out, "\nenergy per epoch (J; <res: window shorter than the meter's update period)\n");
    fprintf(out, "%6s %9s %10s %9s", "epoch", "time_s", "train_loss", "test_acc");
    meter_header(s, out, 1);
    fprintf(out, " %14s\n", "above idle");
    fprintf(out, "%6s %9s %10s %9s", "", "", "", "");
    prov_header(s, out, 1);
    fprintf(out, " %14s\n", short_prov(a->total_prov));
    for (int k = 0; k < a->n_epochs; k++) {
        const cnn_energy_epoch_row *e = &a->epochs[k];
        fprintf(out, "%6d %9.3f", e->epoch, e->w.t1 - e->w.t0);
        if (e->has_eval) fprintf(out, " %10.4f %9.4f", e->last_eval.train_loss, e->last_eval.test_acc);
        else fprintf(out, " %10s %9s", "-", "-");
        for (int m = 0; m < s->n_meters; m++) fprintf(out, " %14s", fmt_j(b1, sizeof b1, e->w.j[m], e->w.below_res[m]));
        fprintf(out, " %14s", fmt_j(b1, sizeof b1, e->w.total_j, e->w.any_below_res));
        fprintf(out, " %14s\n", fmt_j(b2, sizeof b2, e->above_idle_total_j, e->w.any_below_res));
    }
    double outside_s = a->train.t1 - a->train.t0;
    for (int k = 0; k < a->n_epochs; k++) outside_s -= a->epochs[k].w.t1 - a->epochs[k].w.t0;
    fprintf(out, "%6s %9.3f %10s %9s", "other", outside_s, "", "");
    for (int m = 0; m < s->n_meters; m++) fprintf(out, " %14s", fmt_j(b1, sizeof b1, a->outside.j[m], 0));
    fprintf(out, " %14s %14s\n", fmt_j(b1, sizeof b1, a->outside.total_j, 0),
            fmt_j(b2, sizeof b2, a->idle_measured ? a->outside.total_j - a->idle_total_w * outside_s : NAN, 0));
    fprintf(out, "%6s %9.3f %10s %9s", "total", a->train.t1 - a->train.t0, "", "");
    for (int m = 0; m < s->n_meters; m++) fprintf(out, " %14s", fmt_j(b1, sizeof b1, a->train.j[m], 0));
    fprintf(out, " %14s %14s\n", fmt_j(b1, sizeof b1, a->train.total_j, 0),
            fmt_j(b2, sizeof b2, a->above_idle_total_j, 0));

    // Per accuracy step.
    fprintf(out, "\nenergy per accuracy step (at the first evaluation reaching it; J, %s)\n", tprov);
    fprintf(out, "%7s %6s %8s %9s %9s %14s %14s %8s\n", "step", "epoch", "step#", "time_s", "test_acc", "cumulative",
            "marginal", "share");
    for (int k = 0; k < a->n_steps; k++) {
        const cnn_energy_step_row *st = &a->steps[k];
        if (!st->reached) {
            fprintf(out, "%7.4g %6s %8s %9s %9s %14s %14s %8s\n", st->threshold, "-", "-", "-", "-", "not reached", "",
                    "");
            continue;
        }
        fprintf(out, "%7.4g %6d %8ld %9.3f %9.4f %14s %14s %7.1f%%%s\n", st->threshold, st->eval.epoch, st->eval.step,
                st->elapsed_s, st->eval.test_acc, fmt_j(b1, sizeof b1, st->cum_total_j, 0),
                fmt_j(b2, sizeof b2, st->marginal_total_j, 0),
                st->cum_total_j > 0 ? 100.0 * st->marginal_total_j / st->cum_total_j : 0.0,
                st->same_eval_as_previous ? "  (same evaluation as the step before)" : "");
    }
    if (a->last_step_index >= 0) {
        const cnn_energy_step_row *st = &a->steps[a->last_step_index];
        double from = a->last_step_index > 0 ? a->steps[a->last_step_index - 1].threshold : 0.0;
        fprintf(out, "the last step (%.4g -> %.4g) took %.1f%% of the energy spent to reach %.4g (%s J of %s J, %s)\n",
                from, st->threshold, 100.0 * a->last_step_share, st->threshold,
                fmt_j(b1, sizeof b1, st->marginal_total_j, 0), fmt_j(b2, sizeof b2, st->cum_total_j, 0), tprov);
    } else {
        fprintf(out, "no accuracy step was reached\n");
    }

    // Functional unit.
    fprintf(out, "\nfunctional unit: ");
    if (s->cfg.target_acc > 0)
        fprintf(out, "train %s (%s) to test accuracy >= %g\n", s->dataset, s->model_desc, s->cfg.target_acc);
    else
        fprintf(out, "train %s (%s) for %d epochs (no --target-acc)\n", s->dataset, s->model_desc, a->n_epochs);
    const double *fj = a->target_reached ? a->target_j : a->train.j;
    double ftotal = a->target_reached ? a->target_total_j : a->train.total_j;
    double ftime = a->target_reached ? a->target_time_s : a->train.t1 - a->train.t0;
    if (s->cfg.target_acc > 0 && !a->target_reached)
        fprintf(out, "  target NOT reached: the figures below are for the whole run\n");
    fprintf(out, "  time%s      %.3f s\n", a->target_reached ? " to target  " : "            ", ftime);
    fprintf(out, "  energy%s    ", a->target_reached ? " to target" : "          ");
    for (int m = 0; m < s->n_meters; m++)
        fprintf(out, "%s %s J (%s); ", s->info[m].name, fmt_j(b1, sizeof b1, fj[m], 0),
                cnn_provenance_name(s->info[m].prov));
    fprintf(out, "total %s J = %.4g kWh (%s)\n", fmt_j(b1, sizeof b1, ftotal, 0), ftotal / 3.6e6, tprov);

    const cnn_impact_factors *f = &s->factors;
    const cnn_impacts *im = &s->impacts;
    fprintf(out, "\nimpacts, estimated (operational = energy x PUE x grid factor; embodied = hardware x share x "
                 "time / (AUR x lifetime)):\n");
    fprintf(out, "  %-28s %14s %14s %14s\n", "", "operational", "embodied", "total");
    fprintf(out, "  %-28s %14.4g %14.4g %14.4g\n", "climate change (kgCO2eq)", im->operational.gwp, im->embodied.gwp,
            im->total.gwp);
    fprintf(out, "  %-28s %14.4g %14.4g %14.4g\n", "primary energy (MJ)", im->operational.pe, im->embodied.pe,
            im->total.pe);
    fprintf(out, "  %-28s %14.4g %14.4g %14.4g\n", "abiotic depletion (kgSbeq)", im->operational.adp,
            im->embodied.adp, im->total.adp);
    fprintf(out, "factors:\n");
    fprintf(out, "  energy %.4g kWh (%s) x PUE %.3g\n", im->energy_kwh, tprov, f->pue);
    fprintf(out, "  electricity %s (%s): %.4g kgCO2eq/kWh, %.4g MJ/kWh, %.4g kgSbeq/kWh\n    source: %s\n",
            f->grid_name, f->grid_code, f->grid.gwp, f->grid.pe, f->grid.adp, f->grid_source);
    for (int i = 0; i < f->n_devices; i++) {
        const cnn_embodied_device *d = &f->devices[i];
        fprintf(out, "  embodied %s: %g kgCO2eq, %g MJ, %g kgSbeq x share %.4g\n    source: %s\n", d->name,
                d->embodied.gwp, d->embodied.pe, d->embodied.adp, d->share, d->source);
    }
    fprintf(out, "  time %.3f s / (AUR %.2f x %.3g years) = %.4g of the hardware's useful life\n", im->time_s, f->aur,
            f->lifetime_years, im->life_share);

    double train_s = a->train.t1 - a->train.t0;
    double over = train_s > 0 ? 100.0 * (s->thread_cpu_s + s->mark_wall_s) / train_s : 0.0;
    fprintf(out, "\nsampler: %ld samples every %d ms and %ld window marks; overhead %.3f%% of the training time "
                 "(thread CPU %.1f ms + marks %.1f ms over %.2f s)%s\n",
            s->ticks, s->opt.power_interval_ms, s->marks, over, 1e3 * s->thread_cpu_s, 1e3 * s->mark_wall_s, train_s,
            over >= 1.0 ? " -- above the 1% target: raise --power-interval-ms" : "");
    fprintf(out, "run record: %s (run.json, epochs.csv, power.csv, emissions.csv); plots: cnn-train report %s\n",
            s->run_dir, s->run_dir);
    fflush(out);
}
