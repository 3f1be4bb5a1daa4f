// run.json's "repeats" section: every run (seed, epochs, time and energy to
// target with its bound, evaluations, accuracy steps) and the statistics
// across runs (n, mean, median, stdev, ci95_low, ci95_high). Times are
// seconds since each run's own start.
#include <math.h>

#include "core/energy/record/record_json.h"

static void jw_stats(cnn_json_writer *w, const char *key, const cnn_stats *st) {
    cnn_jw_object(w, key);
    cnn_jw_int(w, "n", st->n);
    cnn_jw_number(w, "mean", st->mean);
    cnn_jw_number(w, "median", st->median);
    cnn_jw_number(w, "stdev", st->stdev);
    cnn_jw_number(w, "ci95_low", st->ci95_low);
    cnn_jw_number(w, "ci95_high", st->ci95_high);
    cnn_jw_end_object(w);
}

static void jw_run_curve(cnn_json_writer *w, const cnn_energy_accounting *a) {
    cnn_jw_array(w, "evaluations");
    for (int i = 0; i < a->n_evals; i++) {
        const cnn_energy_eval_row *e = &a->evals[i];
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "epoch", e->eval.epoch);
        cnn_jw_number(w, "elapsed_s", e->t_end);
        cnn_jw_number(w, "test_acc", e->eval.test_acc);
        cnn_jw_number(w, "cumulative_total_j", e->cum_total_j);
        cnn_jw_number(w, "cumulative_total_uncertainty_j", e->cum_total_u);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    cnn_jw_array(w, "accuracy_steps");
    for (int k = 0; k < a->n_steps; k++) {
        const cnn_energy_step_row *st = &a->steps[k];
        cnn_jw_object(w, NULL);
        cnn_jw_number(w, "threshold", st->threshold);
        cnn_jw_bool(w, "reached", st->reached);
        cnn_jw_number(w, "marginal_total_j", st->reached ? st->marginal_total_j : NAN);
        cnn_jw_number(w, "marginal_total_uncertainty_j", st->reached ? st->marginal_total_u : NAN);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
}

static void jw_run(cnn_json_writer *w, const cnn_energy_repeats *r, int i) {
    const cnn_energy_accounting *a = &r->runs[i];
    int ok = a->target_reached;
    cnn_jw_object(w, NULL);
    cnn_jw_int(w, "run", i + 1);
    cnn_jw_int(w, "seed", (long long)r->seeds[i]);
    cnn_jw_bool(w, "reached", ok);
    cnn_jw_int(w, "epochs", ok ? a->evals[a->target_eval].eval.epoch : a->n_epochs);
    cnn_jw_number(w, "time_to_target_s", ok ? a->target_time_s : NAN);
    cnn_jw_number(w, "energy_to_target_j", ok ? a->target_total_j : NAN);
    cnn_jw_number(w, "energy_to_target_uncertainty_j", ok ? a->target_total_u : NAN);
    cnn_jw_bool(w, "energy_resolved", ok && cnn_energy_resolved(a->target_total_j, a->target_total_u));
    cnn_jw_number(w, "t_start_s", a->train.t0 - r->runs[0].train.t0);
    jw_run_curve(w, a);
    cnn_jw_end_object(w);
}

static void jw_summary(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_repeats *r = &res->rep;
    cnn_jw_object(w, "summary");
    cnn_jw_int(w, "runs", r->n);
    cnn_jw_int(w, "reached", r->n_reached);
    jw_stats(w, "time_to_target_s", &r->time_s);
    jw_stats(w, "energy_to_target_j", &r->energy_j);
    cnn_jw_number(w, "energy_to_target_mean_uncertainty_j", r->mean_u);
    cnn_jw_string(w, "energy_to_target_mean_method", r->mean_method);
    cnn_jw_number(w, "span_s", r->span.t1 - r->span.t0);
    cnn_jw_number(w, "span_total_j", r->span.total_j);
    cnn_jw_number(w, "span_total_uncertainty_j", r->span.total_u);
    cnn_jw_number(w, "between_runs_j", r->between_j);
    jw_stats(w, "epochs_to_target", &r->epochs);
    cnn_jw_object(w, "epochs_to_target_counts");
    for (int e = 1; e <= r->epochs_hist_max; e++) {
        char key[16];
        snprintf(key, sizeof key, "%d", e);
        if (cnn_energy_repeats_epochs_count(r, e)) cnn_jw_int(w, key, cnn_energy_repeats_epochs_count(r, e));
    }
    cnn_jw_end_object(w);
    cnn_jw_array(w, "accuracy_steps");
    for (int k = 0; r->n > 0 && k < r->runs[0].n_steps; k++) {
        cnn_jw_object(w, NULL);
        cnn_jw_number(w, "threshold", r->runs[0].steps[k].threshold);
        jw_stats(w, "marginal_total_j", &r->step_j[k]);
        cnn_jw_number(w, "marginal_total_mean_uncertainty_j", r->step_u[k]);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    int need = r->n_reached ? cnn_energy_repeats_needed(r->runs[0].target_total_j, r->runs[0].target_total_u,
                                                        r->runs[0].target_time_s) : -1;
    if (need > 0) cnn_jw_int(w, "repeats_for_2_percent", need);
    else cnn_jw_null(w, "repeats_for_2_percent");
    cnn_jw_string(w, "provenance", cnn_provenance_name(res->acc.total_prov));
    cnn_jw_end_object(w);
}

void cnn_energy_jw_repeats(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_repeats *r = &res->rep;
    cnn_jw_object(w, "repeats");
    cnn_jw_array(w, "runs");
    for (int i = 0; i < r->n; i++) jw_run(w, r, i);
    cnn_jw_end_array(w);
    jw_summary(w, res);
    cnn_jw_end_object(w);
}
