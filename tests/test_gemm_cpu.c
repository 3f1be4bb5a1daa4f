// Validates every CPU GEMM variant (each entry of cnn_cpu_gemm_variants[],
// so a variant added later is checked without editing this file) against a
// double-precision reference on fresh random inputs.
//
// Cases: every (M,N,K) from {1, 7, 33, 784, 785} with at most two of them
// large, one with all three large, and the MLP's five GEMMs (784-512-10)
// at batch 128, 1 and 37; each with all four transposes, alpha in
// {1, -0.75, 2.5}, beta in {0, 1, 0.5}, and, every other case, leading
// dimensions larger than the widths. The inputs' padding holds NaN (a
// variant that reads it fails); C's padding holds a sentinel that must
// survive; with beta == 0, C starts as NaN (it must not be read).
//
// Tolerance, per element: |C - C_ref| <= (2K + 8) u S with u = 2^-24 (the
// unit roundoff of float) and S = |alpha| sum_k |a_ik b_kj| + |beta c_ij|.
// Any order of summing K products in float has error at most
// gamma_K S ~ K u S (Higham, Accuracy and Stability, 3.1); the blocked
// variants add each K slice's partial sum to C (at most K more roundings)
// and alpha, beta and the final addition add three: 2K + 8 bounds them
// all, so a failure is a bug, not rounding. The reference is exact up to
// 2^-53 relative (the products of floats are exact in double).
//
// Options: --variant=NAME,... (only those), --kernel=NAME (force the
// instruction set: the packed GEMM's micro-kernel and the reorder loops that
// blocked and parallel use; exit 77 when this CPU cannot run it), --expect-kernel=NAME
// (check what CNN_CPU_KERNEL / CPUID chose), --expect-kernel-error (check
// that a bad CNN_CPU_KERNEL fails cleanly), --quick (fewer shapes).
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/gemm.h"
#include "core/backend.h"
#include "test_util.h"

// Naive is O(MNK) with poor locality: above this many multiply-adds it is
// skipped (it is the simplest code here, and every shape class is still
// covered by smaller cases). 64M keeps the MLP's largest GEMM at batch 128.
#define NAIVE_MAX_MACS 64e6

typedef struct {
    int M, N, K;
    bool ta, tb;
    float alpha, beta;
    bool padded;
} gemm_case;

static const float alphas[] = {1.0f, -0.75f, 2.5f};
static const float betas[] = {0.0f, 1.0f, 0.5f};
static const float SENTINEL = -12345.5f;

static const char *only_variant; // a comma-separated list, or NULL for all

// Whether --variant selected the variant called name.
static bool selected(const char *name) {
    if (!only_variant) return true;
    size_t n = strlen(name);
    for (const char *p = only_variant; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}
static int cases_run, checks_run;
static double worst_seen[32]; // per variant: the largest error seen, as a fraction of the tolerance

static void describe(const gemm_case *c, char *out, size_t n) {
    snprintf(out, n, "%c%c M=%d N=%d K=%d alpha=%g beta=%g%s", c->ta ? 'T' : 'N', c->tb ? 'T' : 'N', c->M, c->N,
             c->K, c->alpha, c->beta, c->padded ? " padded" : "");
}

// A stored matrix (rows, cols) with leading dimension ld: values in
// [-1, 1), NaN in the padding columns.
static float *random_matrix(cnn_rng *rng, int rows, int cols, int ld) {
    float *x = malloc(sizeof(float) * (size_t)rows * ld);
    for (int i = 0; i < rows; i++) {
        test_fill_uniform(rng, x + (size_t)i * ld, cols, -1.0f, 1.0f);
        for (int j = cols; j < ld; j++) x[(size_t)i * ld + j] = NAN;
    }
    return x;
}

// ref = alpha op(A) op(B) + beta C0 and scale = |alpha| |op(A)| |op(B)| +
// |beta C0|, in double. (test_gemm_ref computes the same sum; this version
// first copies op(A) and op(B)' into contiguous rows and keeps four partial
// sums, which is many times faster on the 785^3 cases. Each product of two
// floats is exact in double, so the order of the sums does not matter at
// the precision the tolerance needs.)
static void reference(const gemm_case *c, const float *A, int lda, const float *B, int ldb, const float *C0, int ldc,
                      double *ref, double *scale) {
    const int M = c->M, N = c->N, K = c->K, K4 = (K + 3) / 4 * 4;
    double *a = calloc((size_t)M * K4, sizeof(double)), *bt = calloc((size_t)N * K4, sizeof(double));
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) a[(size_t)i * K4 + k] = c->ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
    for (int j = 0; j < N; j++)
        for (int k = 0; k < K; k++) bt[(size_t)j * K4 + k] = c->tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            const double *x = a + (size_t)i * K4, *y = bt + (size_t)j * K4;
            double s[4] = {0, 0, 0, 0}, t[4] = {0, 0, 0, 0};
            for (int k = 0; k < K4; k += 4)
                for (int u = 0; u < 4; u++) {
                    double p = x[k + u] * y[k + u];
                    s[u] += p;
                    t[u] += fabs(p);
                }
            size_t e = (size_t)i * ldc + j;
            double c0 = c->beta != 0.0f ? C0[e] : 0.0;
            ref[e] = c->alpha * (s[0] + s[1] + s[2] + s[3]) + c->beta * c0;
            scale[e] = fabs(c->alpha) * (t[0] + t[1] + t[2] + t[3]) + fabs(c->beta * c0);
        }
    free(a);
    free(bt);
}

