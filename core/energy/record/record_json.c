// run.json: everything about a run (configuration, hardware, meters, idle
// baseline, windows with their energies and uncertainties, accuracy steps,
// the functional unit, impacts with their factors, the sampler's overhead),
// written section by section. Every per-meter energy map `X_j` has a twin
// `X_uncertainty_j` of the same shape: the half-width, in joules, of the
// interval that must contain the true energy (docs/ENERGY.md).
#include <math.h>
#include <string.h>

#include "core/energy/record/record_json.h"

#ifndef CNN_VERSION
#define CNN_VERSION "dev"
#endif

// Seconds since the start of training.
static double rel(const cnn_energy_result *res, double t) { return t - res->acc.train.t0; }

// A per-meter map of values.
static void jw_meter_values(cnn_json_writer *w, const char *key, const cnn_energy_result *res, const double *v) {
    cnn_jw_object(w, key);
    for (int m = 0; m < res->n_meters; m++) cnn_jw_number(w, res->info[m].name, v[m]);
    cnn_jw_end_object(w);
}

// `<base>_j` and `<base>_uncertainty_j` per meter, then `<tbase>_j` and `<tbase>_uncertainty_j` for the total
// (tbase NULL: no total).
static void jw_energy(cnn_json_writer *w, const cnn_energy_result *res, const char *base, const double *j,
                      const double *u, const char *tbase, double tj, double tu) {
    char key[96];
    snprintf(key, sizeof key, "%s_j", base);
    jw_meter_values(w, key, res, j);
    snprintf(key, sizeof key, "%s_uncertainty_j", base);
    jw_meter_values(w, key, res, u);
    if (!tbase) return;
    snprintf(key, sizeof key, "%s_j", tbase);
    cnn_jw_number(w, key, tj);
    snprintf(key, sizeof key, "%s_uncertainty_j", tbase);
    cnn_jw_number(w, key, tu);
}

static void jw_below_res(cnn_json_writer *w, const cnn_energy_result *res, const cnn_energy_window *win) {
    cnn_jw_array(w, "below_resolution");
    for (int m = 0; m < res->n_meters; m++)
        if (win->below_res[m]) cnn_jw_string(w, NULL, res->info[m].name);
    cnn_jw_end_array(w);
}

static void jw_impact3(cnn_json_writer *w, const char *key, cnn_impact3 v) {
    cnn_jw_object(w, key);
    cnn_jw_number(w, "gwp_kgco2eq", v.gwp);
    cnn_jw_number(w, "pe_mj", v.pe);
    cnn_jw_number(w, "adp_kgsbeq", v.adp);
    cnn_jw_end_object(w);
}

static void jw_config(cnn_json_writer *w, const cnn_energy_result *res) {
    cnn_jw_object(w, "config");
    cnn_jw_string(w, "dataset", res->dataset);
    cnn_jw_string(w, "backend", res->loop_backend[0] ? res->loop_backend : res->backend);
    cnn_jw_string(w, "gemm", res->gemm);
    cnn_jw_string(w, "step", res->step);
    cnn_jw_string(w, "model", res->model_desc);
    cnn_jw_string(w, "device", res->device_desc);
    cnn_jw_int(w, "batch", res->cfg.batch);
    cnn_jw_int(w, "max_epochs", res->cfg.max_epochs);
    if (res->cfg.target_acc > 0) cnn_jw_number(w, "target_acc", res->cfg.target_acc);
    else cnn_jw_null(w, "target_acc");
    cnn_jw_int(w, "eval_every", res->cfg.eval_every);
    cnn_jw_number(w, "lr", res->cfg.lr);
    cnn_jw_number(w, "momentum", res->cfg.momentum);
    cnn_jw_number(w, "weight_decay", res->cfg.weight_decay);
    cnn_jw_int(w, "seed", (long long)res->cfg.seed);
    cnn_jw_int(w, "steps_per_epoch", res->steps_per_epoch);
    cnn_jw_int(w, "n_train", res->n_train);
    cnn_jw_int(w, "n_test", res->n_test);
    cnn_jw_end_object(w);

}

