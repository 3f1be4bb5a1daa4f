// step-bench: times the training step on each rung of the step's ladder
// (ops, graph, fused: whichever the backend and model allow) for several
// batch sizes, alternating the rungs in the same run, and prints the median
// microseconds per step, the ratio to the fastest rung and images per second,
// with the device's name. A benchmark, never a test: `step-bench --help`.
//
// Data: random 28x28 images and labels (60,000 by default, a Fashion-MNIST
// epoch's worth; the step's time does not depend on the pixel values), or
// a real dataset with --dataset and --data-dir.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/rng.h"
#include "datasets/dataset.h"
#include "models/model.h"
#include "models/train.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };
enum { MAX_BATCHES = 8, MAX_HIDDEN = 8, MAX_ROUNDS = 1000, N_KINDS = 3 };

static const char *usage =
    "usage: step-bench [options]\n"
    "Times the training step on each rung of its ladder (ops: op by op; graph: a\n"
    "replayed CUDA graph; fused: one persistent kernel per launch) that the backend\n"
    "and model allow, for each batch size, the rungs alternating in each round, and\n"
    "prints the median microseconds per step over the rounds (device time: CUDA\n"
    "events, or the host clock after a sync on the CPU).\n"
    "\n"
    "  --backend=cpu|cuda   the backend [cpu]\n"
    "  --gpu=N              the CUDA device [0]\n"
    "  --threads=N          CPU threads, 0 for all [0]\n"
    "  --model=mlp|lenet    the model [mlp]\n"
    "  --hidden=N[,N...]    the MLP's hidden layer sizes [512]\n"
    "  --batches=B[,B...]   batch sizes [64,128,256]\n"
    "  --steps=N            timed steps per sample [200]\n"
    "  --warmup=N           untimed steps before each sample [20]\n"
    "  --rounds=N           samples per rung and batch, alternating the rungs [5]\n"
    "  --examples=N         random training images [60000]\n"
    "  --dataset=NAME       train on a real dataset (mnist, fashion-mnist) instead\n"
    "  --data-dir=DIR       where that dataset's IDX files are\n"
    "  --csv                CSV rows instead of the table\n";

typedef struct {
    const char *backend, *model, *dataset, *data_dir;
    int gpu, threads, hidden[MAX_HIDDEN], n_hidden, batches[MAX_BATCHES], n_batches, rounds;
    long steps, warmup, examples;
    int csv;
} options;

static int usage_error(const char *what, const char *value) {
    fprintf(stderr, "step-bench: %s '%s' (step-bench --help lists the options)\n", what, value);
    return EXIT_USAGE;
}

