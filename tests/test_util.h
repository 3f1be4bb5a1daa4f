// Helpers shared by the tests: checks that report file and line, a
// double-precision GEMM reference, random fills and data-directory lookup.
#ifndef CNN_TEST_UTIL_H
#define CNN_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/precision.h"
#include "core/rng.h"
#include "core/status.h"

extern int test_failures;

// Fails the test (it keeps running) when cond is false.
#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

// Fails the test when a cnn_status call does not return CNN_OK, printing its message.
#define CHECK_OK(expr)                                                                                                 \
    do {                                                                                                               \
        cnn_status check_ok_s_ = (expr);                                                                               \
        if (check_ok_s_ != CNN_OK) {                                                                                   \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,                                  \
                    cnn_status_name(check_ok_s_), cnn_last_error());                                                   \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

// Prints the result and returns the process exit code (0 pass, 1 fail).
int test_finish(const char *name);

// Exits with ctest's skip code 77 after saying why.
void test_skip(const char *why);

// |got - want| <= atol + rtol * |want| for every element; reports the worst
// element and returns false when it does not hold.
bool test_close(const char *what, const float *got, const double *want, size_t n, double atol, double rtol);

// C (M,N) = alpha op(A) op(B) + beta C in double precision, row-major, same
// conventions as cnn_sgemm_fn. C_in may be NULL when beta == 0.
void test_gemm_ref(bool ta, bool tb, int M, int N, int K, double alpha, const float *A, int lda, const float *B,
                   int ldb, double beta, const float *C_in, int ldc, double *C_out);

// The two references of a lower-precision GEMM (docs/precision.md, "Validation
// and tolerances") for C (M,N) = alpha op(A) op(B) + beta C0 (C0 row-major
// with ldc, read only when beta != 0), each (M,N) packed, in double:
// ref on the inputs as precision p's kernels read them (test_as_read),
// exact on the unrounded inputs, and scale S = |alpha| sum |a b| + |beta c0|.
void test_gemm_ref_precision(cnn_precision p, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                             int lda, const float *B, int ldb, float beta, const float *C0, int ldc, double *ref,
                             double *exact, double *scale);
// x as precision p's GEMMs read it: rounded to nearest even (bf16
// subnormals then flushed to zero, as every bf16 packing does).
double test_as_read(cnn_precision p, float x);
// got (n, packed as the references) against both references with the
// bounds (2K + 8) 2^-24 S (1 + u)^2 (ref: FP32 accumulation of the rounded
// inputs) and (2u + u^2 + (2K + 8) 2^-24) S (exact: the format), u the
// format's unit roundoff. Prints the first three elements outside as
// "what [index]: ...", raises *worst_rounded and *worst_format to the
// largest error / tolerance seen, and returns how many were outside.
int test_check_precision(const char *what, cnn_precision p, int K, const float *got, const double *ref,
                         const double *exact, const double *scale, size_t n, double *worst_rounded,
                         double *worst_format);

// X is (B,in), W is (out,in), b is (out), Y is (B,out): Y = X·Wᵀ + b in double precision.
void test_linear_ref(const double *X, const double *W, const double *b, double *Y, int B, int in, int out);

// Z is (B,C), labels is (B): the mean over rows of -log softmax(Z)[label], in double precision.
double test_xent_ref(const double *Z, const int32_t *labels, int B, int C);

// Zeroed host arrays of n (at least 1) elements; the test fails if memory runs out.
double *test_dalloc(size_t n);
float *test_falloc(size_t n);
// y[i] = x[i] for i < n.
void test_to_double(const float *x, double *y, size_t n);

// grad[i] = d(objective)/d(p[i]) for i < n by central differences with step
// h, each p[i] perturbed in place and restored; objective is an expression
// of p, evaluated twice per element.
#define TEST_FD_GRAD(p, n, h, grad, objective)                                                                         \
    for (size_t fd_i_ = 0; fd_i_ < (size_t)(n); fd_i_++) {                                                             \
        const double fd_keep_ = (p)[fd_i_];                                                                            \
        (p)[fd_i_] = fd_keep_ + (h);                                                                                   \
        const double fd_up_ = (objective);                                                                             \
        (p)[fd_i_] = fd_keep_ - (h);                                                                                   \
        const double fd_down_ = (objective);                                                                           \
        (p)[fd_i_] = fd_keep_;                                                                                         \
        (grad)[fd_i_] = (fd_up_ - fd_down_) / (2 * (h));                                                               \
    }

struct cnn_json;
// DIR/run.json parsed (core/energy/common/json.h), or NULL with a failed check when it is missing or invalid
// (tests/test_run_json.c: add it to the test's sources).
struct cnn_json *test_load_run_json(const char *dir);

// Fills x with uniform values in [lo, hi).
void test_fill_uniform(cnn_rng *rng, float *x, size_t n, float lo, float hi);

// The directory holding dataset `name` for data-driven tests:
// $CNN_DATA_DIR/name. Returns NULL (and prints why) when CNN_DATA_DIR is
// unset, so the caller can skip; exits 1 (the test fails) when it is set
// but has no such folder.
const char *test_data_dir(const char *name);

#endif
