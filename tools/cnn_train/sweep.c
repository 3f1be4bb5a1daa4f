// cnn-train sweep DATASET --precision fp32,bf16 --batch 64,128,256 --lr 0.05,0.1
//                 [--repeat N] [--out DIR] [any training or energy option]
//
// Runs every combination of the listed values as the normal training path
// does one run (cli_train in main.c, with the energy hook), each in its own
// directory DIR/<precision>-b<batch>-lr<lr> (with --repeat N, one process
// runs the N repeats: cnn-train --repeat), then reads what each
// run recorded (run.json: reached, epochs, time and energy to target and its
// uncertainty, final accuracy) and writes DIR/sweep.csv and DIR/sweep.json,
// one row per configuration, and prints the table sorted by energy to
// target. A configuration that fails (a bad value, divergence, out of
// memory) is one row with its reason, and the sweep goes on.
// `cnn-train report DIR` draws the sweep (report_sweep.c).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/energy/energy.h"
#include "core/energy/common/json.h"
#include "device.h"
#include "sweep.h"

enum { MAX_VALUES = 16, MAX_ARGS = 256, MAX_ROWS = MAX_VALUES * MAX_VALUES * MAX_VALUES };

typedef struct {
    char name[96];       // fp32-b64-lr0.05
    char precision[16], batch[24], lr[24];
    char dir[1100];      // its run directory (the first repeat's with --repeat)
    const char *status;  // "reached", "not reached", "failed"
    char reason[300];    // why it failed, or ""
    int runs, reached;   // repeats run, and how many reached the target
    int epochs;          // epochs run (the first repeat)
    double time_s, time_sd, energy_j, energy_unc_j, energy_sd, final_acc;
    char provenance[32];
} sweep_row;

// A comma-separated list into at most MAX_VALUES pointers into buf.
static int split_list(const char *option, const char *value, char *buf, size_t n, const char **out) {
    if (!value || !*value || strlen(value) >= n) {
        fprintf(stderr, "cnn-train: sweep: --%s needs a comma-separated list of values\n", option);
        return -1;
    }
    strcpy(buf, value);
    int k = 0;
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p || k == MAX_VALUES) {
            fprintf(stderr, "cnn-train: sweep: --%s '%s': %s\n", option, value,
                    k == MAX_VALUES ? "at most 16 values" : "an empty value");
            return -1;
        }
        out[k++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return k;
}

static cnn_status load_json(const char *path, cnn_json **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            char *t = realloc(text, cap = cap * 2 + 8192);
            if (!t) break;
            text = t;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    if (!text) return cnn_error(CNN_ERR_NOMEM, "out of memory reading %s", path);
    cnn_status s = cnn_json_parse(text, len, out);
    free(text);
    return s;
}

// The energy to target's uncertainty in the functional unit, where the run
// record has one: "total_uncertainty_j", else any member ending in "_uncertainty_j".
static double energy_uncertainty(const cnn_json *fu) {
    double u = cnn_json_num(cnn_json_get(fu, "total_uncertainty_j"));
    if (!isnan(u) || !fu || fu->type != CNN_JSON_OBJECT) return u;
    for (int i = 0; i < fu->n; i++) {
        size_t n = strlen(fu->keys[i]);
        if (n > 14 && strcmp(fu->keys[i] + n - 14, "_uncertainty_j") == 0 && fu->items[i]->type == CNN_JSON_NUMBER)
            return fu->items[i]->number;
    }
    return NAN;
}

