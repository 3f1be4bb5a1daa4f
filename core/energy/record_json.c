// run.json: everything about a run (configuration, hardware, meters, idle
// baseline, windows with their energies and uncertainties, accuracy steps,
// the functional unit, impacts with their factors, the sampler's overhead),
// written section by section. Every per-meter energy map `X_j` has a twin
// `X_uncertainty_j` of the same shape: the half-width, in joules, of the
// interval that must contain the true energy (docs/ENERGY.md).
#include <math.h>
#include <string.h>

#include "core/energy/common/json.h"
#include "core/energy/session.h"

#ifndef CNN_VERSION
#define CNN_VERSION "dev"
#endif

// Seconds since the start of training.
static double rel(const cnn_energy_session *s, double t) { return t - s->acc.train.t0; }

// A per-meter map of values.
static void jw_meter_values(cnn_json_writer *w, const char *key, const cnn_energy_session *s, const double *v) {
    cnn_jw_object(w, key);
    for (int m = 0; m < s->n_meters; m++) cnn_jw_number(w, s->info[m].name, v[m]);
    cnn_jw_end_object(w);
}

// `<base>_j` and `<base>_uncertainty_j` per meter, then `<tbase>_j` and `<tbase>_uncertainty_j` for the total
// (tbase NULL: no total).
static void jw_energy(cnn_json_writer *w, const cnn_energy_session *s, const char *base, const double *j,
                      const double *u, const char *tbase, double tj, double tu) {
    char key[96];
    snprintf(key, sizeof key, "%s_j", base);
    jw_meter_values(w, key, s, j);
    snprintf(key, sizeof key, "%s_uncertainty_j", base);
    jw_meter_values(w, key, s, u);
    if (!tbase) return;
    snprintf(key, sizeof key, "%s_j", tbase);
    cnn_jw_number(w, key, tj);
    snprintf(key, sizeof key, "%s_uncertainty_j", tbase);
    cnn_jw_number(w, key, tu);
}

static void jw_below_res(cnn_json_writer *w, const cnn_energy_session *s, const cnn_energy_window *win) {
    cnn_jw_array(w, "below_resolution");
    for (int m = 0; m < s->n_meters; m++)
        if (win->below_res[m]) cnn_jw_string(w, NULL, s->info[m].name);
    cnn_jw_end_array(w);
}

static void jw_impact3(cnn_json_writer *w, const char *key, cnn_impact3 v) {
    cnn_jw_object(w, key);
    cnn_jw_number(w, "gwp_kgco2eq", v.gwp);
    cnn_jw_number(w, "pe_mj", v.pe);
    cnn_jw_number(w, "adp_kgsbeq", v.adp);
    cnn_jw_end_object(w);
}

static void jw_config(cnn_json_writer *w, const cnn_energy_session *s) {
    cnn_jw_object(w, "config");
    cnn_jw_string(w, "dataset", s->dataset);
    cnn_jw_string(w, "backend", s->loop_backend[0] ? s->loop_backend : s->backend);
    cnn_jw_string(w, "gemm", s->gemm);
    cnn_jw_string(w, "step", s->step);
    cnn_jw_string(w, "model", s->model_desc);
    cnn_jw_string(w, "device", s->device_desc);
    cnn_jw_int(w, "batch", s->cfg.batch);
    cnn_jw_int(w, "max_epochs", s->cfg.max_epochs);
    if (s->cfg.target_acc > 0) cnn_jw_number(w, "target_acc", s->cfg.target_acc);
    else cnn_jw_null(w, "target_acc");
    cnn_jw_int(w, "eval_every", s->cfg.eval_every);
    cnn_jw_number(w, "lr", s->cfg.lr);
    cnn_jw_number(w, "momentum", s->cfg.momentum);
    cnn_jw_number(w, "weight_decay", s->cfg.weight_decay);
    cnn_jw_int(w, "seed", (long long)s->cfg.seed);
    cnn_jw_int(w, "steps_per_epoch", s->steps_per_epoch);
    cnn_jw_int(w, "n_train", s->n_train);
    cnn_jw_int(w, "n_test", s->n_test);
    cnn_jw_end_object(w);

}

