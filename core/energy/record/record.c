// The run record's CSV files: epochs.csv, power.csv (timestamp, meter,
// watts, joules, provenance) and emissions.csv (CodeCarbon's columns), and
// the order in which the record is written (run.json, by record_json.c,
// last). Each file is written to a temporary name and renamed into place.
#include "core/energy/record/record.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "core/energy/common/files.h"
#include "core/energy/record/emissions_csv.h"
#include "core/energy/record/record_json.h"

// Seconds since the start of training.
static double rel(const cnn_energy_result *res, double t) { return t - res->acc.train.t0; }

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
    const cnn_energy_result *res = ((const cnn_energy_record *)ctx)->res;
    fputs("run,epoch,t_start_s,t_end_s,duration_s,train_loss,test_loss,test_acc", f);
    for (int m = 0; m < res->n_meters; m++) {
        fputc(',', f);
        char col[64];
        snprintf(col, sizeof col, "%s_j", res->info[m].name);
        csv_field(f, col);
        snprintf(col, sizeof col, "%s_uncertainty_j", res->info[m].name);
        fputc(',', f);
        csv_field(f, col);
        snprintf(col, sizeof col, "%s_provenance", res->info[m].name);
        fputc(',', f);
        csv_field(f, col);
    }
    fputs(",total_j,total_uncertainty_j,total_provenance,above_idle_total_j,above_idle_total_uncertainty_j,eval_s,"
          "below_resolution\n",
          f);
    int n_runs = res->rep.n > 0 ? res->rep.n : 1; // --repeat: every run's epochs, numbered from 1 by `run`
    for (int run = 0; run < n_runs; run++) {
    const cnn_energy_accounting *a = res->rep.n > 0 ? &res->rep.runs[run] : &res->acc;
    for (int k = 0; k < a->n_epochs; k++) {
        const cnn_energy_epoch_row *e = &a->epochs[k];
        fprintf(f, "%d,%d,", run + 1, e->epoch);
        csv_num(f, rel(res, e->w.t0));
        fputc(',', f);
        csv_num(f, rel(res, e->w.t1));
        fputc(',', f);
        csv_num(f, e->w.t1 - e->w.t0);
        fputc(',', f);
        csv_num(f, e->has_eval ? e->last_eval.train_loss : NAN);
        fputc(',', f);
        csv_num(f, e->has_eval ? e->last_eval.test_loss : NAN);
        fputc(',', f);
        csv_num(f, e->has_eval ? e->last_eval.test_acc : NAN);
        for (int m = 0; m < res->n_meters; m++) {
            fputc(',', f);
            csv_num(f, e->w.j[m]);
            fputc(',', f);
            csv_num(f, e->w.u[m]);
            fprintf(f, ",%s", cnn_provenance_name(res->info[m].prov));
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
        for (int m = 0; m < res->n_meters; m++) {
            if (!e->w.below_res[m]) continue;
            fprintf(f, "%s%s", first ? "" : ";", res->info[m].name);
            first = 0;
        }
        fputc('\n', f);
    }
    }
}

static void fill_power_csv(FILE *f, const void *ctx) {
    const cnn_energy_result *res = ((const cnn_energy_record *)ctx)->res;
    fputs("timestamp,meter,watts,joules,provenance\n", f);
    for (int m = 0; m < res->n_meters; m++) {
        const cnn_energy_series *se = &res->series[m];
        const char *prov = cnn_provenance_name(res->info[m].prov);
        for (size_t i = 0; i < se->n; i++) {
            fprintf(f, "%.4f,%s,", rel(res, cnn_sample_time(&se->s[i])), res->info[m].name);
            csv_num(f, se->s[i].w);
            fprintf(f, ",%.6f,%s\n", se->s[i].j, prov);
        }
    }
}

// emissions.csv: the result's row, with the record's notes.
static void fill_emissions_csv(FILE *f, const void *ctx) {
    const cnn_energy_record *rec = ctx;
    cnn_energy_emissions_csv(f, rec->res, rec->notes);
}

// Writes one CSV and notes its size and checksum for run.json.
static cnn_status write_summed(cnn_energy_record *rec, const char *name, void (*fill)(FILE *f, const void *ctx)) {
    CNN_TRY(cnn_energy_write_file(rec->res->run_dir, name, fill, rec));
    if (rec->n_files == CNN_RECORD_MAX_FILES) return cnn_error(CNN_ERR_INTERNAL, "too many record files");
    return cnn_record_file_sum(rec->res->run_dir, name, &rec->files[rec->n_files++]);
}

// The CSVs, then run.json naming them.
cnn_status cnn_energy_write_record(const cnn_energy_result *res, cnn_energy_notes *notes) {
    // A rewrite first removes the old run.json: a failure part-way leaves an incomplete record, never an old
    // run.json beside new CSVs. run.json, last, names every other file with its checksum (record_dir.h).
    char path[1200];
    snprintf(path, sizeof path, "%s/run.json", res->run_dir);
    if (unlink(path) != 0 && errno != ENOENT)
        return cnn_error(CNN_ERR_IO, "cannot replace %s: %s", path, strerror(errno));
    cnn_energy_record rec = {.res = res, .notes = notes, .n_files = 0};
    CNN_TRY(write_summed(&rec, "power.csv", fill_power_csv));
    CNN_TRY(write_summed(&rec, "epochs.csv", fill_epochs_csv));
    CNN_TRY(write_summed(&rec, "emissions.csv", fill_emissions_csv));
    CNN_TRY(cnn_energy_write_file(res->run_dir, "run.json", cnn_energy_fill_run_json, &rec));
    return CNN_OK;
}