// The CPU backend every case runs on (created in main).
static cnn_backend *cpu;

// Runs one case on every selected variant.
static void run_case(const gemm_case *c, cnn_rng *rng) {
    const int M = c->M, N = c->N, K = c->K;
    const int a_rows = c->ta ? K : M, a_cols = c->ta ? M : K, b_rows = c->tb ? N : K, b_cols = c->tb ? K : N;
    const int lda = a_cols + (c->padded ? 3 : 0), ldb = b_cols + (c->padded ? 5 : 0), ldc = N + (c->padded ? 7 : 0);
    const size_t c_size = (size_t)M * ldc;
    float *A = random_matrix(rng, a_rows, a_cols, lda), *B = random_matrix(rng, b_rows, b_cols, ldb);
    float *C0 = malloc(sizeof(float) * c_size), *C = malloc(sizeof(float) * c_size);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++)
            C0[(size_t)i * ldc + j] = j >= N ? SENTINEL : c->beta == 0.0f ? NAN : 2.0f * (float)cnn_rng_uniform(rng) - 1.0f;

    double *ref = malloc(sizeof(double) * c_size), *scale = malloc(sizeof(double) * c_size);
    reference(c, A, lda, B, ldb, C0, ldc, ref, scale);
    const double tol_factor = (2.0 * K + 8.0) * 0x1p-24;

    char what[160];
    describe(c, what, sizeof what);
    for (int v = 0; v < cnn_cpu_gemm_variant_count; v++) {
        const cnn_gemm_variant *var = &cnn_cpu_gemm_variants[v];
        if (!selected(var->name)) continue;
        if (var->precision != CNN_PRECISION_FP32) continue; // rounded inputs: tests/test_gemm_precision.c
        if (strcmp(var->name, "naive") == 0 && (double)M * N * K > NAIVE_MAX_MACS) continue;
        memcpy(C, C0, sizeof(float) * c_size);
        cnn_status s = var->fn(cpu, c->ta, c->tb, M, N, K, c->alpha, A, lda, B, ldb, c->beta, C, ldc);
        checks_run++;
        if (s != CNN_OK) {
            fprintf(stderr, "%s %s: returned %s: %s\n", var->name, what, cnn_status_name(s), cnn_last_error());
            test_failures++;
            continue;
        }
        size_t bad = 0, bad_pad = 0, worst = 0;
        double worst_ratio = -1.0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < ldc; j++) {
                size_t e = (size_t)i * ldc + j;
                if (j >= N) {
                    bad_pad += memcmp(&C[e], &SENTINEL, sizeof(float)) != 0;
                    continue;
                }
                double err = fabs((double)C[e] - ref[e]), tol = tol_factor * scale[e];
                double ratio = isnan(err) ? INFINITY : err / (tol > 0 ? tol : 1e-300);
                if (err > tol || isnan(err)) bad++;
                if (ratio > worst_ratio) worst_ratio = ratio, worst = e;
            }
        if (v < 32 && worst_ratio > worst_seen[v]) worst_seen[v] = worst_ratio;
        if (bad || bad_pad) {
            fprintf(stderr,
                    "%s %s: %zu of %d elements out of tolerance, %zu padding elements written; worst [%zu,%zu]: "
                    "got %.9g, want %.9g, error %.3g x tolerance\n",
                    var->name, what, bad, M * N, bad_pad, worst / ldc, worst % ldc, (double)C[worst], ref[worst],
                    worst_ratio);
            test_failures++;
        }
    }
    cases_run++;
    free(A), free(B), free(C0), free(C), free(ref), free(scale);
}

static int case_index;

static void add_case(cnn_rng *rng, int M, int N, int K, bool ta, bool tb) {
    int i = case_index++;
    gemm_case c = {M, N, K, ta, tb, alphas[(i / 3) % 3], betas[i % 3], (i % 2) == 1};
    run_case(&c, rng);
}