static void jw_energy_options(cnn_json_writer *w, const cnn_energy_session *s) {
    cnn_jw_object(w, "energy_options");
    cnn_jw_string(w, "meters", s->opt.meters);
    cnn_jw_int(w, "power_interval_ms", s->opt.power_interval_ms);
    cnn_jw_number(w, "idle_seconds", s->opt.idle_seconds);
    cnn_jw_array(w, "acc_steps");
    for (int k = 0; k < s->n_steps; k++) cnn_jw_number(w, NULL, s->steps[k]);
    cnn_jw_end_array(w);
    cnn_jw_bool(w, "acc_steps_default", s->steps_default);
    cnn_jw_number(w, "pue", s->opt.pue);
    cnn_jw_string(w, "grid_country", s->opt.grid_country[0] ? s->opt.grid_country : NULL);
    if (s->opt.grid_gco2 >= 0) cnn_jw_number(w, "grid_gco2", s->opt.grid_gco2);
    else cnn_jw_null(w, "grid_gco2");
    cnn_jw_number(w, "cpu_tdp_w", s->cpu_tdp_w);
    cnn_jw_number(w, "cpu_idle_w", s->cpu_idle_w);
    cnn_jw_number(w, "aur", s->opt.aur);
    cnn_jw_number(w, "lifetime_years", s->opt.lifetime_years);
    cnn_jw_end_object(w);

}

