// The run record: run.json (everything, with provenance and factors),
// epochs.csv, power.csv (timestamp, meter, watts, joules, provenance) and
// emissions.csv (CodeCarbon's columns). Each file is written to a
// temporary name and renamed into place.
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/energy/emissions_csv.h"
#include "core/energy/json.h"
#include "core/energy/session.h"

#ifndef CNN_VERSION
#define CNN_VERSION "dev"
#endif

// Seconds since the start of training.
static double rel(const cnn_energy_session *s, double t) { return t - s->acc.train.t0; }

// A per-meter energy object; meters flagged below resolution are null when flags is not NULL.
static void jw_meter_values(cnn_json_writer *w, const char *key, const cnn_energy_session *s, const double *j,
                            const int *flags) {
    cnn_jw_object(w, key);
    for (int m = 0; m < s->n_meters; m++) {
        if (flags && flags[m]) cnn_jw_null(w, s->info[m].name);
        else cnn_jw_number(w, s->info[m].name, j[m]);
    }
    cnn_jw_end_object(w);
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

static void fill_run_json(FILE *f, const void *ctx) {
    const cnn_energy_session *s = ctx;
    const cnn_energy_accounting *a = &s->acc;
    const char *prov = cnn_provenance_name(a->total_prov);
    cnn_json_writer w;
    cnn_jw_init(&w, f);
    cnn_jw_object(&w, NULL);
    cnn_jw_string(&w, "format", "cnn-train run record");
    cnn_jw_int(&w, "version", 1);
    cnn_jw_string(&w, "run_id", s->run_id);
    cnn_jw_string(&w, "created_utc", s->created_utc);
    cnn_jw_string(&w, "tool", "cnn-train " CNN_VERSION);

    cnn_jw_object(&w, "config");
    cnn_jw_string(&w, "dataset", s->dataset);
    cnn_jw_string(&w, "backend", s->loop_backend[0] ? s->loop_backend : s->backend);
    cnn_jw_string(&w, "gemm", s->gemm);
    cnn_jw_string(&w, "model", s->model_desc);
    cnn_jw_string(&w, "device", s->device_desc);
    cnn_jw_int(&w, "batch", s->cfg.batch);
    cnn_jw_int(&w, "max_epochs", s->cfg.max_epochs);
    if (s->cfg.target_acc > 0) cnn_jw_number(&w, "target_acc", s->cfg.target_acc);
    else cnn_jw_null(&w, "target_acc");
    cnn_jw_int(&w, "eval_every", s->cfg.eval_every);
    cnn_jw_number(&w, "lr", s->cfg.lr);
    cnn_jw_number(&w, "momentum", s->cfg.momentum);
    cnn_jw_number(&w, "weight_decay", s->cfg.weight_decay);
    cnn_jw_int(&w, "seed", (long long)s->cfg.seed);
    cnn_jw_int(&w, "steps_per_epoch", s->steps_per_epoch);
    cnn_jw_int(&w, "n_train", s->n_train);
    cnn_jw_int(&w, "n_test", s->n_test);
    cnn_jw_end_object(&w);

    cnn_jw_object(&w, "energy_options");
    cnn_jw_string(&w, "meters", s->opt.meters);
    cnn_jw_int(&w, "power_interval_ms", s->opt.power_interval_ms);
    cnn_jw_number(&w, "idle_seconds", s->opt.idle_seconds);
    cnn_jw_array(&w, "acc_steps");
    for (int k = 0; k < s->n_steps; k++) cnn_jw_number(&w, NULL, s->steps[k]);
    cnn_jw_end_array(&w);
    cnn_jw_bool(&w, "acc_steps_default", s->steps_default);
    cnn_jw_number(&w, "pue", s->opt.pue);
    cnn_jw_string(&w, "grid_country", s->opt.grid_country[0] ? s->opt.grid_country : NULL);
    if (s->opt.grid_gco2 >= 0) cnn_jw_number(&w, "grid_gco2", s->opt.grid_gco2);
    else cnn_jw_null(&w, "grid_gco2");
    cnn_jw_number(&w, "cpu_tdp_w", s->cpu_tdp_w);
    cnn_jw_number(&w, "cpu_idle_w", s->cpu_idle_w);
    cnn_jw_number(&w, "aur", s->opt.aur);
    cnn_jw_number(&w, "lifetime_years", s->opt.lifetime_years);
    cnn_jw_end_object(&w);

    cnn_jw_object(&w, "hardware");
    cnn_jw_string(&w, "cpu_model", s->hw.cpu_model);
    cnn_jw_int(&w, "logical_cpus", s->hw.logical_cpus);
    cnn_jw_number(&w, "ram_gb", s->hw.ram_gb);
    cnn_jw_string(&w, "os", s->hw.os);
    cnn_jw_int(&w, "gpu_count", s->hw.n_gpus);
    cnn_jw_string(&w, "gpu_name", s->hw.n_gpus ? s->hw.gpu_name : NULL);
    cnn_jw_string(&w, "gpu_driver", s->hw.n_gpus && s->hw.gpu_driver[0] ? s->hw.gpu_driver : NULL);
    cnn_jw_end_object(&w);

    cnn_jw_array(&w, "meters");
    for (int m = 0; m < s->n_meters; m++) {
        const cnn_meter_info *mi = &s->info[m];
        const cnn_energy_series *se = cnn_sampler_series(s->sampler, m);
        cnn_jw_object(&w, NULL);
        cnn_jw_string(&w, "name", mi->name);
        cnn_jw_string(&w, "component", mi->component);
        cnn_jw_string(&w, "device", mi->device);
        cnn_jw_string(&w, "method", mi->method);
        cnn_jw_string(&w, "provenance", cnn_provenance_name(mi->prov));
        cnn_jw_number(&w, "resolution_j", mi->resolution_j);
        cnn_jw_number(&w, "update_period_s", mi->update_period_s);
        size_t changes = cnn_series_changes(se);
        double span = se->n > 1 ? se->s[se->n - 1].t - se->s[0].t : 0;
        if (changes > 0) cnn_jw_number(&w, "observed_update_s", span / (double)changes);
        else cnn_jw_null(&w, "observed_update_s");
        cnn_jw_int(&w, "samples", (long long)se->n);
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);
    cnn_jw_string(&w, "total_provenance", prov);
    cnn_jw_array(&w, "notes");
    for (int i = 0; i < s->n_notes; i++) cnn_jw_string(&w, NULL, s->notes[i]);
    cnn_jw_end_array(&w);

    cnn_jw_object(&w, "idle");
    cnn_jw_bool(&w, "measured", a->idle_measured);
    if (a->idle_measured) {
        cnn_jw_number(&w, "duration_s", a->idle_s);
        jw_meter_values(&w, "power_w", s, a->idle_w, NULL);
        cnn_jw_number(&w, "total_power_w", a->idle_total_w);
        cnn_jw_string(&w, "provenance", prov);
    }
    cnn_jw_end_object(&w);

    cnn_jw_object(&w, "training");
    cnn_jw_bool(&w, "finished", a->ended);
    cnn_jw_number(&w, "duration_s", a->train.t1 - a->train.t0);
    cnn_jw_int(&w, "epochs", a->n_epochs);
    cnn_jw_int(&w, "steps", s->have_result ? s->result.steps : 0);
    cnn_jw_int(&w, "evaluations", a->n_evals);
    cnn_jw_bool(&w, "reached_target", a->target_reached);
    if (a->target_reached) cnn_jw_number(&w, "time_to_target_s", a->target_time_s);
    else cnn_jw_null(&w, "time_to_target_s");
    cnn_jw_number(&w, "final_acc", s->have_result ? s->result.final_acc : NAN);
    cnn_jw_number(&w, "best_acc", s->have_result ? s->result.best_acc : NAN);
    cnn_jw_number(&w, "final_loss", s->have_result ? s->result.final_loss : NAN);
    cnn_jw_end_object(&w);

    cnn_jw_object(&w, "energy");
    cnn_jw_string(&w, "provenance", prov);
    jw_meter_values(&w, "per_meter_j", s, a->train.j, NULL);
    cnn_jw_number(&w, "total_j", a->train.total_j);
    if (a->idle_measured) jw_meter_values(&w, "above_idle_per_meter_j", s, a->above_idle_j, NULL);
    else cnn_jw_null(&w, "above_idle_per_meter_j");
    cnn_jw_number(&w, "above_idle_total_j", a->above_idle_total_j);
    jw_meter_values(&w, "outside_epochs_j", s, a->outside.j, NULL);
    cnn_jw_number(&w, "outside_epochs_total_j", a->outside.total_j);
    cnn_jw_end_object(&w);

    cnn_jw_array(&w, "epochs");
    for (int k = 0; k < a->n_epochs; k++) {
        const cnn_energy_epoch_row *e = &a->epochs[k];
        cnn_jw_object(&w, NULL);
        cnn_jw_int(&w, "epoch", e->epoch);
        cnn_jw_number(&w, "t_start_s", rel(s, e->w.t0));
        cnn_jw_number(&w, "t_end_s", rel(s, e->w.t1));
        cnn_jw_number(&w, "duration_s", e->w.t1 - e->w.t0);
        cnn_jw_number(&w, "train_loss", e->has_eval ? e->last_eval.train_loss : NAN);
        cnn_jw_number(&w, "test_loss", e->has_eval ? e->last_eval.test_loss : NAN);
        cnn_jw_number(&w, "test_acc", e->has_eval ? e->last_eval.test_acc : NAN);
        jw_meter_values(&w, "energy_j", s, e->w.j, e->w.below_res);
        cnn_jw_number(&w, "total_j", e->w.any_below_res ? NAN : e->w.total_j);
        cnn_jw_string(&w, "provenance", prov);
        cnn_jw_number(&w, "above_idle_total_j", e->w.any_below_res ? NAN : e->above_idle_total_j);
        cnn_jw_number(&w, "eval_s", e->eval_s);
        cnn_jw_number(&w, "eval_total_j", e->eval_total_j);
        jw_below_res(&w, s, &e->w);
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);

    cnn_jw_array(&w, "evaluations");
    for (int i = 0; i < a->n_evals; i++) {
        const cnn_energy_eval_row *r = &a->evals[i];
        cnn_jw_object(&w, NULL);
        cnn_jw_int(&w, "epoch", r->eval.epoch);
        cnn_jw_int(&w, "step", r->eval.step);
        cnn_jw_number(&w, "t_start_s", rel(s, r->w.t0));
        cnn_jw_number(&w, "t_end_s", rel(s, r->w.t1));
        cnn_jw_number(&w, "duration_s", r->w.t1 - r->w.t0);
        cnn_jw_number(&w, "test_acc", r->eval.test_acc);
        cnn_jw_number(&w, "test_loss", r->eval.test_loss);
        cnn_jw_number(&w, "train_loss", r->eval.train_loss);
        jw_meter_values(&w, "energy_j", s, r->w.j, r->w.below_res);
        cnn_jw_number(&w, "total_j", r->w.any_below_res ? NAN : r->w.total_j);
        jw_below_res(&w, s, &r->w);
        jw_meter_values(&w, "cumulative_j", s, r->cum_j, NULL);
        cnn_jw_number(&w, "cumulative_total_j", r->cum_total_j);
        cnn_jw_string(&w, "provenance", prov);
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);

    cnn_jw_array(&w, "accuracy_steps");
    for (int k = 0; k < a->n_steps; k++) {
        const cnn_energy_step_row *st = &a->steps[k];
        cnn_jw_object(&w, NULL);
        cnn_jw_number(&w, "threshold", st->threshold);
        cnn_jw_bool(&w, "reached", st->reached);
        if (st->reached) {
            cnn_jw_int(&w, "epoch", st->eval.epoch);
            cnn_jw_int(&w, "step", st->eval.step);
            cnn_jw_number(&w, "elapsed_s", st->elapsed_s);
            cnn_jw_number(&w, "test_acc", st->eval.test_acc);
            jw_meter_values(&w, "cumulative_j", s, st->cum_j, NULL);
            cnn_jw_number(&w, "cumulative_total_j", st->cum_total_j);
            jw_meter_values(&w, "marginal_j", s, st->marginal_j, NULL);
            cnn_jw_number(&w, "marginal_total_j", st->marginal_total_j);
            cnn_jw_bool(&w, "same_evaluation_as_previous", st->same_eval_as_previous);
            cnn_jw_string(&w, "provenance", prov);
        }
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);
    cnn_jw_object(&w, "last_step");
    if (a->last_step_index >= 0) {
        const cnn_energy_step_row *st = &a->steps[a->last_step_index];
        cnn_jw_number(&w, "threshold", st->threshold);
        cnn_jw_number(&w, "from", a->last_step_index > 0 ? a->steps[a->last_step_index - 1].threshold : 0.0);
        cnn_jw_number(&w, "marginal_total_j", st->marginal_total_j);
        cnn_jw_number(&w, "share_of_energy", a->last_step_share);
        cnn_jw_string(&w, "provenance", prov);
    }
    cnn_jw_end_object(&w);

    cnn_jw_object(&w, "functional_unit");
    char desc[320];
    if (s->cfg.target_acc > 0)
        snprintf(desc, sizeof desc, "train %s (%s) to test accuracy >= %g", s->dataset, s->model_desc,
                 s->cfg.target_acc);
    else
        snprintf(desc, sizeof desc, "train %s (%s) for %d epochs (no target)", s->dataset, s->model_desc,
                 a->n_epochs);
    cnn_jw_string(&w, "description", desc);
    cnn_jw_bool(&w, "reached", a->target_reached);
    cnn_jw_number(&w, "time_s", a->target_reached ? a->target_time_s : a->train.t1 - a->train.t0);
    jw_meter_values(&w, "energy_j", s, a->target_reached ? a->target_j : a->train.j, NULL);
    cnn_jw_number(&w, "total_j", a->target_reached ? a->target_total_j : a->train.total_j);
    cnn_jw_number(&w, "energy_kwh", s->impacts.energy_kwh);
    cnn_jw_string(&w, "provenance", prov);
    cnn_jw_end_object(&w);

    cnn_jw_object(&w, "impacts");
    cnn_jw_string(&w, "provenance", "estimated");
    cnn_jw_string(&w, "basis", s->impacts_fu ? "functional unit (energy and time to target)"
                                             : "whole training run (target not reached or none)");
    cnn_jw_string(&w, "energy_provenance", prov);
    cnn_jw_number(&w, "energy_kwh", s->impacts.energy_kwh);
    cnn_jw_number(&w, "time_s", s->impacts.time_s);
    cnn_jw_object(&w, "factors");
    cnn_jw_number(&w, "pue", s->factors.pue);
    cnn_jw_object(&w, "grid");
    cnn_jw_string(&w, "code", s->factors.grid_code);
    cnn_jw_string(&w, "name", s->factors.grid_name);
    cnn_jw_number(&w, "gwp_kgco2eq_per_kwh", s->factors.grid.gwp);
    cnn_jw_number(&w, "pe_mj_per_kwh", s->factors.grid.pe);
    cnn_jw_number(&w, "adp_kgsbeq_per_kwh", s->factors.grid.adp);
    cnn_jw_string(&w, "source", s->factors.grid_source);
    cnn_jw_end_object(&w);
    cnn_jw_number(&w, "aur", s->factors.aur);
    cnn_jw_number(&w, "lifetime_years", s->factors.lifetime_years);
    cnn_jw_number(&w, "life_share", s->impacts.life_share);
    cnn_jw_array(&w, "embodied");
    for (int i = 0; i < s->factors.n_devices; i++) {
        const cnn_embodied_device *d = &s->factors.devices[i];
        cnn_jw_object(&w, NULL);
        cnn_jw_string(&w, "device", d->name);
        cnn_jw_number(&w, "gwp_kgco2eq", d->embodied.gwp);
        cnn_jw_number(&w, "pe_mj", d->embodied.pe);
        cnn_jw_number(&w, "adp_kgsbeq", d->embodied.adp);
        cnn_jw_number(&w, "share", d->share);
        cnn_jw_string(&w, "source", d->source);
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);
    cnn_jw_end_object(&w);
    jw_impact3(&w, "operational", s->impacts.operational);
    jw_impact3(&w, "embodied", s->impacts.embodied);
    jw_impact3(&w, "total", s->impacts.total);
    cnn_jw_end_object(&w);

    cnn_jw_object(&w, "sampler");
    double train_s = a->train.t1 - a->train.t0;
    cnn_jw_int(&w, "interval_ms", s->opt.power_interval_ms);
    cnn_jw_int(&w, "ticks", s->ticks);
    cnn_jw_int(&w, "marks", s->marks);
    cnn_jw_number(&w, "thread_cpu_s", s->thread_cpu_s);
    cnn_jw_number(&w, "mark_wall_s", s->mark_wall_s);
    cnn_jw_number(&w, "training_s", train_s);
    cnn_jw_number(&w, "overhead_pct", train_s > 0 ? 100.0 * (s->thread_cpu_s + s->mark_wall_s) / train_s : NAN);
    cnn_jw_end_object(&w);
    cnn_jw_end_object(&w);
    fputc('\n', f);
}

// ---- CSV ----

static void csv_field(FILE *f, const char *v) {
    if (!strpbrk(v, ",\"\n\r")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.10g", v);
}

static void fill_epochs_csv(FILE *f, const void *ctx) {
    const cnn_energy_session *s = ctx;
    const cnn_energy_accounting *a = &s->acc;
    fputs("epoch,t_start_s,t_end_s,duration_s,train_loss,test_loss,test_acc", f);
    for (int m = 0; m < s->n_meters; m++) {
        fputc(',', f);
        char col[64];
        snprintf(col, sizeof col, "%s_j", s->info[m].name);
        csv_field(f, col);
        snprintf(col, sizeof col, "%s_provenance", s->info[m].name);
        fputc(',', f);
        csv_field(f, col);
    }
    fputs(",total_j,total_provenance,above_idle_total_j,eval_s,below_resolution\n", f);
    for (int k = 0; k < a->n_epochs; k++) {
        const cnn_energy_epoch_row *e = &a->epochs[k];
        fprintf(f, "%d,", e->epoch);
        csv_num(f, rel(s, e->w.t0));
        fputc(',', f);
        csv_num(f, rel(s, e->w.t1));
        fputc(',', f);
        csv_num(f, e->w.t1 - e->w.t0);
        fputc(',', f);
        csv_num(f, e->has_eval ? e->last_eval.train_loss : NAN);
        fputc(',', f);
        csv_num(f, e->has_eval ? e->last_eval.test_loss : NAN);
        fputc(',', f);
        csv_num(f, e->has_eval ? e->last_eval.test_acc : NAN);
        for (int m = 0; m < s->n_meters; m++) {
            fputc(',', f);
            csv_num(f, e->w.below_res[m] ? NAN : e->w.j[m]);
            fprintf(f, ",%s", cnn_provenance_name(s->info[m].prov));
        }
        fputc(',', f);
        csv_num(f, e->w.any_below_res ? NAN : e->w.total_j);
        fprintf(f, ",%s,", cnn_provenance_name(a->total_prov));
        csv_num(f, e->w.any_below_res ? NAN : e->above_idle_total_j);
        fputc(',', f);
        csv_num(f, e->eval_s);
        fputc(',', f);
        int first = 1;
        for (int m = 0; m < s->n_meters; m++) {
            if (!e->w.below_res[m]) continue;
            fprintf(f, "%s%s", first ? "" : ";", s->info[m].name);
            first = 0;
        }
        fputc('\n', f);
    }
}

static void fill_power_csv(FILE *f, const void *ctx) {
    const cnn_energy_session *s = ctx;
    fputs("timestamp,meter,watts,joules,provenance\n", f);
    for (int m = 0; m < s->n_meters; m++) {
        const cnn_energy_series *se = cnn_sampler_series(s->sampler, m);
        const char *prov = cnn_provenance_name(s->info[m].prov);
        for (size_t i = 0; i < se->n; i++) {
            fprintf(f, "%.4f,%s,", rel(s, se->s[i].t), s->info[m].name);
            csv_num(f, se->s[i].w);
            fprintf(f, ",%.6f,%s\n", se->s[i].j, prov);
        }
    }
}

static void fill_emissions_csv(FILE *f, const void *ctx) { cnn_energy_emissions_csv(f, ctx); }

cnn_status cnn_energy_write_record(const cnn_energy_session *s) {
    CNN_TRY(cnn_energy_write_file(s->run_dir, "power.csv", fill_power_csv, s));
    CNN_TRY(cnn_energy_write_file(s->run_dir, "epochs.csv", fill_epochs_csv, s));
    CNN_TRY(cnn_energy_write_file(s->run_dir, "emissions.csv", fill_emissions_csv, s));
    // run.json last: its presence says the record is complete.
    CNN_TRY(cnn_energy_write_file(s->run_dir, "run.json", fill_run_json, s));
    return CNN_OK;
}