static void add_all_transposes(cnn_rng *rng, int M, int N, int K) {
    for (int t = 0; t < 4; t++) add_case(rng, M, N, K, t & 1, t >> 1);
}

// The five GEMMs of a 784-512-10 MLP's training step at batch B, with
// their own transposes (weights stored (out, in), activations (B, features)).
static void add_mlp(cnn_rng *rng, int Bt, bool all_transposes) {
    const int shapes[5][5] = {
        {0, 1, Bt, 512, 784}, // Z1 = X W1'
        {0, 1, Bt, 10, 512},  // Z2 = H W2'
        {1, 0, 10, 512, Bt},  // dW2 = dZ2' H
        {0, 0, Bt, 512, 10},  // dH = dZ2 W2
        {1, 0, 512, 784, Bt}, // dW1 = dZ1' X
    };
    for (int s = 0; s < 5; s++) {
        const int *g = shapes[s];
        if (all_transposes)
            add_all_transposes(rng, g[2], g[3], g[4]);
        else
            add_case(rng, g[2], g[3], g[4], g[0], g[1]);
    }
}

// Two CPU backends with different thread counts live side by side, each
// with its own count (nothing process-wide is set), and the packed and
// parallel GEMMs give the same bits whatever the count.
static void check_thread_independence(cnn_rng *rng) {
    const int M = 301, N = 517, K = 403;
    float *A = random_matrix(rng, M, K, K), *B = random_matrix(rng, K, N, N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    const int process_threads = omp_get_max_threads();
    cnn_backend *one = NULL, *three = NULL;
    CHECK_OK(cnn_cpu_backend_create(1, &one));
    CHECK_OK(cnn_cpu_backend_create(3, &three));
    if (!one || !three) return;
    CHECK(cnn_cpu_backend_threads(one) == 1 && cnn_cpu_backend_threads(three) == 3);
    CHECK(strstr(one->device_desc, "1 thread") != NULL && strstr(three->device_desc, "3 threads") != NULL);
    CHECK(omp_get_max_threads() == process_threads); // creating them changed nothing process-wide
    const char *names[] = {"packed", "parallel", "openblas"};
    for (int i = 0; i < 3; i++) {
        const cnn_gemm_variant *v = cnn_backend_find_gemm(one, names[i]);
        CHECK_OK(v->fn(three, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N)); // interleaved on purpose
        CHECK_OK(v->fn(one, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N));
        if (strcmp(names[i], "openblas") != 0) // OpenBLAS may split K differently per thread count
            CHECK(memcmp(C1, C2, sizeof(float) * M * N) == 0);
    }
    CHECK(cnn_cpu_backend_threads(one) == 1 && cnn_cpu_backend_threads(three) == 3);
    CHECK(omp_get_max_threads() == process_threads);
    CHECK(cnn_cpu_backend_create(CNN_CPU_MAX_THREADS + 1, &one) == CNN_ERR_INVALID_ARG);
    cnn_backend_destroy(three);
    free(A), free(B), free(C1), free(C2);
}

// CPUID's choice, checked against the compiler's own detection.
static const char *expected_auto_kernel(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
    return "scalar";
}

static void check_kernel_selection(void) {
    const gemm_ukernel *k = cnn_cpu_ctx_of(cpu)->kernel;
    const char *want = expected_auto_kernel();
    if (k && strcmp(k->name, want) != 0) {
        fprintf(stderr, "CPUID chose the %s micro-kernel, expected %s\n", k->name, want);
        test_failures++;
    }
    const gemm_ukernel *list[4];
    int n = gemm_packed_kernels_supported(list, 4);
    CHECK(n >= 1 && strcmp(list[n - 1]->name, "scalar") == 0);
    CHECK(cnn_cpu_backend_set_kernel(cpu, "no-such-kernel") == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "avx512, avx2 or scalar") != NULL);
    if (!cnn_cpu_features_get()->avx512) CHECK(cnn_cpu_backend_set_kernel(cpu, "avx512") == CNN_ERR_UNSUPPORTED);
    CHECK_OK(cnn_cpu_backend_set_kernel(cpu, "scalar")); // one backend's choice...
    cnn_backend *other = NULL;
    CHECK_OK(cnn_cpu_backend_create(1, &other));
    if (other) CHECK(strcmp(cnn_cpu_ctx_of(other)->kernel->name, want) == 0); // ...is not another's
    cnn_backend_destroy(other);
    CHECK_OK(cnn_cpu_backend_set_kernel(cpu, NULL));
    CHECK(strcmp(cnn_cpu_ctx_of(cpu)->kernel->name, want) == 0);
}