// A comma-separated list of at most max integers in [lo, hi] into out; the count, or -1.
static int parse_ints(const char *s, int *out, int max, long lo, long hi) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < lo || v > hi || n == max || (*end && *end != ',')) return -1;
        out[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return n > 0 ? n : -1;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o) {
    *o = (options){.backend = "cpu", .model = "mlp", .hidden = {512}, .n_hidden = 1, .batches = {64, 128, 256},
                   .n_batches = 3, .rounds = 5, .steps = 200, .warmup = 20, .examples = 60000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        const char *v = eq ? eq + 1 : "";
        const size_t klen = eq ? (size_t)(eq - a) : strlen(a);
        long l = 0;
#define IS(name) (klen == strlen(name) && strncmp(a, name, klen) == 0)
        if (IS("--help")) {
            fputs(usage, stdout);
            exit(EXIT_OK);
        } else if (IS("--csv")) o->csv = 1;
        else if (!eq) return usage_error("unknown option or missing value", a);
        else if (IS("--backend")) o->backend = v;
        else if (IS("--model")) o->model = v;
        else if (IS("--dataset")) o->dataset = v;
        else if (IS("--data-dir")) o->data_dir = v;
        else if (IS("--gpu")) {
            if (parse_long(v, 0, 1023, &l)) return usage_error("--gpu takes a device number from 0, not", v);
            o->gpu = (int)l;
        } else if (IS("--threads")) {
            if (parse_long(v, 0, CNN_CPU_MAX_THREADS, &l)) return usage_error("--threads takes 0 to 1024, not", v);
            o->threads = (int)l;
        } else if (IS("--hidden")) {
            if ((o->n_hidden = parse_ints(v, o->hidden, MAX_HIDDEN, 1, 65536)) < 0)
                return usage_error("--hidden takes up to 8 sizes in [1, 65536], not", v);
        } else if (IS("--batches")) {
            if ((o->n_batches = parse_ints(v, o->batches, MAX_BATCHES, 1, 65536)) < 0)
                return usage_error("--batches takes up to 8 sizes in [1, 65536], not", v);
        } else if (IS("--steps")) {
            if (parse_long(v, 1, 1000000, &o->steps)) return usage_error("--steps takes 1 to 1000000, not", v);
        } else if (IS("--warmup")) {
            if (parse_long(v, 0, 1000000, &o->warmup)) return usage_error("--warmup takes 0 to 1000000, not", v);
        } else if (IS("--rounds")) {
            if (parse_long(v, 1, MAX_ROUNDS, &l)) return usage_error("--rounds takes 1 to 1000, not", v);
            o->rounds = (int)l;
        } else if (IS("--examples")) {
            if (parse_long(v, 1, 10000000, &o->examples)) return usage_error("--examples takes 1 to 10000000, not", v);
        } else
            return usage_error("unknown option", a);
#undef IS
    }
    return EXIT_OK;
}

// Random 28x28 images and labels (the pixel values do not change the step's time).
static cnn_status random_dataset(long n, cnn_dataset *ds) {
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "random");
    ds->n_classes = 10;
    cnn_split *splits[2] = {&ds->train, &ds->test};
    const long sizes[2] = {n, 1000};
    cnn_rng rng;
    cnn_rng_seed(&rng, 2026);
    for (int k = 0; k < 2; k++) {
        cnn_split *s = splits[k];
        s->n = (int)sizes[k], s->rows = 28, s->cols = 28;
        s->images = malloc((size_t)s->n * 784);
        s->labels = malloc((size_t)s->n);
        if (!s->images || !s->labels) return cnn_error(CNN_ERR_NOMEM, "out of memory making %ld random images", n);
        for (size_t i = 0; i < (size_t)s->n * 784; i++) s->images[i] = (uint8_t)(cnn_rng_u64(&rng) >> 56);
        for (int i = 0; i < s->n; i++) s->labels[i] = (uint8_t)(cnn_rng_u64(&rng) % 10);
    }
    return CNN_OK;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// The median µs per step of each rung (0: the rung is not available), alternating the rungs in each round.
static cnn_status time_batch(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const options *o, int batch,
                             double us[N_KINDS]) {
    static const cnn_step_kind kinds[N_KINDS] = {CNN_STEP_OPS, CNN_STEP_GRAPH, CNN_STEP_FUSED};
    double samples[N_KINDS][MAX_ROUNDS];
    bool ok[N_KINDS];
    for (int k = 0; k < N_KINDS; k++) {
        cnn_step_kind used;
        ok[k] = cnn_step_resolve(be, m, kinds[k], &used) == CNN_OK;
    }
    cnn_train_config cfg = cnn_train_config_default();
    cfg.batch = batch;
    cfg.lr = 0.01f;
    for (int r = 0; r < o->rounds; r++)
        for (int k = 0; k < N_KINDS; k++) {
            if (!ok[k]) continue;
            cfg.step = kinds[k];
            double seconds = 0.0;
            cnn_step_kind used;
            CNN_TRY(cnn_train_time_steps(be, m, ds, &cfg, o->warmup, o->steps, &seconds, &used));
            samples[k][r] = seconds / (double)o->steps * 1e6;
        }
    for (int k = 0; k < N_KINDS; k++) {
        us[k] = 0.0;
        if (!ok[k]) continue;
        qsort(samples[k], (size_t)o->rounds, sizeof(double), cmp_double);
        us[k] = o->rounds % 2 ? samples[k][o->rounds / 2]
                              : 0.5 * (samples[k][o->rounds / 2 - 1] + samples[k][o->rounds / 2]);
    }
    return CNN_OK;
}

