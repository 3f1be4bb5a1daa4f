// gemm-bench --power: the energy a GEMM draws depending on the data it
// multiplies (docs/precision.md, "Data-dependent power").
//
// For each data kind (zeros, ones, random: standard normal, sparse50: normal
// with half the entries zero, mnist: real first-layer activations) and each
// GEMM (our variants and the reference, alternating), runs the same GEMM over
// and over for at least --seconds (2 s: the NVML counter changes every
// ~100 ms), reads the energy counter before and after, and repeats; prints the
// median average watts, J/TFLOP and TFLOP/s with their spread over repeats.
//
// Only a hardware energy counter is used: NVML's total-energy counter for the
// CUDA backend, RAPL for the CPU (--meter=nvml|rapl overrides). Without one it
// says why and exits 1: an estimate is never reported as a measured data
// effect (the cpu-model estimate depends on CPU time, not on the data).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/clock.h"
#include "core/energy/meters/meter.h"
#include "core/rng.h"
#include "datasets/dataset.h"
#include "power.h"

enum { MAX_KINDS = 8, MAX_GEMMS = 8, MAX_REPEAT = 50 };

typedef struct {
    const char *backend, *gemm, *ref, *data, *meter, *data_dir;
    int M, N, K, repeat;
    double seconds;
} power_options;

static int fail_usage(const char *what, const char *arg) {
    fprintf(stderr, "gemm-bench: --power: %s '%s' (see gemm-bench --help)\n", what, arg);
    return 2;
}

// The shortest window allowed: 2 s, unless $CNN_GEMM_BENCH_POWER_MIN_S (tests) lowers it.
static double min_seconds(void) {
    const char *e = getenv("CNN_GEMM_BENCH_POWER_MIN_S");
    return e && atof(e) > 0 ? atof(e) : 2.0;
}

static int parse(int argc, char **argv, power_options *o) {
    *o = (power_options){"cpu", NULL, NULL, "zeros,ones,random,sparse50,mnist", NULL, NULL, 0, 0, 0, 3, 2.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '='), *v = eq ? eq + 1 : "";
        size_t k = eq ? (size_t)(eq - a) : strlen(a);
#define IS(f) (k == strlen(f) && strncmp(a, f, k) == 0)
        if (IS("--power")) continue;
        if (IS("--backend")) o->backend = v;
        else if (IS("--gemm")) o->gemm = v;
        else if (IS("--ref")) o->ref = v;
        else if (IS("--data")) o->data = v;
        else if (IS("--meter")) o->meter = v;
        else if (IS("--data-dir")) o->data_dir = v;
        else if (IS("--shape")) {
            if (sscanf(v, "%dx%dx%d", &o->M, &o->N, &o->K) != 3 || o->M < 1 || o->N < 1 || o->K < 1)
                return fail_usage("--shape must be MxNxK, not", v);
        } else if (IS("--repeat")) {
            o->repeat = atoi(v);
            if (o->repeat < 1 || o->repeat > MAX_REPEAT) return fail_usage("--repeat must be in [1, 50], not", v);
        } else if (IS("--seconds")) {
            o->seconds = atof(v);
            if (!(o->seconds >= min_seconds()))
                return fail_usage("--seconds must be at least 2 (the counter changes every ~100 ms), not", v);
        } else
            return fail_usage("unknown option", a);
#undef IS
    }
    if (strcmp(o->backend, "cpu") && strcmp(o->backend, "cuda")) return fail_usage("--backend is cpu or cuda, not", o->backend);
    const bool cuda = !strcmp(o->backend, "cuda");
    if (!o->meter) o->meter = cuda ? "nvml" : "rapl";
    if (strcmp(o->meter, "nvml") && strcmp(o->meter, "rapl")) return fail_usage("--meter is nvml or rapl, not", o->meter);
    if (!o->ref) o->ref = cuda ? "cublas" : "openblas";
    if (!o->gemm) o->gemm = cuda ? "auto" : "packed";
    if (!o->M) o->M = o->N = o->K = cuda ? 8192 : 1024;
    return -1;
}

// The energy counter, or why there is none (then the note says so).
static cnn_status open_counter(const char *which, cnn_meter *m, char *note, size_t n) {
    note[0] = '\0';
    if (!strcmp(which, "nvml")) {
        cnn_status s = cnn_meter_nvml_open(0, m, note, n);
        if (s != CNN_OK) return s;
        if (m->reads_power) {
            snprintf(note, n, "NVML on %s has no total-energy counter (power samples only, which smooth and miss "
                              "part of the time)", m->info.device);
            cnn_meter_close(m);
            return CNN_ERR_UNSUPPORTED;
        }
        return CNN_OK;
    }
    int k = cnn_meter_rapl_open(cnn_rapl_default_root(), m, 1, note, n);
    return k >= 1 ? CNN_OK : CNN_ERR_UNSUPPORTED;
}