static void jw_energy_options(cnn_json_writer *w, const cnn_energy_result *res) {
    cnn_jw_object(w, "energy_options");
    cnn_jw_string(w, "meters", res->opt.meters);
    cnn_jw_int(w, "power_interval_ms", res->opt.power_interval_ms);
    cnn_jw_number(w, "idle_seconds", res->opt.idle_seconds);
    cnn_jw_array(w, "acc_steps");
    for (int k = 0; k < res->n_steps; k++) cnn_jw_number(w, NULL, res->steps[k]);
    cnn_jw_end_array(w);
    cnn_jw_bool(w, "acc_steps_default", res->steps_default);
    cnn_jw_number(w, "pue", res->opt.pue);
    cnn_jw_string(w, "grid_country", res->opt.grid_country[0] ? res->opt.grid_country : NULL);
    if (res->opt.grid_gco2 >= 0) cnn_jw_number(w, "grid_gco2", res->opt.grid_gco2);
    else cnn_jw_null(w, "grid_gco2");
    cnn_jw_number(w, "cpu_tdp_w", res->cpu_tdp_w);
    cnn_jw_number(w, "cpu_idle_w", res->cpu_idle_w);
    cnn_jw_number(w, "aur", res->opt.aur);
    cnn_jw_number(w, "lifetime_years", res->opt.lifetime_years);
    cnn_jw_end_object(w);

}