static void jw_hardware_meters(cnn_json_writer *w, const cnn_energy_session *s) {
    const char *prov = cnn_provenance_name(s->acc.total_prov);
    cnn_jw_object(w, "hardware");
    cnn_jw_string(w, "cpu_model", s->hw.cpu_model);
    cnn_jw_int(w, "logical_cpus", s->hw.logical_cpus);
    cnn_jw_number(w, "ram_gb", s->hw.ram_gb);
    cnn_jw_string(w, "os", s->hw.os);
    cnn_jw_int(w, "gpu_count", s->hw.n_gpus);
    cnn_jw_string(w, "gpu_name", s->hw.n_gpus ? s->hw.gpu_name : NULL);
    cnn_jw_string(w, "gpu_driver", s->hw.n_gpus && s->hw.gpu_driver[0] ? s->hw.gpu_driver : NULL);
    cnn_jw_end_object(w);

    cnn_jw_array(w, "meters");
    for (int m = 0; m < s->n_meters; m++) {
        const cnn_meter_info *mi = &s->info[m];
        const cnn_energy_series *se = cnn_sampler_series(s->sampler, m);
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
    for (int i = 0; i < s->n_notes; i++) cnn_jw_string(w, NULL, s->notes[i]);
    cnn_jw_end_array(w);

}

static void jw_training(cnn_json_writer *w, const cnn_energy_session *s) {
    const cnn_energy_accounting *a = &s->acc;
    cnn_jw_object(w, "training");
    cnn_jw_bool(w, "finished", a->ended);
    cnn_jw_bool(w, "interrupted", s->have_result && s->result.interrupted);
    cnn_jw_number(w, "duration_s", a->train.t1 - a->train.t0);
    cnn_jw_int(w, "epochs", a->n_epochs);
    cnn_jw_int(w, "steps", s->have_result ? s->result.steps : 0);
    cnn_jw_int(w, "evaluations", a->n_evals);
    cnn_jw_bool(w, "reached_target", a->target_reached);
    if (a->target_reached) cnn_jw_number(w, "time_to_target_s", s->fu.time_s); // earlier segments included
    else cnn_jw_null(w, "time_to_target_s");
    cnn_jw_number(w, "final_acc", s->have_result ? s->result.final_acc : NAN);
    cnn_jw_number(w, "best_acc", s->have_result ? s->result.best_acc : NAN);
    cnn_jw_number(w, "final_loss", s->have_result ? s->result.final_loss : NAN);
    cnn_jw_end_object(w);

}

static void jw_impacts(cnn_json_writer *w, const cnn_energy_session *s) {
    cnn_jw_object(w, "impacts");
    cnn_jw_string(w, "provenance", "estimated");
    cnn_jw_string(w, "basis", s->impacts_fu ? "functional unit (energy and time to target)"
                                             : "whole training run (target not reached or none)");
    cnn_jw_string(w, "energy_provenance", cnn_provenance_name(s->fu.prov));
    cnn_jw_number(w, "energy_kwh", s->impacts.energy_kwh);
    cnn_jw_number(w, "time_s", s->impacts.time_s);
    cnn_jw_object(w, "factors");
    cnn_jw_number(w, "pue", s->factors.pue);
    cnn_jw_object(w, "grid");
    cnn_jw_string(w, "code", s->factors.grid_code);
    cnn_jw_string(w, "name", s->factors.grid_name);
    cnn_jw_number(w, "gwp_kgco2eq_per_kwh", s->factors.grid.gwp);
    cnn_jw_number(w, "pe_mj_per_kwh", s->factors.grid.pe);
    cnn_jw_number(w, "adp_kgsbeq_per_kwh", s->factors.grid.adp);
    cnn_jw_string(w, "source", s->factors.grid_source);
    cnn_jw_end_object(w);
    cnn_jw_number(w, "aur", s->factors.aur);
    cnn_jw_number(w, "lifetime_years", s->factors.lifetime_years);
    cnn_jw_number(w, "life_share", s->impacts.life_share);
    cnn_jw_array(w, "embodied");
    for (int i = 0; i < s->factors.n_devices; i++) {
        const cnn_embodied_device *d = &s->factors.devices[i];
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
    jw_impact3(w, "operational", s->impacts.operational);
    jw_impact3(w, "embodied", s->impacts.embodied);
    jw_impact3(w, "total", s->impacts.total);
    cnn_jw_end_object(w);

}

static void jw_idle(cnn_json_writer *w, const cnn_energy_session *s) {
    const cnn_energy_accounting *a = &s->acc;
    cnn_jw_object(w, "idle");
    cnn_jw_bool(w, "measured", a->idle_measured);
    if (a->idle_measured) {
        cnn_jw_number(w, "duration_s", a->idle_s);
        jw_meter_values(w, "power_w", s, a->idle_w);
        jw_meter_values(w, "power_uncertainty_w", s, a->idle_u_w);
        cnn_jw_number(w, "total_power_w", a->idle_total_w);
        cnn_jw_number(w, "total_power_uncertainty_w", a->idle_total_u_w);
        cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
    }
    cnn_energy_jw_idle_source(w, s);
    cnn_jw_end_object(w);
}

static void jw_energy_section(cnn_json_writer *w, const cnn_energy_session *s) {
    const cnn_energy_accounting *a = &s->acc;
    cnn_jw_object(w, "energy");
    cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
    jw_energy(w, s, "per_meter", a->train.j, a->train.u, "total", a->train.total_j, a->train.total_u);
    if (a->idle_measured) {
        jw_energy(w, s, "above_idle_per_meter", a->above_idle_j, a->above_idle_u, "above_idle_total",
                  a->above_idle_total_j, a->above_idle_total_u);
    } else {
        cnn_jw_null(w, "above_idle_per_meter_j");
        cnn_jw_null(w, "above_idle_per_meter_uncertainty_j");
        cnn_jw_null(w, "above_idle_total_j");
        cnn_jw_null(w, "above_idle_total_uncertainty_j");
    }
    jw_energy(w, s, "outside_epochs", a->outside.j, a->outside.u, "outside_epochs_total", a->outside.total_j,
              a->outside.total_u);
    cnn_jw_end_object(w);
}

static void jw_epochs(cnn_json_writer *w, const cnn_energy_session *s) {
    const cnn_energy_accounting *a = &s->acc;
    cnn_jw_array(w, "epochs");
    for (int k = 0; k < a->n_epochs; k++) {
        const cnn_energy_epoch_row *e = &a->epochs[k];
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "epoch", e->epoch);
        cnn_jw_number(w, "t_start_s", rel(s, e->w.t0));
        cnn_jw_number(w, "t_end_s", rel(s, e->w.t1));
        cnn_jw_number(w, "duration_s", e->w.t1 - e->w.t0);
        cnn_jw_number(w, "train_loss", e->has_eval ? e->last_eval.train_loss : NAN);
        cnn_jw_number(w, "test_loss", e->has_eval ? e->last_eval.test_loss : NAN);
        cnn_jw_number(w, "test_acc", e->has_eval ? e->last_eval.test_acc : NAN);
        jw_energy(w, s, "energy", e->w.j, e->w.u, "total", e->w.total_j, e->w.total_u);
        cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
        cnn_jw_number(w, "above_idle_total_j", e->above_idle_total_j);
        cnn_jw_number(w, "above_idle_total_uncertainty_j", e->above_idle_total_u);
        cnn_jw_number(w, "eval_s", e->eval_s);
        cnn_jw_number(w, "eval_total_j", e->eval_total_j);
        cnn_jw_number(w, "eval_total_uncertainty_j", e->eval_total_u);
        jw_below_res(w, s, &e->w);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
}

static void jw_evaluations(cnn_json_writer *w, const cnn_energy_session *s) {
    const cnn_energy_accounting *a = &s->acc;
    cnn_jw_array(w, "evaluations");
    for (int i = 0; i < a->n_evals; i++) {
        const cnn_energy_eval_row *r = &a->evals[i];
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "epoch", r->eval.epoch);
        cnn_jw_int(w, "step", r->eval.step);
        cnn_jw_number(w, "t_start_s", rel(s, r->w.t0));
        cnn_jw_number(w, "t_end_s", rel(s, r->w.t1));
        cnn_jw_number(w, "duration_s", r->w.t1 - r->w.t0);
        cnn_jw_number(w, "test_acc", r->eval.test_acc);
        cnn_jw_number(w, "test_loss", r->eval.test_loss);
        cnn_jw_number(w, "train_loss", r->eval.train_loss);
        jw_energy(w, s, "energy", r->w.j, r->w.u, "total", r->w.total_j, r->w.total_u);
        jw_below_res(w, s, &r->w);
        jw_energy(w, s, "cumulative", r->cum_j, r->cum_u, "cumulative_total", r->cum_total_j, r->cum_total_u);
        cnn_jw_string(w, "provenance", cnn_provenance_name(a->total_prov));
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
}

static void jw_steps(cnn_json_writer *w, const cnn_energy_session *s) {
    const cnn_energy_accounting *a = &s->acc;
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
            jw_energy(w, s, "cumulative", st->cum_j, st->cum_u, "cumulative_total", st->cum_total_j, st->cum_total_u);
            jw_energy(w, s, "marginal", st->marginal_j, st->marginal_u, "marginal_total", st->marginal_total_j,
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

static void jw_functional_unit(cnn_json_writer *w, const cnn_energy_session *s) {
    const cnn_energy_accounting *a = &s->acc;
    cnn_jw_object(w, "functional_unit");
    char desc[320];
    if (s->cfg.target_acc > 0)
        snprintf(desc, sizeof desc, "train %s (%s) to test accuracy >= %g", s->dataset, s->model_desc,
                 s->cfg.target_acc);
    else
        snprintf(desc, sizeof desc, "train %s (%s) for %d epochs (no target)", s->dataset, s->model_desc,
                 s->have_result ? s->result.epochs : a->n_epochs);
    cnn_jw_string(w, "description", desc);
    cnn_jw_bool(w, "reached", a->target_reached);
    cnn_jw_int(w, "segments", s->n_prior + 1); // earlier segments' time and energy are included (segments.c)
    cnn_jw_number(w, "time_s", s->fu.time_s);
    jw_energy(w, s, "energy", s->fu.j, s->fu.u, "total", s->fu.total_j, s->fu.total_u);
    cnn_jw_number(w, "energy_kwh", s->impacts.energy_kwh);
    cnn_jw_string(w, "provenance", cnn_provenance_name(s->fu.prov));
    cnn_jw_end_object(w);
}

static void jw_sampler(cnn_json_writer *w, const cnn_energy_session *s) {
    double train_s = cnn_energy_sampled_training_s(&s->acc, &s->rep);
    cnn_jw_object(w, "sampler");
    cnn_jw_int(w, "interval_ms", s->opt.power_interval_ms);
    cnn_jw_int(w, "reads", s->reads);
    cnn_jw_int(w, "wakeups", s->wakeups);
    cnn_jw_int(w, "marks", s->marks);
    cnn_jw_number(w, "thread_cpu_s", s->thread_cpu_s);
    cnn_jw_number(w, "mark_total_s", s->mark_s);
    cnn_jw_number(w, "mark_mean_us", s->marks ? 1e6 * s->mark_s / (double)s->marks : NAN);
    cnn_jw_number(w, "mark_max_us", 1e6 * s->mark_max_s);
    cnn_jw_number(w, "training_s", train_s);
    cnn_jw_number(w, "sampler_life_s", s->t_stop - s->sampler_t0);
    cnn_jw_number(w, "overhead_pct", cnn_energy_overhead_pct(train_s, s->t_stop - s->sampler_t0, s->thread_cpu_s, s->mark_s));
    cnn_jw_end_object(w);
}

void cnn_energy_fill_run_json(FILE *f, const void *ctx) {
    const cnn_energy_session *s = ctx;
    cnn_json_writer jw, *w = &jw;
    cnn_jw_init(w, f);
    cnn_jw_object(w, NULL);
    cnn_jw_string(w, "format", "cnn-train run record");
    cnn_jw_int(w, "version", 2);
    cnn_jw_string(w, "run_id", s->run_id);
    cnn_jw_string(w, "created_utc", s->created_utc);
    cnn_jw_string(w, "tool", "cnn-train " CNN_VERSION);
    cnn_record_write_files(w, s->files, s->n_files);
    jw_config(w, s);
    jw_energy_options(w, s);
    jw_hardware_meters(w, s);
    jw_idle(w, s);
    jw_training(w, s);
    jw_energy_section(w, s);
    jw_epochs(w, s);
    jw_evaluations(w, s);
    jw_steps(w, s);
    jw_functional_unit(w, s);
    cnn_energy_jw_segments(w, s);
    jw_impacts(w, s);
    jw_sampler(w, s);
    cnn_energy_jw_repeats(w, s);
    cnn_jw_end_object(w);
    fputc('\n', f);
}
