// The run record's CSV files: epochs.csv, power.csv (timestamp, meter,
// watts, joules, provenance) and emissions.csv (CodeCarbon's columns), and
// the order in which the record is written (run.json, by record_json.c,
// last). Each file is written to a temporary name and renamed into place.
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/energy/session.h"

// Seconds since the start of training.
static double rel(const cnn_energy_session *s, double t) { return t - s->acc.train.t0; }

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
        snprintf(col, sizeof col, "%s_uncertainty_j", s->info[m].name);
        fputc(',', f);
        csv_field(f, col);
        snprintf(col, sizeof col, "%s_provenance", s->info[m].name);
        fputc(',', f);
        csv_field(f, col);
    }
    fputs(",total_j,total_uncertainty_j,total_provenance,above_idle_total_j,above_idle_total_uncertainty_j,eval_s,"
          "below_resolution\n",
          f);
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
            csv_num(f, e->w.j[m]);
            fputc(',', f);
            csv_num(f, e->w.u[m]);
            fprintf(f, ",%s", cnn_provenance_name(s->info[m].prov));
        }
        fputc(',', f);
        csv_num(f, e->w.total_j);
        fputc(',', f);
        csv_num(f, e->w.total_u);
        fprintf(f, ",%s,", cnn_provenance_name(a->total_prov));
        csv_num(f, e->above_idle_total_j);
        fputc(',', f);
        csv_num(f, e->above_idle_total_u);
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
            fprintf(f, "%.4f,%s,", rel(s, cnn_sample_time(&se->s[i])), s->info[m].name);
            csv_num(f, se->s[i].w);
            fprintf(f, ",%.6f,%s\n", se->s[i].j, prov);
        }
    }
}

static void fill_emissions_csv(FILE *f, const void *ctx) {
    const cnn_energy_session *s = ctx;
    const cnn_energy_accounting *a = &s->acc;
    const cnn_impacts *imp = &s->run_impacts;
    double dur = a->train.t1 - a->train.t0;
    double e_kwh[3] = {0, 0, 0}; // cpu, gpu, ram
    int tracking_process = 0;
    for (int m = 0; m < s->n_meters; m++) {
        const char *c = s->info[m].component;
        int k = !strcmp(c, "gpu") ? 1 : !strcmp(c, "dram") ? 2 : 0;
        e_kwh[k] += a->train.j[m] / 3.6e6;
        if (s->info[m].prov == CNN_PROV_ESTIMATED) tracking_process = 1;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fputs("timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,"
          "gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
          "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
          "ram_total_size,tracking_mode,on_cloud,pue,energy_provenance\n",
          f);
    fprintf(f, "%s,cnn-train,%s,", stamp, s->run_id);
    csv_num(f, dur);
    fputc(',', f);
    csv_num(f, imp->operational.gwp);
    fputc(',', f);
    csv_num(f, dur > 0 ? imp->operational.gwp / dur : NAN);
    for (int k = 0; k < 3; k++) {
        fputc(',', f);
        csv_num(f, dur > 0 ? e_kwh[k] * 3.6e6 / dur : NAN);
    }
    for (int k = 0; k < 3; k++) {
        fputc(',', f);
        csv_num(f, e_kwh[k]);
    }
    fputc(',', f);
    csv_num(f, imp->energy_kwh);
    fputc(',', f);
    csv_field(f, s->factors.grid_name);
    fprintf(f, ",%s,,,,", s->factors.grid_code);
    csv_field(f, s->hw.os);
    fprintf(f, ",,,%d,", s->hw.logical_cpus);
    csv_field(f, s->hw.cpu_model);
    fprintf(f, ",%d,", s->hw.n_gpus);
    if (s->hw.n_gpus) {
        char g[160];
        snprintf(g, sizeof g, "%d x %s", s->hw.n_gpus, s->hw.gpu_name);
        csv_field(f, g);
    }
    fputs(",,,", f);
    csv_num(f, s->hw.ram_gb);
    fprintf(f, ",%s,,", tracking_process ? "process" : "machine");
    csv_num(f, s->factors.pue);
    fprintf(f, ",%s\n", cnn_provenance_name(a->total_prov));
}

cnn_status cnn_energy_write_record(const cnn_energy_session *s) {
    CNN_TRY(cnn_energy_write_file(s->run_dir, "power.csv", fill_power_csv, s));
    CNN_TRY(cnn_energy_write_file(s->run_dir, "epochs.csv", fill_epochs_csv, s));
    CNN_TRY(cnn_energy_write_file(s->run_dir, "emissions.csv", fill_emissions_csv, s));
    // run.json last: its presence says the record is complete.
    CNN_TRY(cnn_energy_write_file(s->run_dir, "run.json", cnn_energy_fill_run_json, s));
    return CNN_OK;
}
