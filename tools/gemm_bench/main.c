// gemm-bench: validates and times a backend's GEMM variants against a
// reference GEMM (OpenBLAS on the CPU, cuBLAS on CUDA), alternating the two
// in the same run, and reports GFLOP/s, the ratio to the reference, % of
// the machine's measured peak and the roofline bound. `gemm-bench --help`.
//
// It talks to the backend only through the vtable (alloc, upload,
// download, sync, cnn_gemm), so the same code measures any backend.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/cpu/gemm.h"
#include "bench.h"
#include "power.h"
#include "core/backend.h"
#include "core/clock.h"
#include "core/rng.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };
enum { MAX_SHAPES = 64, MAX_VARIANTS = 32, MAX_HIDDEN = 16, MAX_REPEAT = 1000, MAX_THREADS = 1024 };

static const char *usage =
    "usage: gemm-bench [options]\n"
    "Validates each GEMM variant against a double-precision reference, then times it\n"
    "and the reference alternately (same run, after warm-up) and reports the median\n"
    "GFLOP/s of each, the median of their ratio, %% of this machine's peak (an FMA\n"
    "throughput probe) and the roofline bound (arithmetic intensity x measured memory\n"
    "bandwidth, capped by the peak).\n"
    "\n"
    "  --backend=cpu|cuda      the backend (default cpu)\n"
    "  --gemm=LIST|all         variants to measure, comma-separated (default all but the reference)\n"
    "  --ref=NAME              the reference (default openblas on cpu, cublas on cuda)\n"
    "  --shapes=LIST           comma-separated: mlp (one training step's GEMMs), square\n"
    "                          (1024^3, 2048^3, 4096^3) or MxNxK with an optional\n"
    "                          :NN, :NT, :TN or :TT for transa/transb (default mlp); each\n"
    "                          size 1 to 2147483647, and a shape's buffers must fit in\n"
    "                          the memory available (MemAvailable)\n"
    "  --batch=B               batch size of the mlp shapes (default 128)\n"
    "  --hidden=LIST           the MLP's hidden layers, e.g. 512 or 512,256 (default 512);\n"
    "                          input 784, 10 classes\n"
    "  --threads=N             threads for our OpenMP and OpenBLAS, 1 to 1024 (default 0:\n"
    "                          all cores)\n"
    "  --repeat=R              timed samples of each (default 7)\n"
    "  --min-time=S            seconds per timed sample at least (default 0.02); on the CPU a\n"
    "                          sample is the median of its calls' times (robust to the rare\n"
    "                          call that loses a time slice to another process)\n"
    "  --max-call=S            skip timing a variant whose single call takes longer (default 20)\n"
    "  --warm                  reuse one set of buffers (default: rotate through enough\n"
    "                          copies that the working set exceeds the last-level cache)\n"
    "  --csv                   one header line, then one row per measurement\n"
    "  --ukernel               instead: time each packed micro-kernel alone (CPU, one thread)\n"
    "  --power                 instead: watts, J/TFLOP, TFLOP/s per data kind by an energy counter:\n"
    "                          --data=zeros,ones,random,sparse50,mnist --shape=MxNxK --seconds=S (>= 2)\n"
    "                          --repeat=R --gemm=NAME --ref=NAME --meter=nvml|rapl --data-dir=DIR\n"
    "  --help                  this text\n"
    "\n"
    "The packed CPU GEMM's micro-kernel follows CNN_CPU_KERNEL=avx512|avx2|scalar\n"
    "(default: the widest this CPU runs).\n";

typedef gemm_shape shape;

typedef struct {
    const char *backend, *gemm, *ref, *shapes, *hidden;
    int batch, threads, repeat;
    double min_time, max_call;
    bool warm, csv, ukernel;
} options;

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "gemm-bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see gemm-bench --help)\n");
    return EXIT_USAGE;
}

// Parses a positive integer; false when s is not one.
static bool parse_int(const char *s, int lo, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > 1 << 30) return false;
    *out = (int)v;
    return true;
}

