// gemm-bench's validation tolerances (tools/gemm_bench/validate.c): each
// variant is held to the bound its input precision gives. A TF32 GEMM,
// emulated here on the CPU (inputs cut to 10 mantissa bits by rounding and
// by truncation, products summed in float), passes the TF32 tolerance and
// fails the FP32 one (what made gemm-bench report cublas-tf32 as "FAILED
// validation"); a GEMM that drops a term fails both.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "test_util.h"

// x with its mantissa cut to TF32's 10 bits: rounded to nearest even, or truncated.
static float to_tf32(float x, int truncate) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if (!truncate) u += 0xFFFu + ((u >> 13) & 1u);
    u &= ~0x1FFFu;
    memcpy(&x, &u, sizeof x);
    return x;
}

// C (M,N) = A (M,K) B (K,N), row-major, summed in float from k = 0; with
// tf32 >= 0 the inputs are first converted (0: rounded, 1: truncated); the
// last term is left out when drop.
static void gemm_emulated(const gemm_shape *s, const float *A, const float *B, float *C, int tf32, int drop) {
    for (int i = 0; i < s->M; i++)
        for (int j = 0; j < s->N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < s->K - drop; k++) {
                float a = A[(size_t)i * s->K + k], b = B[(size_t)k * s->N + j];
                if (tf32 >= 0) a = to_tf32(a, tf32), b = to_tf32(b, tf32);
                acc += a * b;
            }
            C[(size_t)i * s->N + j] = acc;
        }
}

static void check_shape(int M, int N, int K) {
    gemm_shape s = {"", false, false, M, N, K};
    snprintf(s.name, sizeof s.name, "%dx%dx%d", M, N, K);
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
    cnn_rng rng;
    cnn_rng_seed(&rng, (uint64_t)M * 1000003u + N * 1009u + K);
    test_fill_uniform(&rng, A, (size_t)M * K, -1.0f, 1.0f);
    test_fill_uniform(&rng, B, (size_t)K * N, -1.0f, 1.0f);
    const double fp32_tol = gemm_tolerance("cublas", K), tf32_tol = gemm_tolerance("cublas-tf32", K);

    gemm_emulated(&s, A, B, C, -1, 0);
    double err = max_rel_error(&s, A, K, B, N, C, &rng);
    CHECK(err <= fp32_tol);
    for (int truncate = 0; truncate <= 1; truncate++) {
        gemm_emulated(&s, A, B, C, truncate, 0);
        err = max_rel_error(&s, A, K, B, N, C, &rng);
        // On small K the FP32 bound, (2K + 8) 2^-24, is far below TF32's
        // input error: there it would have failed (at K = 784 it is ~1e-4
        // and may pass by luck).
        const bool small = K <= 64;
        if (!(err <= tf32_tol && (!small || err > fp32_tol)))
            fprintf(stderr, "%s tf32 (%s): max_rel_err %.3g, tf32 tolerance %.3g, fp32 tolerance %.3g\n", s.name,
                    truncate ? "truncated" : "rounded", err, tf32_tol, fp32_tol);
        CHECK(err <= tf32_tol); // the TF32 bound holds
        CHECK(!small || err > fp32_tol); // and the FP32 one would have failed it
    }
    gemm_emulated(&s, A, B, C, 0, 1);
    err = max_rel_error(&s, A, K, B, N, C, &rng);
    CHECK(err > tf32_tol); // a dropped term is a bug under either tolerance
    free(A), free(B), free(C);
}

int main(void) {
    // The tolerances themselves: FP32 variants by float accumulation alone,
    // TF32 ones plus two input conversions of at most 2^-10 each.
    CHECK(gemm_input_roundoff("packed") == 0.0 && gemm_input_roundoff("cublas") == 0.0);
    CHECK(gemm_input_roundoff("cublas-tf32") == 0x1p-10);
    CHECK(gemm_tolerance("packed", 100) == 208.0 * 0x1p-24);
    CHECK(fabs(gemm_tolerance("cublas-tf32", 100) - (0x1p-9 + 0x1p-20 + 208.0 * 0x1p-24)) < 1e-18);
    // gemm-bench's smoke shapes and the MLP's first layer.
    check_shape(33, 17, 9);
    check_shape(5, 40, 3);
    check_shape(64, 512, 784);
    return test_finish("test_gemm_bench_validate");
}