static void print_batch(const options *o, const cnn_backend *be, const cnn_model *m, int batch,
                        const double us[N_KINDS]) {
    static const char *names[N_KINDS] = {"ops", "graph", "fused"};
    double best = 0.0;
    for (int k = 0; k < N_KINDS; k++)
        if (us[k] > 0 && (best == 0.0 || us[k] < best)) best = us[k];
    for (int k = 0; k < N_KINDS; k++) {
        if (us[k] <= 0) {
            if (!o->csv) printf("%-24s %6d  %-6s %12s\n", m->desc, batch, names[k], "n/a");
            continue;
        }
        if (o->csv)
            printf("%s,\"%s\",%s,%d,%s,%.3f,%.3f,%.0f\n", be->name, be->device_desc, m->desc, batch, names[k], us[k],
                   us[k] / best, batch / (us[k] * 1e-6));
        else
            printf("%-24s %6d  %-6s %12.2f %10.2f %14.0f\n", m->desc, batch, names[k], us[k], us[k] / best,
                   batch / (us[k] * 1e-6));
    }
}

static int run(const options *o) {
    cnn_dataset ds;
    cnn_status s;
    if (o->dataset) {
        cnn_dataset_options dopt = {o->data_dir, 0, 1};
        s = cnn_dataset_load(o->dataset, &dopt, &ds);
    } else {
        s = random_dataset(o->examples, &ds);
    }
    if (s != CNN_OK) {
        fprintf(stderr, "step-bench: %s\n", cnn_last_error());
        return s == CNN_ERR_INVALID_ARG ? EXIT_USAGE : EXIT_ERROR;
    }
    cnn_backend *be = NULL;
    s = cnn_backend_create(o->backend, NULL, o->threads, o->gpu, &be);
    cnn_model m = {0};
    if (s == CNN_OK)
        s = cnn_model_create(be, o->model, 1, ds.train.rows, ds.train.cols, o->hidden, o->n_hidden, ds.n_classes, 1,
                             &m);
    if (s == CNN_OK) {
        if (o->csv) printf("backend,device,model,batch,step,us_per_step,ratio_to_fastest,images_per_s\n");
        else
            printf("step-bench: %s backend (%s, gemm %s), %s on %s (%d images), %ld steps per sample after %ld "
                   "warm-up, median of %d alternating rounds\n\n%-24s %6s  %-6s %12s %10s %14s\n",
                   be->name, be->device_desc, be->gemm->name, m.desc, ds.name, ds.train.n, o->steps, o->warmup,
                   o->rounds, "model", "batch", "step", "us/step", "/fastest", "images/s");
    }
    for (int b = 0; s == CNN_OK && b < o->n_batches; b++) {
        if (o->batches[b] > ds.train.n) {
            s = cnn_error(CNN_ERR_INVALID_ARG, "batch %d is larger than the %d training images", o->batches[b],
                          ds.train.n);
            break;
        }
        double us[N_KINDS];
        s = time_batch(be, &m, &ds, o, o->batches[b], us);
        if (s == CNN_OK) print_batch(o, be, &m, o->batches[b], us);
    }
    if (be) cnn_model_free(&m, be);
    cnn_backend_destroy(be);
    cnn_dataset_free(&ds);
    if (s != CNN_OK) {
        fprintf(stderr, "step-bench: %s\n", cnn_last_error());
        return s == CNN_ERR_INVALID_ARG ? EXIT_USAGE : EXIT_ERROR;
    }
    return EXIT_OK;
}

int main(int argc, char **argv) {
    options o;
    int r = parse_options(argc, argv, &o);
    if (r != EXIT_OK) return r;
    return run(&o);
}