static bool parse_double(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v > 0) || !isfinite(v)) return false;
    *out = v;
    return true;
}

static int parse_options(int argc, char **argv, options *o) {
    *o = (options){"cpu", "all", NULL, "mlp", "512", 128, 0, 7, 0.02, 20.0, false, false, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        const char *v = eq ? eq + 1 : NULL;
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);
#define IS(flag) (klen == strlen(flag) && strncmp(a, flag, klen) == 0)
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(EXIT_OK);
        } else if (strcmp(a, "--csv") == 0) o->csv = true;
        else if (strcmp(a, "--warm") == 0) o->warm = true;
        else if (strcmp(a, "--ukernel") == 0) o->ukernel = true;
        else if (!v && (IS("--backend") || IS("--gemm") || IS("--ref") || IS("--shapes") || IS("--hidden") ||
                        IS("--batch") || IS("--threads") || IS("--repeat") || IS("--min-time") || IS("--max-call")))
            return usage_error("%s needs a value, as in --flag=VALUE", a);
        else if (IS("--backend")) o->backend = v;
        else if (IS("--gemm")) o->gemm = v;
        else if (IS("--ref")) o->ref = v;
        else if (IS("--shapes")) o->shapes = v;
        else if (IS("--hidden")) o->hidden = v;
        else if (IS("--batch")) {
            if (!parse_int(v, 1, &o->batch)) return usage_error("--batch must be an integer >= 1, not '%s'", v);
        } else if (IS("--threads")) {
            // Bounded as cnn-train's --threads is (a huge team overflows libgomp's stack).
            if (!parse_int(v, 0, &o->threads) || o->threads > MAX_THREADS)
                return usage_error("--threads must be an integer from 0 (all cores) to 1024, not '%s'", v);
        } else if (IS("--repeat")) {
            if (!parse_int(v, 1, &o->repeat) || o->repeat > MAX_REPEAT)
                return usage_error("--repeat must be an integer from 1 to 1000, not '%s'", v);
        } else if (IS("--min-time")) {
            if (!parse_double(v, &o->min_time)) return usage_error("--min-time must be seconds > 0, not '%s'", v);
        } else if (IS("--max-call")) {
            if (!parse_double(v, &o->max_call)) return usage_error("--max-call must be seconds > 0, not '%s'", v);
        } else
            return usage_error("unknown option '%s'", a);
#undef IS
    }
    if (strcmp(o->backend, "cpu") != 0 && strcmp(o->backend, "cuda") != 0)
        return usage_error("--backend must be cpu or cuda, not '%s'", o->backend);
    if (!o->ref) o->ref = strcmp(o->backend, "cuda") == 0 ? "cublas" : "openblas";
    if (o->ukernel && strcmp(o->backend, "cpu") != 0)
        return usage_error("--ukernel times the CPU micro-kernels: it needs --backend=cpu, not '%s'", o->backend);
    return -1;
}

// Appends the GEMMs of one training step of an MLP (784 -> hidden... -> 10)
// at batch B: forward Z = X W' (0,1, B, out, in) for every layer, then,
// from the last layer back, dW = dZ' X (1,0, out, in, B) and, except for
// the first layer, dX = dZ W (0,0, B, in, out).
static int add_mlp(shape *s, int n, int max, const int *hidden, int n_hidden, int B) {
    int dims[MAX_HIDDEN + 2];
    dims[0] = 784;
    for (int i = 0; i < n_hidden; i++) dims[i + 1] = hidden[i];
    dims[n_hidden + 1] = 10;
    int layers = n_hidden + 1;
    for (int l = 0; l < layers && n < max; l++, n++) {
        s[n] = (shape){"", false, true, B, dims[l + 1], dims[l]};
        snprintf(s[n].name, sizeof s[n].name, "fc%d.fwd", l + 1);
    }
    for (int l = layers - 1; l >= 0; l--) {
        if (n < max) {
            s[n] = (shape){"", true, false, dims[l + 1], dims[l], B};
            snprintf(s[n].name, sizeof s[n].name, "fc%d.dW", l + 1);
            n++;
        }
        if (l > 0 && n < max) {
            s[n] = (shape){"", false, false, B, dims[l], dims[l + 1]};
            snprintf(s[n].name, sizeof s[n].name, "fc%d.dX", l + 1);
            n++;
        }
    }
    return n;
}