// Fills x (n) with data kind `kind`; mnist: A holds real normalised images
// (pixel/255 - mean)/std one after the other, B He-normal weights (std
// sqrt(2/784)) as the first layer has them at initialisation.
static cnn_status fill(const char *kind, bool is_a, const cnn_dataset *ds, cnn_rng *rng, float *x, size_t n) {
    if (!strcmp(kind, "zeros")) memset(x, 0, n * sizeof *x);
    else if (!strcmp(kind, "ones")) for (size_t i = 0; i < n; i++) x[i] = 1.0f;
    else if (!strcmp(kind, "random")) for (size_t i = 0; i < n; i++) x[i] = (float)cnn_rng_normal(rng);
    else if (!strcmp(kind, "sparse50"))
        for (size_t i = 0; i < n; i++) x[i] = cnn_rng_uniform(rng) < 0.5 ? 0.0f : (float)cnn_rng_normal(rng);
    else if (!strcmp(kind, "mnist")) {
        if (!is_a) {
            for (size_t i = 0; i < n; i++) x[i] = (float)(cnn_rng_normal(rng) * sqrt(2.0 / 784.0));
            return CNN_OK;
        }
        const size_t px = (size_t)ds->train.n * ds->train.rows * ds->train.cols;
        double sum = 0, sq = 0;
        for (size_t i = 0; i < px; i++) sum += ds->train.images[i] / 255.0, sq += (ds->train.images[i] / 255.0) * (ds->train.images[i] / 255.0);
        const double mean = sum / px, sd = sqrt(sq / px - mean * mean);
        for (size_t i = 0; i < n; i++) x[i] = (float)((ds->train.images[i % px] / 255.0 - mean) / sd);
    } else
        return cnn_error(CNN_ERR_INVALID_ARG, "--data: unknown kind '%s'; choose zeros, ones, random, sparse50, mnist",
                         kind);
    return CNN_OK;
}