// One repeat's results from its run.json; false when there is none (then NaN everywhere).
static bool read_run(const char *dir, int *reached, int *epochs, double *time_s, double *energy_j, double *unc_j,
                     double *final_acc, char *provenance, size_t prov_n) {
    char path[1200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    cnn_json *j = NULL;
    *reached = 0, *epochs = 0, *time_s = *energy_j = *unc_j = *final_acc = NAN;
    if (load_json(path, &j) != CNN_OK) return false;
    const cnn_json *tr = cnn_json_get(j, "training"), *fu = cnn_json_get(j, "functional_unit");
    const cnn_json *rt = cnn_json_get(tr, "reached_target");
    *reached = rt && (rt->type == CNN_JSON_BOOL || rt->type == CNN_JSON_NUMBER) && rt->number == 1.0;
    *epochs = (int)cnn_json_num(cnn_json_get(tr, "epochs"));
    *final_acc = cnn_json_num(cnn_json_get(tr, "final_acc"));
    if (*reached) {
        *time_s = cnn_json_num(cnn_json_get(tr, "time_to_target_s"));
        *energy_j = cnn_json_num(cnn_json_get(fu, "total_j"));
        *unc_j = energy_uncertainty(fu);
    }
    snprintf(provenance, prov_n, "%s", cnn_json_str(cnn_json_get(fu, "provenance"), ""));
    cnn_json_free(j);
    return true;
}

static int make_dir(const char *path) {
    char p[1100];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
            *s = '/';
        }
    return mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

// With --repeat N: the statistics across the runs from run.json's "repeats" section (the mean energy from one
// window spanning the N runs, its uncertainty that window's over N).
static void read_repeats(const char *dir, sweep_row *row) {
    char path[1200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    cnn_json *j = NULL;
    if (load_json(path, &j) != CNN_OK) return;
    const cnn_json *sum = cnn_json_get(cnn_json_get(j, "repeats"), "summary");
    const cnn_json *t = cnn_json_get(sum, "time_to_target_s"), *e = cnn_json_get(sum, "energy_to_target_j");
    row->runs = (int)cnn_json_num(cnn_json_get(sum, "runs"));
    row->reached = (int)cnn_json_num(cnn_json_get(sum, "reached"));
    row->time_s = cnn_json_num(cnn_json_get(t, "mean")), row->time_sd = cnn_json_num(cnn_json_get(t, "stdev"));
    row->energy_j = cnn_json_num(cnn_json_get(e, "mean")), row->energy_sd = cnn_json_num(cnn_json_get(e, "stdev"));
    row->energy_unc_j = cnn_json_num(cnn_json_get(sum, "energy_to_target_mean_uncertainty_j"));
    cnn_json_free(j);
}

// Runs one configuration, its repeats in one process (cnn-train --repeat N: one backend, one energy session,
// the device kept warm), and fills its row from the run record.
static void run_config(sweep_row *row, const char *out, int repeats, char **pass, int n_pass) {
    char dir[1100], prec[64], batch[64], lr[64], outopt[1200], rep[32];
    row->status = "failed";
    snprintf(dir, sizeof dir, "%s/%s", out, row->name);
    snprintf(row->dir, sizeof row->dir, "%s", dir);
    snprintf(prec, sizeof prec, "--precision=%s", row->precision);
    snprintf(batch, sizeof batch, "--batch=%s", row->batch);
    snprintf(lr, sizeof lr, "--lr=%s", row->lr);
    snprintf(outopt, sizeof outopt, "--out=%s", dir);
    snprintf(rep, sizeof rep, "--repeat=%d", repeats);
    char *argv[MAX_ARGS + 8];
    int argc = 0;
    argv[argc++] = "cnn-train";
    for (int i = 0; i < n_pass; i++) argv[argc++] = pass[i];
    argv[argc++] = prec, argv[argc++] = batch, argv[argc++] = lr, argv[argc++] = outopt;
    if (repeats > 1) argv[argc++] = rep;
    printf("\n== sweep: %s%s ==\n", row->name, repeats > 1 ? " (repeats in one process)" : "");
    fflush(stdout);
    cli_options o;
    cli_defaults(&o);
    cnn_energy_options eo;
    cnn_energy_options_default(&eo);
    o.energy = &eo;
    cnn_clear_error();
    int code = cli_parse(argc, argv, 1, &o);
    if (code == 0) code = cli_resolve_device(&o);
    if (code == 0 && make_dir(dir) != 0) code = 1, cnn_error(CNN_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    if (code == 0) code = cli_train(&o, &eo);
    if (code != 0 && code != 3) { // a usage error or a failed run: its message is the reason
        snprintf(row->reason, sizeof row->reason, "%s",
                 cnn_last_error()[0] ? cnn_last_error() : code == 2 ? "usage error" : "error");
        row->runs = 1;
        return;
    }
    int reached, epochs;
    double t, e, u, acc;
    if (!read_run(dir, &reached, &epochs, &t, &e, &u, &acc, row->provenance, sizeof row->provenance))
        snprintf(row->reason, sizeof row->reason, "no run record (the sweep needs the energy hook)");
    row->epochs = epochs, row->final_acc = acc, row->runs = 1, row->reached = reached;
    row->time_s = t, row->energy_j = e, row->energy_unc_j = u, row->time_sd = row->energy_sd = NAN;
    if (repeats > 1) read_repeats(dir, row);
    row->status = row->reached == repeats ? "reached" : "not reached";
    if (row->reached && row->reached < repeats)
        snprintf(row->reason, sizeof row->reason, "reached in %d of %d repeats", row->reached, repeats);
}

// Reached rows by energy to target, then not reached, then failed.
static int rank(const sweep_row *r) { return !strcmp(r->status, "reached") ? 0 : !strcmp(r->status, "failed") ? 2 : 1; }
static int by_energy(const void *pa, const void *pb) {
    const sweep_row *a = pa, *b = pb;
    if (rank(a) != rank(b)) return rank(a) - rank(b);
    double ea = isnan(a->energy_j) ? INFINITY : a->energy_j, eb = isnan(b->energy_j) ? INFINITY : b->energy_j;
    return ea < eb ? -1 : ea > eb ? 1 : 0;
}

static void csv_num(FILE *f, double v) {
    if (isnan(v)) fputc(',', f);
    else fprintf(f, ",%.9g", v); // enough digits to match run.json
}
static void csv_text(FILE *f, const char *s) {
    fputs(",\"", f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

static cnn_status write_outputs(const char *out, const char *dataset, double target, int repeats, const sweep_row *rows,
                                int n) {
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s/sweep.csv", out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "config,precision,batch,lr,status,reason,runs,reached_runs,epochs,time_to_target_s,time_sd_s,"
               "energy_to_target_j,energy_uncertainty_j,energy_sd_j,energy_provenance,final_acc,dir\n");
    for (int i = 0; i < n; i++) {
        const sweep_row *r = &rows[i];
        fprintf(f, "%s,%s,%s,%s,%s", r->name, r->precision, r->batch, r->lr, r->status);
        csv_text(f, r->reason);
        fprintf(f, ",%d,%d,%d", r->runs, r->reached, r->epochs);
        csv_num(f, r->time_s), csv_num(f, r->time_sd), csv_num(f, r->energy_j), csv_num(f, r->energy_unc_j);
        csv_num(f, r->energy_sd);
        fprintf(f, ",%s", r->provenance);
        csv_num(f, r->final_acc);
        csv_text(f, r->dir);
        fputc('\n', f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) return cnn_error(CNN_ERR_IO, "cannot write %s", path);

    snprintf(path, sizeof path, "%s/sweep.json", out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w"))) return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    cnn_json_writer w;
    cnn_jw_init(&w, f);
    cnn_jw_object(&w, NULL);
    cnn_jw_string(&w, "format", "cnn-train sweep");
    cnn_jw_int(&w, "version", 1);
    cnn_jw_string(&w, "dataset", dataset);
    cnn_jw_number(&w, "target_acc", target);
    cnn_jw_int(&w, "repeat", repeats);
    cnn_jw_array(&w, "rows");
    for (int i = 0; i < n; i++) {
        const sweep_row *r = &rows[i];
        cnn_jw_object(&w, NULL);
        cnn_jw_string(&w, "config", r->name);
        cnn_jw_string(&w, "precision", r->precision);
        cnn_jw_number(&w, "batch", atof(r->batch));
        cnn_jw_number(&w, "lr", atof(r->lr));
        cnn_jw_string(&w, "status", r->status);
        cnn_jw_string(&w, "reason", r->reason[0] ? r->reason : NULL);
        cnn_jw_int(&w, "runs", r->runs);
        cnn_jw_int(&w, "reached_runs", r->reached);
        cnn_jw_int(&w, "epochs", r->epochs);
        cnn_jw_number(&w, "time_to_target_s", r->time_s);
        cnn_jw_number(&w, "time_sd_s", r->time_sd);
        cnn_jw_number(&w, "energy_to_target_j", r->energy_j);
        cnn_jw_number(&w, "energy_uncertainty_j", r->energy_unc_j);
        cnn_jw_number(&w, "energy_sd_j", r->energy_sd);
        cnn_jw_string(&w, "energy_provenance", r->provenance[0] ? r->provenance : NULL);
        cnn_jw_number(&w, "final_acc", r->final_acc);
        cnn_jw_string(&w, "dir", r->dir);
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);
    cnn_jw_end_object(&w);
    fputc('\n', f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) return cnn_error(CNN_ERR_IO, "cannot write %s", path);
    return CNN_OK;
}

static void print_table(const sweep_row *rows, int n, double target) {
    printf("\n== sweep: %d configurations, sorted by energy to target", n);
    if (target > 0) printf(" (test accuracy >= %g)", target);
    printf(" ==\n%-24s %-12s %6s %12s %24s %9s  %s\n", "config", "status", "epochs", "time_s", "energy_J (+- unc)",
           "final_acc", "reason");
    for (int i = 0; i < n; i++) {
        const sweep_row *r = &rows[i];
        char energy[64] = "-", time[32] = "-";
        if (!isnan(r->energy_j)) {
            if (!isnan(r->energy_unc_j)) snprintf(energy, sizeof energy, "%.4g +- %.2g", r->energy_j, r->energy_unc_j);
            else snprintf(energy, sizeof energy, "%.4g", r->energy_j);
        }
        if (!isnan(r->time_s)) snprintf(time, sizeof time, "%.3f", r->time_s);
        printf("%-24s %-12s %6d %12s %24s %9.4f  %s\n", r->name, r->status, r->epochs, time, energy, r->final_acc,
               r->reason);
    }
}

static bool takes(const char *arg, const char *name, char **argv, int argc, int *i, const char **value) {
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return false;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return true;
    }
    if (arg[n] != '\0') return false;
    *value = *i + 1 < argc ? argv[++*i] : "";
    return true;
}

int sweep_main(int argc, char **argv) {
    const char *prec_s = "fp32", *batch_s = NULL, *lr_s = NULL, *out_s = NULL, *repeat_s = "1";
    char *pass[MAX_ARGS];
    int n_pass = 0;
    double target = 0;
    const char *dataset = NULL, *model = "mlp";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        if (takes(a, "--precision", argv, argc, &i, &v)) prec_s = v;
        else if (takes(a, "--batch", argv, argc, &i, &v)) batch_s = v;
        else if (takes(a, "--lr", argv, argc, &i, &v)) lr_s = v;
        else if (takes(a, "--out", argv, argc, &i, &v)) out_s = v;
        else if (takes(a, "--repeat", argv, argc, &i, &v)) repeat_s = v;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: cnn-train sweep DATASET [--precision=P,...] [--batch=N,...] [--lr=F,...] [--repeat=N]\n"
                   "                 [--out=DIR] [any training or energy option, e.g. --target-acc=0.96 --epochs=5]\n"
                   "runs every combination, writes DIR/sweep.csv and DIR/sweep.json, prints the table sorted by\n"
                   "energy to target; `cnn-train report DIR` draws it. Defaults: fp32, the dataset's batch and lr.\n");
            return 0;
        } else {
            if (n_pass == MAX_ARGS) {
                fprintf(stderr, "cnn-train: sweep: too many options\n");
                return 2;
            }
            if (takes(a, "--target-acc", argv, argc, &i, &v)) {
                target = atof(v);
                static char buf[64];
                snprintf(buf, sizeof buf, "--target-acc=%s", v);
                pass[n_pass++] = buf;
                continue;
            }
            if (takes(a, "--model", argv, argc, &i, &v)) {
                model = v;
                static char mbuf[64];
                snprintf(mbuf, sizeof mbuf, "--model=%s", v);
                pass[n_pass++] = mbuf;
                continue;
            }
            if (a[0] != '-' && !dataset) dataset = a;
            pass[n_pass++] = argv[i];
        }
    }
    if (!dataset) {
        fprintf(stderr, "cnn-train: sweep: no dataset given; usage: cnn-train sweep DATASET --precision=fp32,bf16 "
                        "--batch=64,128 --lr=0.05 (see cnn-train sweep --help)\n");
        return 2;
    }
    char *end;
    long repeats = strtol(repeat_s, &end, 10);
    if (*end || repeats < 1 || repeats > 64) {
        fprintf(stderr, "cnn-train: sweep: --repeat must be in [1, 64], got '%s'\n", repeat_s);
        return 2;
    }
    cnn_train_config recipe = cnn_train_config_recipe(dataset, model);
    char dflt_batch[24], dflt_lr[24];
    snprintf(dflt_batch, sizeof dflt_batch, "%d", recipe.batch);
    snprintf(dflt_lr, sizeof dflt_lr, "%g", (double)recipe.lr);
    char pb[256], bb[256], lb[256];
    const char *precs[MAX_VALUES], *batches[MAX_VALUES], *lrs[MAX_VALUES];
    int np = split_list("precision", prec_s, pb, sizeof pb, precs);
    int nb = split_list("batch", batch_s ? batch_s : dflt_batch, bb, sizeof bb, batches);
    int nl = split_list("lr", lr_s ? lr_s : dflt_lr, lb, sizeof lb, lrs);
    if (np < 0 || nb < 0 || nl < 0) return 2;

    char out[1024];
    if (out_s && *out_s) snprintf(out, sizeof out, "%s", out_s);
    else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(out, sizeof out, "runs/sweep-%Y%m%dT%H%M%SZ", &tm);
    }
    if (make_dir(out) != 0) {
        fprintf(stderr, "cnn-train: sweep: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    const int n = np * nb * nl;
    sweep_row *rows = calloc((size_t)n, sizeof *rows);
    if (!rows) {
        fprintf(stderr, "cnn-train: sweep: out of memory\n");
        return 1;
    }
    int k = 0;
    for (int p = 0; p < np; p++)
        for (int b = 0; b < nb; b++)
            for (int l = 0; l < nl; l++, k++) {
                sweep_row *r = &rows[k];
                snprintf(r->precision, sizeof r->precision, "%s", precs[p]);
                snprintf(r->batch, sizeof r->batch, "%s", batches[b]);
                snprintf(r->lr, sizeof r->lr, "%s", lrs[l]);
                snprintf(r->name, sizeof r->name, "%s-b%s-lr%s", precs[p], batches[b], lrs[l]);
                for (char *c = r->name; *c; c++) // a safe directory name
                    if (*c == '/' || *c == ' ') *c = '_';
                r->time_s = r->time_sd = r->energy_j = r->energy_unc_j = r->energy_sd = r->final_acc = NAN;
                run_config(r, out, (int)repeats, pass, n_pass);
            }
    qsort(rows, (size_t)n, sizeof *rows, by_energy);
    print_table(rows, n, target);
    cnn_status s = write_outputs(out, dataset, target, (int)repeats, rows, n);
    free(rows);
    if (s != CNN_OK) {
        fprintf(stderr, "cnn-train: sweep: %s\n", cnn_last_error());
        return 1;
    }
    printf("sweep record: %s/sweep.csv, %s/sweep.json; plots: cnn-train report %s\n", out, out, out);
    return 0;
}