// Parses one size of MxNxK at *p: decimal digits for a value from 1 to
// INT_MAX (no sign, no wrap-around), followed by 'x' (consumed) or, for the
// last one, by ':' or the end. *p moves past what was read.
static bool parse_size(const char **p, bool last, int *out) {
    const char *s = *p;
    if (*s < '0' || *s > '9') return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || v < 1 || v > INT_MAX) return false;
    if (last ? (*end != ':' && *end != '\0') : *end != 'x') return false;
    *out = (int)v;
    *p = last ? end : end + 1;
    return true;
}

// Fills s from --shapes, --hidden and --batch; returns how many, or < 0 after printing an error.
static int parse_shapes(const options *o, shape *s) {
    int hidden[MAX_HIDDEN], n_hidden = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", o->hidden);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n_hidden == MAX_HIDDEN || !parse_int(tok, 1, &hidden[n_hidden]))
            return -usage_error("--hidden must be up to 16 layer widths >= 1 separated by commas, not '%s'",
                                o->hidden);
        n_hidden++;
    }
    if (n_hidden == 0) return -usage_error("--hidden needs at least one width, got '%s'", o->hidden);
    int n = 0;
    snprintf(buf, sizeof buf, "%s", o->shapes);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "mlp") == 0) {
            n = add_mlp(s, n, MAX_SHAPES, hidden, n_hidden, o->batch);
        } else if (strcmp(tok, "square") == 0) {
            for (int e = 1024; e <= 4096 && n < MAX_SHAPES; e *= 2, n++) {
                s[n] = (shape){"", false, false, e, e, e};
                snprintf(s[n].name, sizeof s[n].name, "square%d", e);
            }
        } else {
            int M, N, K;
            const char *rest = tok;
            char t[3] = "NN";
            if (!parse_size(&rest, false, &M) || !parse_size(&rest, false, &N) || !parse_size(&rest, true, &K) ||
                (*rest == ':' && (strlen(rest) != 3 || !strchr("NT", rest[1]) || !strchr("NT", rest[2]))))
                return -usage_error("--shapes: '%s' is not mlp, square or MxNxK[:NN|NT|TN|TT] with M, N and K "
                                    "integers from 1 to 2147483647",
                                    tok);
            if (*rest) t[0] = rest[1], t[1] = rest[2];
            if (n < MAX_SHAPES) {
                s[n] = (shape){"", t[0] == 'T', t[1] == 'T', M, N, K};
                snprintf(s[n].name, sizeof s[n].name, "%dx%dx%d", M, N, K);
                n++;
            }
        }
    }
    if (n == 0) return -usage_error("--shapes lists no shapes: '%s'", o->shapes);
    return n;
}

// ---- timing -------------------------------------------------------------------

typedef struct {
    float *A, *B, *C;
} buffers;