static void jw_hardware_meters(cnn_json_writer *w, const cnn_energy_result *res, const cnn_energy_notes *notes) {
    const char *prov = cnn_provenance_name(res->acc.total_prov);
    cnn_jw_object(w, "hardware");
    cnn_jw_string(w, "cpu_model", res->hw.cpu_model);
    cnn_jw_int(w, "logical_cpus", res->hw.logical_cpus);
    cnn_jw_number(w, "ram_gb", res->hw.ram_gb);
    cnn_jw_string(w, "os", res->hw.os);
    cnn_jw_int(w, "gpu_count", res->hw.n_gpus);
    cnn_jw_string(w, "gpu_name", res->hw.n_gpus ? res->hw.gpu_name : NULL);
    cnn_jw_string(w, "gpu_driver", res->hw.n_gpus && res->hw.gpu_driver[0] ? res->hw.gpu_driver : NULL);
    cnn_jw_end_object(w);

    cnn_jw_array(w, "meters");
    for (int m = 0; m < res->n_meters; m++) {
        const cnn_meter_info *mi = &res->info[m];
        const cnn_energy_series *se = &res->series[m];
        cnn_jw_object(w, NULL);
        cnn_jw_string(w, "name", mi->name);
        cnn_jw_string(w, "component", mi->component);
        cnn_jw_string(w, "device", mi->device);
        cnn_jw_string(w, "method", mi->method);
        cnn_jw_string(w, "provenance", cnn_provenance_name(mi->prov));
        cnn_jw_number(w, "resolution_j", mi->resolution_j);
        cnn_jw_number(w, "update_period_s", mi->update_period_s);
        size_t changes = cnn_series_changes(se);
        double span = se->n > 1 ? se->s[se->n - 1].t - se->s[0].t : 0;
        if (changes > 0) cnn_jw_number(w, "observed_update_s", span / (double)changes);
        else cnn_jw_null(w, "observed_update_s");
        cnn_jw_int(w, "samples", (long long)se->n);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    cnn_jw_string(w, "total_provenance", prov);
    cnn_jw_array(w, "notes");
    for (int i = 0; i < notes->n; i++) cnn_jw_string(w, NULL, notes->text[i]);
    cnn_jw_end_array(w);

}

static void jw_training(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_accounting *a = &res->acc;
    cnn_jw_object(w, "training");
    cnn_jw_bool(w, "finished", a->ended);
    cnn_jw_bool(w, "interrupted", res->have_result && res->result.interrupted);
    cnn_jw_bool(w, "diverged", res->have_result && res->result.diverged_step > 0);
    if (res->have_result && res->result.diverged_step > 0) cnn_jw_int(w, "diverged_step", res->result.diverged_step);
    else cnn_jw_null(w, "diverged_step");
    cnn_jw_number(w, "duration_s", a->train.t1 - a->train.t0);
    cnn_jw_int(w, "epochs", a->n_epochs);
    cnn_jw_int(w, "steps", res->have_result ? res->result.steps : 0);
    cnn_jw_int(w, "evaluations", a->n_evals);
    cnn_jw_bool(w, "reached_target", a->target_reached);
    if (a->target_reached) cnn_jw_number(w, "time_to_target_s", res->fu.time_s); // earlier segments included
    else cnn_jw_null(w, "time_to_target_s");
    const int evaluated = res->have_result && res->result.n_evals > 0; // else no accuracy is known: null
    cnn_jw_number(w, "final_acc", evaluated ? res->result.final_acc : NAN);
    cnn_jw_number(w, "best_acc", evaluated ? res->result.best_acc : NAN);
    cnn_jw_number(w, "final_loss", evaluated ? res->result.final_loss : NAN);
    cnn_jw_end_object(w);

}

static void jw_impacts(cnn_json_writer *w, const cnn_energy_result *res) {
    cnn_jw_object(w, "impacts");
    cnn_jw_string(w, "provenance", "estimated");
    cnn_jw_string(w, "basis", res->impacts_fu ? "functional unit (energy and time to target)"
                                             : "whole training run (target not reached or none)");
    cnn_jw_string(w, "energy_provenance", cnn_provenance_name(res->fu.prov));
    cnn_jw_number(w, "energy_kwh", res->impacts.energy_kwh);
    cnn_jw_number(w, "time_s", res->impacts.time_s);
    cnn_jw_object(w, "factors");
    cnn_jw_number(w, "pue", res->factors.pue);
    cnn_jw_object(w, "grid");
    cnn_jw_string(w, "code", res->factors.grid_code);
    cnn_jw_string(w, "name", res->factors.grid_name);
    cnn_jw_number(w, "gwp_kgco2eq_per_kwh", res->factors.grid.gwp);
    cnn_jw_number(w, "pe_mj_per_kwh", res->factors.grid.pe);
    cnn_jw_number(w, "adp_kgsbeq_per_kwh", res->factors.grid.adp);
    cnn_jw_string(w, "source", res->factors.grid_source);
    cnn_jw_end_object(w);
    cnn_jw_number(w, "aur", res->factors.aur);
    cnn_jw_number(w, "lifetime_years", res->factors.lifetime_years);
    cnn_jw_number(w, "life_share", res->impacts.life_share);
    cnn_jw_array(w, "embodied");
    for (int i = 0; i < res->factors.n_devices; i++) {
        const cnn_embodied_device *d = &res->factors.devices[i];
        cnn_jw_object(w, NULL);
        cnn_jw_string(w, "device", d->name);
        cnn_jw_number(w, "gwp_kgco2eq", d->embodied.gwp);
        cnn_jw_number(w, "pe_mj", d->embodied.pe);
        cnn_jw_number(w, "adp_kgsbeq", d->embodied.adp);
        cnn_jw_number(w, "share", d->share);
        cnn_jw_string(w, "source", d->source);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    cnn_jw_end_object(w);
    jw_impact3(w, "operational", res->impacts.operational);
    jw_impact3(w, "embodied", res->impacts.embodied);
    jw_impact3(w, "total", res->impacts.total);
    cnn_jw_end_object(w);

}

// How the idle baseline was obtained, and the device-open idle.
static void jw_idle_source(cnn_json_writer *w, const cnn_energy_result *res) {
    cnn_jw_string(w, "source", res->idle_source);
    cnn_jw_string(w, "of", "the machine, before the backend opened the device");
    cnn_jw_string(w, "cached_from_utc", res->idle_cached ? res->idle_cached_utc : NULL);
    if (res->idle_cached) cnn_jw_number(w, "cache_age_s", res->idle_cache_age_s);
    else cnn_jw_null(w, "cache_age_s");
    cnn_jw_string(w, "cache_file", res->idle_cache_path[0] ? res->idle_cache_path : NULL);
    cnn_jw_string(w, "above_idle_subtracts", res->acc.idle_measured ? "the machine's idle (before the device was opened)"
                                                                   : NULL);
    cnn_jw_object(w, "device_open_power_w");
    for (int m = 0; res->ctx_known && m < res->n_meters; m++) cnn_jw_number(w, res->info[m].name, res->ctx_w[m]);
    cnn_jw_end_object(w);
    cnn_jw_object(w, "device_open_power_uncertainty_w");
    for (int m = 0; res->ctx_known && m < res->n_meters; m++) cnn_jw_number(w, res->info[m].name, res->ctx_u[m]);
    cnn_jw_end_object(w);
    double t = 0;
    for (int m = 0; m < res->n_meters; m++) t += res->ctx_w[m];
    cnn_jw_number(w, "device_open_total_power_w", res->ctx_known ? t : NAN);
}

static void jw_idle(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_accounting *a = &res->acc;
    cnn_jw_object(w, "idle");
    cnn_jw_bool(w, "measured", a->idle_measured);
    if (a->idle_measured) {
        cnn_jw_number(w, "duration_s", a->idle_s);
        jw_meter_values(w, "power_w", res, a->idle_w);
        jw_meter_values(w, "power_uncertainty_w", res, a->idle_u_w);
        cnn_jw_number(w, "total_power_w", a->idle_total_w);
        cnn_jw_number(w, "total_power_uncertainty_w", a->idle_total_u_w);
        cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
    }
    jw_idle_source(w, res);
    cnn_jw_end_object(w);
}

static void jw_energy_section(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_accounting *a = &res->acc;
    cnn_jw_object(w, "energy");
    cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
    jw_energy(w, res, "per_meter", a->train.j, a->train.u, "total", a->train.total_j, a->train.total_u);
    if (a->idle_measured) {
        jw_energy(w, res, "above_idle_per_meter", a->above_idle_j, a->above_idle_u, "above_idle_total",
                  a->above_idle_total_j, a->above_idle_total_u);
    } else {
        cnn_jw_null(w, "above_idle_per_meter_j");
        cnn_jw_null(w, "above_idle_per_meter_uncertainty_j");
        cnn_jw_null(w, "above_idle_total_j");
        cnn_jw_null(w, "above_idle_total_uncertainty_j");
    }
    jw_energy(w, res, "outside_epochs", a->outside.j, a->outside.u, "outside_epochs_total", a->outside.total_j,
              a->outside.total_u);
    cnn_jw_end_object(w);
}

static void jw_epochs(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_accounting *a = &res->acc;
    cnn_jw_array(w, "epochs");
    for (int k = 0; k < a->n_epochs; k++) {
        const cnn_energy_epoch_row *e = &a->epochs[k];
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "epoch", e->epoch);
        cnn_jw_number(w, "t_start_s", rel(res, e->w.t0));
        cnn_jw_number(w, "t_end_s", rel(res, e->w.t1));
        cnn_jw_number(w, "duration_s", e->w.t1 - e->w.t0);
        cnn_jw_number(w, "train_loss", e->has_eval ? e->last_eval.train_loss : NAN);
        cnn_jw_number(w, "test_loss", e->has_eval ? e->last_eval.test_loss : NAN);
        cnn_jw_number(w, "test_acc", e->has_eval ? e->last_eval.test_acc : NAN);
        jw_energy(w, res, "energy", e->w.j, e->w.u, "total", e->w.total_j, e->w.total_u);
        cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
        cnn_jw_number(w, "above_idle_total_j", e->above_idle_total_j);
        cnn_jw_number(w, "above_idle_total_uncertainty_j", e->above_idle_total_u);
        cnn_jw_number(w, "eval_s", e->eval_s);
        cnn_jw_number(w, "eval_total_j", e->eval_total_j);
        cnn_jw_number(w, "eval_total_uncertainty_j", e->eval_total_u);
        jw_below_res(w, res, &e->w);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
}

static void jw_evaluations(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_accounting *a = &res->acc;
    cnn_jw_array(w, "evaluations");
    for (int i = 0; i < a->n_evals; i++) {
        const cnn_energy_eval_row *r = &a->evals[i];
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "epoch", r->eval.epoch);
        cnn_jw_int(w, "step", r->eval.step);
        cnn_jw_number(w, "t_start_s", rel(res, r->w.t0));
        cnn_jw_number(w, "t_end_s", rel(res, r->w.t1));
        cnn_jw_number(w, "duration_s", r->w.t1 - r->w.t0);
        cnn_jw_number(w, "test_acc", r->eval.test_acc);
        cnn_jw_number(w, "test_loss", r->eval.test_loss);
        cnn_jw_number(w, "train_loss", r->eval.train_loss);
        jw_energy(w, res, "energy", r->w.j, r->w.u, "total", r->w.total_j, r->w.total_u);
        jw_below_res(w, res, &r->w);
        jw_energy(w, res, "cumulative", r->cum_j, r->cum_u, "cumulative_total", r->cum_total_j, r->cum_total_u);
        cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
}

static void jw_steps(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_accounting *a = &res->acc;
    const char *prov = cnn_provenance_name(a->total_prov);
    cnn_jw_array(w, "accuracy_steps");
    for (int k = 0; k < a->n_steps; k++) {
        const cnn_energy_step_row *st = &a->steps[k];
        cnn_jw_object(w, NULL);
        cnn_jw_number(w, "threshold", st->threshold);
        cnn_jw_bool(w, "reached", st->reached);
        if (st->reached) {
            cnn_jw_int(w, "epoch", st->eval.epoch);
            cnn_jw_int(w, "step", st->eval.step);
            cnn_jw_number(w, "elapsed_s", st->elapsed_s);
            cnn_jw_number(w, "test_acc", st->eval.test_acc);
            jw_energy(w, res, "cumulative", st->cum_j, st->cum_u, "cumulative_total", st->cum_total_j, st->cum_total_u);
            jw_energy(w, res, "marginal", st->marginal_j, st->marginal_u, "marginal_total", st->marginal_total_j,
                      st->marginal_total_u);
            cnn_jw_bool(w, "same_evaluation_as_previous", st->same_eval_as_previous);
            cnn_jw_string(w, "provenance", prov);
        }
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    cnn_jw_object(w, "last_step");
    if (a->last_step_index >= 0) {
        const cnn_energy_step_row *st = &a->steps[a->last_step_index];
        cnn_jw_number(w, "threshold", st->threshold);
        cnn_jw_number(w, "from", a->last_step_index > 0 ? a->steps[a->last_step_index - 1].threshold : 0.0);
        cnn_jw_number(w, "marginal_total_j", st->marginal_total_j);
        cnn_jw_number(w, "marginal_total_uncertainty_j", st->marginal_total_u);
        cnn_jw_number(w, "share_of_energy", a->last_step_share);
        cnn_jw_number(w, "share_of_energy_uncertainty", a->last_step_share_u);
        cnn_jw_string(w, "provenance", prov);
    }
    cnn_jw_end_object(w);
}

static void jw_functional_unit(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_accounting *a = &res->acc;
    cnn_jw_object(w, "functional_unit");
    char desc[320];
    if (res->cfg.target_acc > 0)
        snprintf(desc, sizeof desc, "train %s (%s) to test accuracy >= %g", res->dataset, res->model_desc,
                 res->cfg.target_acc);
    else
        snprintf(desc, sizeof desc, "train %s (%s) for %d epochs (no target)", res->dataset, res->model_desc,
                 res->have_result ? res->result.epochs : a->n_epochs);
    cnn_jw_string(w, "description", desc);
    cnn_jw_bool(w, "reached", a->target_reached);
    cnn_jw_int(w, "segments", res->n_prior + 1); // earlier segments' time and energy are included (accounting/segments.c)
    cnn_jw_number(w, "time_s", res->fu.time_s);
    jw_energy(w, res, "energy", res->fu.j, res->fu.u, "total", res->fu.total_j, res->fu.total_u);
    cnn_jw_number(w, "energy_kwh", res->impacts.energy_kwh);
    cnn_jw_string(w, "provenance", cnn_provenance_name(res->fu.prov));
    cnn_jw_end_object(w);
}

static void jw_sampler(cnn_json_writer *w, const cnn_energy_result *res) {
    cnn_jw_object(w, "sampler");
    cnn_jw_int(w, "interval_ms", res->opt.power_interval_ms);
    cnn_jw_int(w, "reads", res->reads);
    cnn_jw_int(w, "wakeups", res->wakeups);
    cnn_jw_int(w, "marks", res->marks);
    cnn_jw_number(w, "thread_cpu_s", res->thread_cpu_s);
    cnn_jw_number(w, "mark_total_s", res->mark_s);
    cnn_jw_number(w, "mark_mean_us", res->marks ? 1e6 * res->mark_s / (double)res->marks : NAN);
    cnn_jw_number(w, "mark_max_us", 1e6 * res->mark_max_s);
    cnn_jw_number(w, "training_s", res->training_s);
    cnn_jw_number(w, "sampler_life_s", res->t_stop - res->sampler_t0);
    cnn_jw_number(w, "overhead_pct", res->overhead_pct);
    cnn_jw_end_object(w);
}

void cnn_energy_fill_run_json(FILE *f, const void *ctx) {
    const cnn_energy_record *rec = ctx;
    const cnn_energy_result *res = rec->res;
    cnn_json_writer jw, *w = &jw;
    cnn_jw_init(w, f);
    cnn_jw_object(w, NULL);
    cnn_jw_string(w, "format", "cnn-train run record");
    cnn_jw_int(w, "version", 2);
    cnn_jw_string(w, "run_id", res->run_id);
    cnn_jw_string(w, "created_utc", res->created_utc);
    cnn_jw_string(w, "tool", "cnn-train " CNN_VERSION);
    cnn_record_write_files(w, rec->files, rec->n_files);
    jw_config(w, res);
    jw_energy_options(w, res);
    jw_hardware_meters(w, res, rec->notes);
    jw_idle(w, res);
    jw_training(w, res);
    jw_energy_section(w, res);
    jw_epochs(w, res);
    jw_evaluations(w, res);
    jw_steps(w, res);
    jw_functional_unit(w, res);
    cnn_energy_jw_segments(w, res);
    cnn_energy_jw_world(w, res);
    jw_impacts(w, res);
    jw_sampler(w, res);
    cnn_energy_jw_repeats(w, res);
    cnn_jw_end_object(w);
    fputc('\n', f);
}