typedef struct {
    double w[MAX_REPEAT], j_per_tflop[MAX_REPEAT], tflops[MAX_REPEAT];
} cell;

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double med(const double *v, int n, double *lo, double *hi) {
    double s[MAX_REPEAT];
    memcpy(s, v, sizeof(double) * n);
    qsort(s, n, sizeof(double), cmp);
    *lo = s[0], *hi = s[n - 1];
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

// One window: calls of the selected GEMM for at least `seconds`; watts and TFLOP/s.
static cnn_status window(cnn_backend *be, cnn_meter *m, const power_options *o, const float *A, const float *B,
                         float *C, double *watts, double *tflops) {
    double e0, e1;
    CNN_TRY(be->ops->sync(be));
    CNN_TRY(m->read(m, &e0));
    const double t0 = cnn_now_s();
    long calls = 0;
    double t = t0;
    while (t - t0 < o->seconds) {
        for (int i = 0; i < 4; i++, calls++)
            CNN_TRY(cnn_gemm(be, false, false, o->M, o->N, o->K, 1.0f, A, o->K, B, o->N, 0.0f, C, o->N));
        CNN_TRY(be->ops->sync(be));
        t = cnn_now_s();
    }
    CNN_TRY(m->read(m, &e1));
    const double dt = cnn_now_s() - t0;
    *watts = (e1 - e0) / dt;
    *tflops = 2.0 * o->M * o->N * o->K * calls / dt / 1e12;
    return CNN_OK;
}

int power_main(int argc, char **argv) {
    power_options o;
    int code = parse(argc, argv, &o);
    if (code >= 0) return code;
    cnn_meter meter;
    char note[512];
    if (open_counter(o.meter, &meter, note, sizeof note) != CNN_OK) {
        fprintf(stderr,
                "gemm-bench: --power cannot measure here: %s. It needs a hardware energy counter (NVML total energy "
                "on a GPU, RAPL on the CPU); no estimate is reported as a measured data effect\n",
                note[0] ? note : cnn_last_error());
        return 1;
    }
    const char *kinds[MAX_KINDS], *gemms[MAX_GEMMS];
    int nk = 0, ng = 0;
    char kbuf[256], gbuf[256];
    snprintf(kbuf, sizeof kbuf, "%s", o.data);
    snprintf(gbuf, sizeof gbuf, "%s,%s", o.gemm, o.ref);
    for (char *s = NULL, *t = strtok_r(kbuf, ",", &s); t && nk < MAX_KINDS; t = strtok_r(NULL, ",", &s)) kinds[nk++] = t;
    for (char *s = NULL, *t = strtok_r(gbuf, ",", &s); t && ng < MAX_GEMMS; t = strtok_r(NULL, ",", &s)) gemms[ng++] = t;

    cnn_backend *be = NULL;
    cnn_dataset ds;
    bool have_ds = false;
    float *hA = NULL, *hB = NULL;
    void *dA = NULL, *dB = NULL, *dC = NULL;
    static cell cells[MAX_KINDS][MAX_GEMMS];
    const size_t na = (size_t)o.M * o.K, nb = (size_t)o.K * o.N, nc = (size_t)o.M * o.N;
    cnn_status s = cnn_backend_create(o.backend, NULL, 0, 0, &be);
    for (int g = 0; s == CNN_OK && g < ng; g++)
        if (!cnn_backend_find_gemm(be, gemms[g])) s = cnn_backend_select_gemm(be, gemms[g]); // its message
    for (int k = 0; s == CNN_OK && k < nk; k++) {
        if (!strcmp(kinds[k], "mnist") && !have_ds) {
            cnn_dataset_options dopt = {o.data_dir, 0, 1};
            s = cnn_dataset_load("mnist", &dopt, &ds);
            have_ds = s == CNN_OK;
        }
        float probe = 0;
        cnn_rng r0;
        cnn_rng_seed(&r0, 1);
        if (s == CNN_OK && strcmp(kinds[k], "mnist")) s = fill(kinds[k], true, NULL, &r0, &probe, 1);
    }
    if (s == CNN_OK && (!(hA = malloc(na * 4)) || !(hB = malloc(nb * 4))))
        s = cnn_error(CNN_ERR_NOMEM, "out of memory for %dx%dx%d", o.M, o.N, o.K);
    if (s == CNN_OK) s = be->ops->alloc(be, na * 4, &dA);
    if (s == CNN_OK) s = be->ops->alloc(be, nb * 4, &dB);
    if (s == CNN_OK) s = be->ops->alloc(be, nc * 4, &dC);
    if (s == CNN_OK)
        printf("gemm-bench --power: %s backend (%s), %dx%dx%d (NN), meter %s: %s (%s), windows >= %.3g s, %d "
               "repeats, alternating\n",
               be->name, be->device_desc, o.M, o.N, o.K, meter.info.name, meter.info.device,
               cnn_provenance_name(meter.info.prov), o.seconds, o.repeat);
    for (int k = 0; s == CNN_OK && k < nk; k++) {
        cnn_rng rng;
        cnn_rng_seed(&rng, 42);
        s = fill(kinds[k], true, have_ds ? &ds : NULL, &rng, hA, na);
        if (s == CNN_OK) s = fill(kinds[k], false, have_ds ? &ds : NULL, &rng, hB, nb);
        if (s == CNN_OK) s = be->ops->upload(be, hA, dA, na * 4);
        if (s == CNN_OK) s = be->ops->upload(be, hB, dB, nb * 4);
        for (int r = 0; s == CNN_OK && r < o.repeat; r++)
            for (int g = 0; s == CNN_OK && g < ng; g++) {
                s = cnn_backend_select_gemm(be, gemms[g]);
                if (s == CNN_OK && r == 0) // warm up (clocks, caches, first-call setup)
                    s = cnn_gemm(be, false, false, o.M, o.N, o.K, 1.0f, dA, o.K, dB, o.N, 0.0f, dC, o.N);
                double w = 0, tf = 0;
                if (s == CNN_OK) s = window(be, &meter, &o, dA, dB, dC, &w, &tf);
                cells[k][g].w[r] = w, cells[k][g].tflops[r] = tf, cells[k][g].j_per_tflop[r] = tf > 0 ? w / tf : NAN;
            }
    }
    if (s == CNN_OK) {
        printf("%-10s %-16s %22s %22s %18s\n", "data", "gemm", "watts (min-max)", "J/TFLOP (min-max)",
               "TFLOP/s");
        for (int k = 0; k < nk; k++)
            for (int g = 0; g < ng; g++) {
                double wl, wh, jl, jh, tl, th;
                double w = med(cells[k][g].w, o.repeat, &wl, &wh), j = med(cells[k][g].j_per_tflop, o.repeat, &jl, &jh),
                       t = med(cells[k][g].tflops, o.repeat, &tl, &th);
                char a[64], b[64];
                snprintf(a, sizeof a, "%.4g (%.4g-%.4g)", w, wl, wh);
                snprintf(b, sizeof b, "%.4g (%.4g-%.4g)", j, jl, jh);
                printf("%-10s %-16s %22s %22s %18.4g%s\n", kinds[k], gemms[g], a, b, t, g == ng - 1 ? "  (reference)" : "");
            }
        printf("medians over %d windows of >= %.3g s each, measured by %s (%s); the counter's update period is %.3g s\n",
               o.repeat, o.seconds, meter.info.name, cnn_provenance_name(meter.info.prov), meter.info.update_period_s);
    }
    if (s != CNN_OK) fprintf(stderr, "gemm-bench: --power: %s\n", cnn_last_error());
    if (be) {
        if (dA) be->ops->free(be, dA);
        if (dB) be->ops->free(be, dB);
        if (dC) be->ops->free(be, dC);
        cnn_backend_destroy(be);
    }
    if (have_ds) cnn_dataset_free(&ds);
    free(hA), free(hB);
    cnn_meter_close(&meter);
    return s == CNN_OK ? 0 : s == CNN_ERR_INVALID_ARG ? 2 : 1;
}