typedef struct {
    cnn_backend *be;
    const shape *sh;
    buffers *sets;
    int n_sets, next;
    int lda, ldb;
} bench_ctx;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs `calls` GEMMs with the selected variant, rotating buffer sets;
// returns seconds per call. On the CPU each call is timed on its own and
// the median is returned: on a shared machine a few calls in a hundred lose
// a scheduler time slice (milliseconds) to other processes, and a mean
// would measure the machine's load rather than the GEMM. On a GPU the
// batch is timed as a whole between two syncs (a sync per call would
// measure launch latency).
// Seconds per call: on the CPU the median of each call's host time; on a
// device, the device timer (CUDA events) around all the calls, over calls.
static double time_calls(bench_ctx *x, int calls, cnn_status *st) {
    const shape *s = x->sh;
    const bool per_call = x->be->device == CNN_DEVICE_CPU;
    double *t = per_call ? malloc(sizeof(double) * calls) : NULL;
    void *timer = NULL;
    *st = cnn_backend_timer_start(x->be, &timer);
    for (int c = 0; c < calls && *st == CNN_OK; c++) {
        buffers *b = &x->sets[x->next];
        x->next = (x->next + 1) % x->n_sets;
        double tc = cnn_now_s();
        *st = cnn_gemm(x->be, s->ta, s->tb, s->M, s->N, s->K, 1.0f, b->A, x->lda, b->B, x->ldb, 0.0f, b->C, s->N);
        if (t) t[c] = cnn_now_s() - tc;
    }
    double total = 0.0;
    if (timer) {
        cnn_status stop = cnn_backend_timer_stop(x->be, timer, &total);
        if (*st == CNN_OK) *st = stop;
    }
    double result = total / calls;
    if (t && *st == CNN_OK) result = median(t, calls);
    free(t);
    return result;
}

typedef struct {
    double gflops, ref_gflops, ratio, err, ref_err;
    int reps;
    const char *note; // why it was not timed, or NULL
} result;

// Validates one variant and the reference on buffer set 0, then times them alternately.
static cnn_status measure(bench_ctx *x, const options *o, const char *variant, const char *ref, const float *hA,
                          const float *hB, float *hC, cnn_rng *rng, result *r) {
    const shape *s = x->sh;
    const size_t c_bytes = sizeof(float) * s->M * s->N;
    const double flops = 2.0 * s->M * s->N * s->K;
    cnn_status st;
    *r = (result){0};
    double t_call[2] = {0, 0};
    const char *names[2] = {variant, ref};
    double *errs[2] = {&r->err, &r->ref_err};
    for (int v = 0; v < 2; v++) {
        // Poison C with NaN, run once, compare with the double reference.
        for (size_t i = 0; i < c_bytes / sizeof(float); i++) hC[i] = NAN;
        CNN_TRY(x->be->ops->upload(x->be, hC, x->sets[0].C, c_bytes));
        CNN_TRY(cnn_backend_select_gemm(x->be, names[v]));
        x->next = 0;
        t_call[v] = time_calls(x, 1, &st);
        CNN_TRY(st);
        CNN_TRY(x->be->ops->download(x->be, x->sets[0].C, hC, c_bytes));
        *errs[v] = max_rel_error(s, hA, x->lda, hB, x->ldb, hC, rng);
    }
    // Each within the bound its own input precision gives (validate.c).
    const double tol = gemm_tolerance(variant, s->K), ref_tol = gemm_tolerance(ref, s->K);
    if (!(r->err <= tol) || !(r->ref_err <= ref_tol)) {
        r->note = !(r->err <= tol) ? "FAILED validation" : "reference FAILED validation";
        return CNN_OK;
    }
    if (t_call[0] > o->max_call) {
        r->note = "skipped: one call takes longer than --max-call";
        return CNN_OK;
    }
    // Warm up both (and measure them again, warm), then choose calls per sample.
    for (int v = 0; v < 2; v++) {
        CNN_TRY(cnn_backend_select_gemm(x->be, names[v]));
        time_calls(x, 1, &st);
        CNN_TRY(st);
        t_call[v] = time_calls(x, 1, &st);
        CNN_TRY(st);
    }
    int calls[2];
    for (int v = 0; v < 2; v++) {
        double c = ceil(o->min_time / (t_call[v] > 1e-9 ? t_call[v] : 1e-9));
        calls[v] = c < 1 ? 1 : c > 1e6 ? 1000000 : (int)c;
    }
    // At most ~60 s per measurement: fewer samples for very slow variants.
    int reps = o->repeat;
    double per_rep = calls[0] * t_call[0] + calls[1] * t_call[1];
    if (per_rep * reps > 60.0) reps = per_rep > 20.0 ? 1 : (int)(60.0 / per_rep) < 3 ? 3 : (int)(60.0 / per_rep);
    if (reps > o->repeat) reps = o->repeat;
    double tv[MAX_REPEAT], tr[MAX_REPEAT], ratio[MAX_REPEAT];
    for (int k = 0; k < reps; k++) {
        // Alternate which goes first, so neither always follows the other.
        for (int h = 0; h < 2; h++) {
            int v = (k + h) % 2;
            CNN_TRY(cnn_backend_select_gemm(x->be, names[v]));
            // One untimed call first: the other library has just been
            // running, and this one's idle threads may have gone to sleep
            // (on a virtual machine, waking a sleeping core takes ~ms).
            time_calls(x, 1, &st);
            CNN_TRY(st);
            double t = time_calls(x, calls[v], &st);
            CNN_TRY(st);
            (v == 0 ? tv : tr)[k] = t;
        }
        ratio[k] = tr[k] / tv[k];
    }
    r->gflops = flops / median(tv, reps) / 1e9;
    r->ref_gflops = flops / median(tr, reps) / 1e9;
    r->ratio = median(ratio, reps);
    r->reps = reps;
    return CNN_OK;
}