// The selected variant is reachable through the backend interface.
static void check_backend(void) {
    cnn_backend *be = NULL;
    CHECK_OK(cnn_backend_create("cpu", "packed", 0, 0, &be));
    if (!be) return;
    CHECK(strcmp(be->gemm->name, "packed") == 0);
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4];
    CHECK_OK(cnn_gemm(be, false, false, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2));
    CHECK(C[0] == 4 && C[1] == 5 && C[2] == 10 && C[3] == 11);
    cnn_backend_destroy(be);
}

int main(int argc, char **argv) {
    const char *kernel = NULL, *expect_kernel = NULL;
    bool quick = false, expect_error = false;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--variant=", 10) == 0) only_variant = argv[i] + 10;
        else if (strncmp(argv[i], "--kernel=", 9) == 0) kernel = argv[i] + 9;
        else if (strncmp(argv[i], "--expect-kernel=", 16) == 0) expect_kernel = argv[i] + 16;
        else if (strcmp(argv[i], "--expect-kernel-error") == 0) expect_error = true;
        else if (strcmp(argv[i], "--quick") == 0) quick = true;
        else {
            fprintf(stderr, "test_gemm_cpu: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    for (const char *p = only_variant; p && *p;) { // every listed name must be a variant
        const char *end = strchr(p, ',');
        int len = end ? (int)(end - p) : (int)strlen(p);
        bool found = false;
        for (int v = 0; v < cnn_cpu_gemm_variant_count; v++)
            found |= (int)strlen(cnn_cpu_gemm_variants[v].name) == len && strncmp(cnn_cpu_gemm_variants[v].name, p,
                      len) == 0;
        if (!found) {
            fprintf(stderr, "test_gemm_cpu: --variant=%s: '%.*s' is no CPU GEMM variant\n", only_variant, len, p);
            return 2;
        }
        p = end ? end + 1 : p + len;
    }
    if (expect_error) { // CNN_CPU_KERNEL names something unusable: the backend is refused, cleanly
        cnn_status s = cnn_cpu_backend_create(0, &cpu);
        CHECK(s == CNN_ERR_INVALID_ARG || s == CNN_ERR_UNSUPPORTED);
        CHECK(cpu == NULL);
        CHECK(strstr(cnn_last_error(), "CNN_CPU_KERNEL") != NULL);
        printf("CPU backend with CNN_CPU_KERNEL=%s: %s\n", getenv("CNN_CPU_KERNEL"), cnn_last_error());
        return test_finish("test_gemm_cpu --expect-kernel-error");
    }
    CHECK_OK(cnn_cpu_backend_create(0, &cpu));
    if (!cpu) return test_finish("test_gemm_cpu");
    if (kernel) {
        cnn_status s = cnn_cpu_backend_set_kernel(cpu, kernel);
        if (s == CNN_ERR_UNSUPPORTED) test_skip(cnn_last_error());
        CHECK_OK(s);
    }
    const gemm_ukernel *uk = cnn_cpu_ctx_of(cpu)->kernel;
    if (expect_kernel && uk && strcmp(uk->name, expect_kernel) != 0) {
        fprintf(stderr, "the packed GEMM uses the %s micro-kernel, expected %s\n", uk->name, expect_kernel);
        test_failures++;
    }
    if (!kernel && !expect_kernel) check_kernel_selection();
    printf("packed GEMM micro-kernel: %s (%dx%d); %d OpenMP threads\n", uk ? uk->name : "?", uk ? uk->mr : 0,
           uk ? uk->nr : 0, cnn_cpu_backend_threads(cpu));

    cnn_rng rng;
    cnn_rng_seed(&rng, 20240611);
    const int dims[5] = {1, 7, 33, 784, 785};
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 5; c++) {
                int large = (a >= 3) + (b >= 3) + (c >= 3);
                if (large == 3 || (quick && large >= 2)) continue;
                add_all_transposes(&rng, dims[a], dims[b], dims[c]);
            }
    if (!quick) add_all_transposes(&rng, 785, 784, 785);
    const int batches[3] = {128, 1, 37};
    for (int i = 0; i < 3; i++) add_mlp(&rng, batches[i], !quick);
    if (selected("packed")) check_thread_independence(&rng);
    if (!only_variant && !kernel) check_backend();
    printf("%d cases, %d variant runs checked; largest error as a fraction of the tolerance:\n", cases_run,
           checks_run);
    for (int v = 0; v < cnn_cpu_gemm_variant_count && v < 32; v++)
        if (selected(cnn_cpu_gemm_variants[v].name))
            printf("  %-10s %.4f\n", cnn_cpu_gemm_variants[v].name, worst_seen[v]);
    cnn_backend_destroy(cpu);
    return test_finish("test_gemm_cpu");
}
