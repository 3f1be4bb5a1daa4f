#include "test_util.h"

#include <float.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

int test_failures = 0;

int test_finish(const char *name) {
    if (test_failures) {
        fprintf(stderr, "%s: %d check(s) FAILED\n", name, test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

void test_skip(const char *why) {
    printf("SKIPPED: %s\n", why);
    exit(77);
}

bool test_close(const char *what, const float *got, const double *want, size_t n, double atol, double rtol) {
    size_t worst = 0;
    double worst_excess = -1.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        double tol = atol + rtol * fabs(want[i]);
        double excess = isnan(err) ? INFINITY : err - tol;
        if (excess > 0) bad++;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (bad) {
        fprintf(stderr, "  %s: %zu of %zu elements out of tolerance (atol %.3g, rtol %.3g); worst [%zu]: got %.9g, want %.9g\n",
                what, bad, n, atol, rtol, worst, (double)got[worst], want[worst]);
        return false;
    }
    return true;
}

void test_gemm_ref(bool ta, bool tb, int M, int N, int K, double alpha, const float *A, int lda, const float *B,
                   int ldb, double beta, const float *C_in, int ldc, double *C_out) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            double c = beta != 0.0 ? beta * C_in[(size_t)i * ldc + j] : 0.0;
            C_out[(size_t)i * ldc + j] = alpha * acc + c;
        }
}

double test_as_read(cnn_precision p, float x) {
    float r = cnn_round_to(p, x);
    if (p == CNN_PRECISION_BF16 && fabsf(r) < FLT_MIN) r = copysignf(0.0f, r);
    return r;
}

void test_gemm_ref_precision(cnn_precision p, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                             int lda, const float *B, int ldb, float beta, const float *C0, int ldc, double *ref,
                             double *exact, double *scale) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0, t = 0, e = 0;
            for (int k = 0; k < K; k++) {
                const float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                const float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += test_as_read(p, a) * test_as_read(p, b), t += fabs((double)a * b), e += (double)a * b;
            }
            const double c0 = beta != 0.0f ? C0[(size_t)i * ldc + j] : 0.0;
            const size_t o = (size_t)i * N + j;
            ref[o] = alpha * s + beta * c0;
            exact[o] = alpha * e + beta * c0;
            scale[o] = fabs(alpha) * t + fabs(beta * c0);
        }
}

int test_check_precision(const char *what, cnn_precision p, int K, const float *got, const double *ref,
                         const double *exact, const double *scale, size_t n, double *worst_rounded,
                         double *worst_format) {
    const double u = cnn_precision_input_roundoff(p), acc = (2.0 * K + 8.0) * 0x1p-24;
    int bad = 0;
    for (size_t e = 0; e < n; e++) {
        // the scale of ref uses |a b| of the unrounded inputs: rounded ones are at most (1 + u)^2 larger
        const double tol_r = acc * scale[e] * (1 + u) * (1 + u), tol_f = (2 * u + u * u + acc) * scale[e];
        const double er = fabs(got[e] - ref[e]), ef = fabs(got[e] - exact[e]);
        if (!(er <= tol_r) || !(ef <= tol_f)) {
            if (bad++ < 3)
                fprintf(stderr,
                        "%s [%zu]: got %.9g, rounded-input reference %.9g (error %.3g x tol), exact %.9g (error "
                        "%.3g x tol)\n",
                        what, e, got[e], ref[e], er / tol_r, exact[e], ef / tol_f);
        }
        if (er / tol_r > *worst_rounded) *worst_rounded = er / tol_r;
        if (ef / tol_f > *worst_format) *worst_format = ef / tol_f;
    }
    return bad;
}

void test_linear_ref(const double *X, const double *W, const double *b, double *Y, int B, int in, int out) {
    for (int i = 0; i < B; i++)
        for (int o = 0; o < out; o++) {
            double acc = b[o];
            for (int k = 0; k < in; k++) acc += X[(size_t)i * in + k] * W[(size_t)o * in + k];
            Y[(size_t)i * out + o] = acc;
        }
}

double test_xent_ref(const double *Z, const int32_t *labels, int B, int C) {
    double L = 0;
    for (int i = 0; i < B; i++) {
        const double *z = Z + (size_t)i * C;
        double m = z[0];
        for (int c = 1; c < C; c++) m = fmax(m, z[c]);
        double s = 0;
        for (int c = 0; c < C; c++) s += exp(z[c] - m);
        L += log(s) + m - z[labels[i]];
    }
    return L / B;
}

void test_fill_uniform(cnn_rng *rng, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)cnn_rng_uniform(rng);
}

const char *test_data_dir(const char *name) {
    static char path[4096];
    const char *root = getenv("CNN_DATA_DIR");
    if (!root || !*root) {
        fprintf(stderr, "CNN_DATA_DIR is not set: point it at the folder holding %s/ (e.g. ../shared/data)\n", name);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", root, name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        // set but wrong is a configuration error, not a reason to skip: fail loudly
        fprintf(stderr, "CNN_DATA_DIR=%s has no %s/ folder (%s); tests run inside the build tree, so give an "
                "absolute path, e.g. CNN_DATA_DIR=\"$PWD/../shared/data\"\n", root, name, path);
        exit(1);
    }
    return path;
}

// n zeroed elements of size bytes (at least one); exits the test when memory runs out.
static void *zeroed(size_t n, size_t size, const char *what) {
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "test: out of memory allocating %zu %s\n", n, what);
        exit(1);
    }
    return p;
}

double *test_dalloc(size_t n) { return zeroed(n, sizeof(double), "doubles"); }
float *test_falloc(size_t n) { return zeroed(n, sizeof(float), "floats"); }

void test_to_double(const float *x, double *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i];
}