static void fill_random(cnn_rng *rng, float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(2.0 * cnn_rng_uniform(rng) - 1.0);
}

// The bytes of A, B and C of shape s; false when they overflow size_t.
static bool shape_bytes(const shape *s, size_t *a, size_t *b, size_t *c) {
    size_t mk, kn, mn;
    return !__builtin_mul_overflow((size_t)s->M, (size_t)s->K, &mk) &&
           !__builtin_mul_overflow((size_t)s->K, (size_t)s->N, &kn) &&
           !__builtin_mul_overflow((size_t)s->M, (size_t)s->N, &mn) &&
           !__builtin_mul_overflow(mk, sizeof(float), a) && !__builtin_mul_overflow(kn, sizeof(float), b) &&
           !__builtin_mul_overflow(mn, sizeof(float), c) && *a + *b >= *a && *a + *b + *c >= *c;
}

// How many buffer sets a shape whose A, B and C take `bytes` rotates
// through: enough that the working set exceeds twice the last-level cache
// (1 with --warm), at most 64.
static int count_sets(size_t bytes, bool warm) {
    long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (llc <= 0) llc = 32L << 20;
    double n = warm ? 1 : ceil(2.0 * llc / (double)bytes);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

// Allocates the buffer sets for one shape on the backend and uploads the same random inputs to each.
static cnn_status setup_shape(cnn_backend *be, const shape *s, bool warm, const float *hA, const float *hB,
                              buffers *sets, int *n_sets) {
    size_t a, b, c;
    if (!shape_bytes(s, &a, &b, &c)) return cnn_error(CNN_ERR_INVALID_ARG, "shape %s overflows size_t", s->name);
    const int n = count_sets(a + b + c, warm);
    *n_sets = 0;
    for (int i = 0; i < n; i++) {
        buffers *x = &sets[i];
        *x = (buffers){0};
        CNN_TRY(be->ops->alloc(be, a, (void **)&x->A));
        (*n_sets)++;
        CNN_TRY(be->ops->alloc(be, b, (void **)&x->B));
        CNN_TRY(be->ops->alloc(be, c, (void **)&x->C));
        CNN_TRY(be->ops->upload(be, hA, x->A, a));
        CNN_TRY(be->ops->upload(be, hB, x->B, b));
    }
    return CNN_OK;
}

static void free_sets(cnn_backend *be, buffers *sets, int n) {
    for (int i = 0; i < n; i++) {
        if (sets[i].A) be->ops->free(be, sets[i].A);
        if (sets[i].B) be->ops->free(be, sets[i].B);
        if (sets[i].C) be->ops->free(be, sets[i].C);
    }
}

// ---- limits -------------------------------------------------------------------

// The memory this process may still take without swapping, in bytes:
// MemAvailable from /proc/meminfo, else the free pages (sysconf); *source
// says which. 0 when neither is known.
static double memory_available(const char **source) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    unsigned long long kb = 0;
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) found = sscanf(line, "MemAvailable: %llu kB", &kb) == 1;
    if (f) fclose(f);
    *source = "MemAvailable in /proc/meminfo";
    if (found) return 1024.0 * (double)kb;
    *source = "free memory, sysconf(_SC_AVPHYS_PAGES)";
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (double)pages * (double)page : 0.0;
}

