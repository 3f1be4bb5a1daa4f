// The terminal summary of repeated runs (cnn-train --repeat N): each run's
// time and energy to target and its accuracy steps, then mean, median,
// standard deviation and 95% confidence interval across runs, the
// epochs-to-target distribution, and how many repeats resolve the energy.
#include <math.h>
#include <string.h>

#include "core/energy/report/format.h"
#include "core/energy/report/repeats_summary.h"

static void print_runs(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_repeats *r = &res->rep;
    char b[64];
    fprintf(out, "\nrepeats: %d runs to test accuracy >= %g, back to back in one process (J, %s)\n", r->n,
            res->cfg.target_acc, cnn_provenance_name(res->acc.total_prov));
    fprintf(out, "  run        seed epochs   time_s   energy to target");
    for (int k = 0; k < r->runs[0].n_steps; k++) fprintf(out, " %16g", r->runs[0].steps[k].threshold);
    fprintf(out, "\n");
    for (int i = 0; i < r->n; i++) {
        const cnn_energy_accounting *a = &r->runs[i];
        if (!a->target_reached) {
            fprintf(out, "  %3d %11llu      -        -       not reached\n", i + 1, (unsigned long long)r->seeds[i]);
            continue;
        }
        fprintf(out, "  %3d %11llu %6d %8.3f %18s", i + 1, (unsigned long long)r->seeds[i],
                a->evals[a->target_eval].eval.epoch, a->target_time_s,
                cnn_energy_fmt_ju(b, sizeof b, a->target_total_j, a->target_total_u));
        for (int k = 0; k < a->n_steps; k++)
            fprintf(out, " %16s", a->steps[k].reached ? cnn_energy_fmt_ju(b, sizeof b, a->steps[k].marginal_total_j,
                                                                          a->steps[k].marginal_total_u)
                                                      : "-");
        fprintf(out, "\n");
    }
    fprintf(out, "  (step columns: the marginal energy from the previous step, per run)\n");
}

// u: the runs' mean bound (energies; NaN for times and epochs). An energy whose runs' windows are not
// resolved is printed as the interval its mean may lie in, never as bare statistics.
static void print_stat(FILE *out, const char *name, const cnn_stats *st, const char *unit, double u) {
    char b[64];
    if (st->n == 0) {
        fprintf(out, "  %-26s no run reached it\n", name);
        return;
    }
    if (isfinite(u) && !cnn_energy_resolved(st->median, u)) {
        fprintf(out, "  %-26s n %d  mean %s%s: not resolved (each run's window is bounded only to ± %.3g J; "
                     "median, spread and CI not meaningful at this resolution)\n",
                name, st->n, cnn_energy_fmt_ju(b, sizeof b, st->mean, u), unit, u);
        return;
    }
    fprintf(out, "  %-26s n %d  mean %.5g  median %.5g", name, st->n, st->mean, st->median);
    if (st->n > 1)
        fprintf(out, "  stdev %.3g  95%% CI %.5g..%.5g%s", st->stdev, st->ci95_low, st->ci95_high, unit);
    else
        fprintf(out, "%s (one run: no spread)", unit);
    if (isfinite(u)) fprintf(out, "\n    each run's window bounded to ± %.3g J on average (part of the spread)", u);
    fprintf(out, "\n");
}

static void print_energy_mean(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_repeats *r = &res->rep;
    char b[64];
    if (r->n_reached == 0) return;
    fprintf(out, "  energy to target, mean per run: %s J (%s)\n    %s",
            cnn_energy_fmt_ju(b, sizeof b, r->mean_j, r->mean_u), cnn_provenance_name(res->acc.total_prov),
            r->mean_method);
    if (r->all_reached)
        fprintf(out, "\n    (%.4g s, %s J in all; it includes %.3g J between the runs: ending one, starting the "
                     "next)\n", r->span.t1 - r->span.t0,
                cnn_energy_fmt_ju(b, sizeof b, r->span.total_j, r->span.total_u), r->between_j);
    else
        fprintf(out, "\n");
}

static void print_epochs_hist(const cnn_energy_repeats *r, FILE *out) {
    fprintf(out, "  epochs to target:");
    for (int e = 1; e <= r->epochs_hist_max; e++) {
        int c = cnn_energy_repeats_epochs_count(r, e);
        if (c) fprintf(out, " %d epoch%s x%d;", e, e == 1 ? "" : "s", c);
    }
    if (r->n_reached < r->n) fprintf(out, " not reached x%d", r->n - r->n_reached);
    fprintf(out, "\n");
}

static void print_resolution(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_repeats *r = &res->rep;
    const cnn_energy_accounting *a = &r->runs[0];
    if (!a->target_reached) return;
    double rel1 = a->target_total_u / a->target_total_j, reln = r->mean_u / r->mean_j;
    int need = cnn_energy_repeats_needed(a->target_total_j, a->target_total_u, a->target_time_s);
    if (!cnn_energy_resolved(a->target_total_j, a->target_total_u) || rel1 > 0.02)
        fprintf(out, "  one run alone is bounded to %.2g%%; the %d runs together to %.2g%%%s%d repeats would bring it "
                     "under 2%% (windows of >= 10 s in all)\n", 100 * rel1, r->n, 100 * reln,
                reln < 0.02 ? " (under 2%); " : "; ", need);
}

void cnn_energy_print_repeats(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_repeats *r = &res->rep;
    if (r->n < 2) return;
    print_runs(res, out);
    fprintf(out, "\nacross runs (mean, median, sample standard deviation, 95%% confidence interval of the mean, "
                 "Student t):\n");
    double u_run = 0;
    for (int i = 0; i < r->n; i++) u_run += r->runs[i].target_reached ? r->runs[i].target_total_u : 0;
    u_run = r->n_reached ? u_run / r->n_reached : NAN;
    print_stat(out, "time to target", &r->time_s, " s", NAN);
    print_stat(out, "energy to target", &r->energy_j, " J", u_run);
    print_energy_mean(res, out);
    print_resolution(res, out);
    print_stat(out, "epochs to target", &r->epochs, "", NAN);
    print_epochs_hist(r, out);
    for (int k = 0; k < r->runs[0].n_steps; k++) {
        char name[64];
        snprintf(name, sizeof name, "step %g marginal", r->runs[0].steps[k].threshold);
        print_stat(out, name, &r->step_j[k], " J", r->step_u[k]);
    }
    fflush(out);
}