// Refuses, before anything is allocated, a shape whose buffers overflow
// size_t or need more memory than is available: the host copies of A, B
// and C, and on the CPU backend its buffer sets too (on a GPU those are
// device memory, which the backend's allocator checks). Returns EXIT_USAGE
// after one line on stderr, or -1 when every shape fits.
static int check_shapes_fit(const options *o, const shape *shapes, int n) {
    const bool cpu = strcmp(o->backend, "cpu") == 0;
    const char *source;
    const double avail = memory_available(&source);
    for (int i = 0; i < n; i++) {
        const shape *s = &shapes[i];
        size_t a, b, c;
        if (!shape_bytes(s, &a, &b, &c)) {
            fprintf(stderr, "gemm-bench: shape %s (M=%d N=%d K=%d): its buffers would need more bytes than size_t "
                            "counts: choose smaller sizes (see gemm-bench --help)\n",
                    s->name, s->M, s->N, s->K);
            return EXIT_USAGE;
        }
        const int sets = cpu ? count_sets(a + b + c, o->warm) : 0;
        const double need = (1.0 + sets) * ((double)a + (double)b + (double)c);
        if (avail > 0 && need > avail) {
            fprintf(stderr, "gemm-bench: shape %s (M=%d N=%d K=%d) needs %.1f GiB of memory (A, B and C on the "
                            "host%s), more than the %.1f GiB available (%s): choose smaller sizes (see gemm-bench "
                            "--help)\n",
                    s->name, s->M, s->N, s->K, need / 0x1p30, cpu ? " and in each of the CPU backend's buffer sets" : "",
                    avail / 0x1p30, source);
            return EXIT_USAGE;
        }
    }
    return -1;
}

// ---- running ------------------------------------------------------------------

// The variants to measure (--gemm, all but --ref by default); returns how
// many, or -1 after printing an error.
static int pick_variants(cnn_backend *be, const options *o, const char **variants) {
    int n = 0;
    if (!cnn_backend_find_gemm(be, o->ref)) {
        cnn_backend_select_gemm(be, o->ref); // for its message listing the names
        fprintf(stderr, "gemm-bench: --ref: %s\n", cnn_last_error());
        return -1;
    }
    if (strcmp(o->gemm, "all") == 0) {
        for (int i = 0; i < be->n_gemm_variants && n < MAX_VARIANTS; i++)
            if (strcmp(be->gemm_variants[i].name, o->ref) != 0) variants[n++] = be->gemm_variants[i].name;
        return n;
    }
    char list[512];
    snprintf(list, sizeof list, "%s", o->gemm);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const cnn_gemm_variant *v = cnn_backend_find_gemm(be, tok);
        if (!v) {
            cnn_backend_select_gemm(be, tok);
            fprintf(stderr, "gemm-bench: --gemm: %s\n", cnn_last_error());
            return -1;
        }
        if (n < MAX_VARIANTS) variants[n++] = v->name;
    }
    return n;
}

// The machine's ceilings, for % of peak and the roofline.
typedef struct {
    bool cpu;
    int threads;
    double peak, bandwidth; // GFLOP/s, GB/s; 0 when unknown
    const char *isa, *kernel;
} machine;

static machine probe_machine(const cnn_backend *be, bool cpu, int threads) {
    machine m = {cpu, threads, 0.0, 0.0, "n/a", "n/a"};
    if (cpu) {
        m.peak = probe_fma_peak(threads, &m.isa);
        m.bandwidth = probe_memory_bandwidth(threads);
        m.kernel = cnn_cpu_ctx_of(be)->kernel->name;
    } else if (strstr(be->device_desc, "H200")) {
        m.peak = 67000.0;     // FP32 non-tensor, H200 SXM (data sheet: as the H100 SXM)
        m.bandwidth = 4800.0; // HBM3e, data-sheet peak (a copy measures less: replace once measured)
        m.isa = "table";
    } else if (strstr(be->device_desc, "H100")) {
        m.peak = 67000.0;     // FP32 non-tensor, H100 SXM (data sheet)
        m.bandwidth = 3000.0; // HBM3, device-to-device copy (docs/BENCHMARKING.md)
        m.isa = "table";
    }
    return m;
}

static void print_header(FILE *out, const options *o, const cnn_backend *be, const machine *m) {
    if (o->csv) {
        fprintf(out, "backend,gemm,transa,transb,M,N,K,gflops,ref_gflops,ratio,max_rel_err,ref,shape,threads,kernel,"
                     "pct_peak,peak_gflops,ai_flop_per_byte,roofline_gflops,bound,ref_max_rel_err,reps,note\n");
        return;
    }
    fprintf(out, "gemm-bench: backend %s (%s), reference %s, %d repeat%s, %s buffers\n", be->name, be->device_desc,
            o->ref, o->repeat, o->repeat == 1 ? "" : "s",
            o->warm ? "warm (one set)" : "rotated (working set > last-level cache)");
    if (m->cpu) {
        const char *ct = getenv("OPENBLAS_CORETYPE");
        fprintf(out, "CPU: packed micro-kernel %s; OPENBLAS_CORETYPE=%s\n", m->kernel, ct && *ct ? ct : "(unset)");
    }
    if (m->peak > 0)
        fprintf(out, "peak %.1f GFLOP/s (%s FMA probe, %d thread%s), memory %.1f GB/s (copy probe)\n", m->peak, m->isa,
                m->threads, m->threads == 1 ? "" : "s", m->bandwidth);
    else
        fprintf(out, "peak n/a for this device (no probe or table entry): %% of peak and roofline not shown\n");
    fprintf(out, "\n%-14s %-2s %5s %5s %5s  %-9s %9s %6s %9s %6s %7s %9s %-7s %8s\n", "shape", "op", "M", "N", "K",
            "gemm", "GFLOP/s", "%peak", "ref", "ratio", "AI", "roofline", "bound", "max_err");
}

// One measurement's line (or CSV row).
static void print_result(FILE *out, const options *o, const cnn_backend *be, const machine *m, const shape *s,
                         const char *variant, const result *r) {
    const double flops = 2.0 * s->M * s->N * s->K;
    const double ai = flops / (4.0 * ((double)s->M * s->K + (double)s->K * s->N + (double)s->M * s->N));
    const double roof = m->peak > 0 ? fmin(m->peak, ai * m->bandwidth) : 0.0;
    const char *bound = m->peak <= 0 ? "n/a" : ai * m->bandwidth < m->peak ? "memory" : "compute";
    const double pct = m->peak > 0 && !r->note ? 100.0 * r->gflops / m->peak : NAN;
    char op[3] = {s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', 0};
    if (o->csv)
        fprintf(out, "%s,%s,%d,%d,%d,%d,%d,%.3f,%.3f,%.4f,%.3g,%s,%s,%d,%s,%.2f,%.1f,%.2f,%.1f,%s,%.3g,%d,%s\n",
                be->name, variant, s->ta, s->tb, s->M, s->N, s->K, r->gflops, r->ref_gflops, r->ratio, r->err, o->ref,
                s->name, m->threads, m->kernel, pct, m->peak, ai, roof, bound, r->ref_err, r->reps,
                r->note ? r->note : "");
    else if (r->note)
        fprintf(out, "%-14s %-2s %5d %5d %5d  %-9s %s (max_err %.3g, reference %.3g)\n", s->name, op, s->M, s->N,
                s->K, variant, r->note, r->err, r->ref_err);
    else
        fprintf(out, "%-14s %-2s %5d %5d %5d  %-9s %9.2f %6.1f %9.2f %6.3f %7.1f %9.1f %-7s %8.2g\n", s->name, op,
                s->M, s->N, s->K, variant, r->gflops, pct, r->ref_gflops, r->ratio, ai, roof, bound, r->err);
    fflush(out);
}

// Measures every variant on shape s; counts validation failures in
// *failures. Everything it allocates is freed on every path.
static cnn_status run_shape(cnn_backend *be, const options *o, const machine *m, const shape *s,
                            const char *const *variants, int n_variants, cnn_rng *rng, int *failures) {
    const int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    float *hA = malloc(sizeof(float) * s->M * s->K), *hB = malloc(sizeof(float) * s->K * s->N);
    float *hC = malloc(sizeof(float) * s->M * s->N);
    buffers sets[64];
    int n_sets = 0;
    cnn_status st = hA && hB && hC ? CNN_OK : cnn_error(CNN_ERR_NOMEM, "out of memory for the host copies");
    if (st == CNN_OK) {
        fill_random(rng, hA, (size_t)s->M * s->K);
        fill_random(rng, hB, (size_t)s->K * s->N);
        st = setup_shape(be, s, o->warm, hA, hB, sets, &n_sets);
    }
    bench_ctx x = {be, s, sets, n_sets, 0, lda, ldb};
    for (int vi = 0; vi < n_variants && st == CNN_OK; vi++) {
        result r;
        st = measure(&x, o, variants[vi], o->ref, hA, hB, hC, rng, &r);
        if (st != CNN_OK) break;
        if (r.note && strstr(r.note, "FAILED")) (*failures)++;
        print_result(stdout, o, be, m, s, variants[vi], &r);
    }
    free_sets(be, sets, n_sets);
    free(hA), free(hB), free(hC);
    return st;
}

// ---- main ---------------------------------------------------------------------

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--power") == 0) return power_main(argc, argv); // power.c: its own options
    options o;
    int code = parse_options(argc, argv, &o);
    if (code >= 0) return code;
    shape shapes[MAX_SHAPES];
    int n_shapes = parse_shapes(&o, shapes);
    if (n_shapes < 0) return EXIT_USAGE;
    if (o.ukernel) return ukernel_report(stdout, o.repeat);
    if ((code = check_shapes_fit(&o, shapes, n_shapes)) >= 0) return code;

    const bool cpu = strcmp(o.backend, "cpu") == 0;
    int threads = o.threads;
    if (cpu && threads == 0) threads = omp_get_num_procs(); // set both OpenMP and OpenBLAS explicitly
    cnn_backend *be = NULL;
    if (cnn_backend_create(o.backend, NULL, threads, 0, &be) != CNN_OK) {
        fprintf(stderr, "gemm-bench: %s\n", cnn_last_error());
        return EXIT_ERROR;
    }
    const char *variants[MAX_VARIANTS];
    const int n_variants = pick_variants(be, &o, variants);
    if (n_variants < 0) {
        cnn_backend_destroy(be);
        return EXIT_USAGE;
    }
    const machine m = probe_machine(be, cpu, threads);
    print_header(stdout, &o, be, &m);
    fflush(stdout);

    int failures = 0;
    cnn_rng rng;
    cnn_rng_seed(&rng, 0x5eedULL);
    for (int si = 0; si < n_shapes; si++) {
        if (run_shape(be, &o, &m, &shapes[si], variants, n_variants, &rng, &failures) != CNN_OK) {
            fprintf(stderr, "gemm-bench: shape %s: %s\n", shapes[si].name, cnn_last_error());
            cnn_backend_destroy(be);
            return EXIT_ERROR;
        }
    }
    if (!o.csv)
        fprintf(stdout, "\nratio = reference time / variant time (median over samples; > 1: faster than %s); "
                        "max_err = max |C - C_ref| / sum|a||b| over the checked elements\n",
                o.ref);
    cnn_backend_destroy(be);
    if (failures) {
        fprintf(stderr, "gemm-bench: %d measurement%s failed validation\n", failures, failures == 1 ? "" : "s");
        return EXIT_ERROR;
    }
    return EXIT_OK;
}
