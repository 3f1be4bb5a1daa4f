// gemm-bench's validation: each variant's result against a double-precision
// reference, within a tolerance that follows from the variant's input precision.
#include <math.h>
#include <string.h>

#include "bench.h"

// Input precisions a variant's name can declare (until the backend's table
// carries a precision field): the relative spacing of the format's numbers,
// the most a conversion from float can change a value (truncation; rounding
// to nearest changes it by half that). FP32 inputs are used as they are.
static const struct {
    const char *tag;
    double ulp;
} input_formats[] = {
    {"tf32", 0x1p-10}, // 10 stored mantissa bits (tensor-core TF32)
    {"bf16", 0x1p-7},  // 7 stored mantissa bits
    {"fp16", 0x1p-10}, // 10 stored mantissa bits
};

double gemm_input_roundoff(const char *variant) {
    for (size_t i = 0; i < sizeof input_formats / sizeof input_formats[0]; i++)
        if (variant && strstr(variant, input_formats[i].tag)) return input_formats[i].ulp;
    return 0.0;
}

// Each product a'b' of converted inputs is ab(1 + da)(1 + db) with |da|, |db|
// <= u, so it is off by at most (2u + u^2)|ab|, and the K of them by at most
// (2u + u^2) sum|ab|: the same scale as the float accumulation's
// (2K + 8) 2^-24 sum|ab| (see docs/gemm.md), so the two bounds add.
double gemm_tolerance(const char *variant, int K) {
    const double u = gemm_input_roundoff(variant);
    return 2.0 * u + u * u + (2.0 * K + 8.0) * 0x1p-24;
}

double max_rel_error(const gemm_shape *sh, const float *A, int lda, const float *B, int ldb, const float *C,
                     cnn_rng *rng) {
    const int M = sh->M, N = sh->N, K = sh->K;
    const bool all = (double)M * N * K <= 64e6;
    const long count = all ? (long)M * N : 1028;
    double worst = 0.0;
    for (long e = 0; e < count; e++) {
        int i, j;
        if (all) i = (int)(e / N), j = (int)(e % N);
        else if (e < 4) i = (e & 1) ? M - 1 : 0, j = (e & 2) ? N - 1 : 0;
        else i = (int)(cnn_rng_u64(rng) % (uint64_t)M), j = (int)(cnn_rng_u64(rng) % (uint64_t)N);
        double sum = 0.0, scale = 0.0;
        for (int k = 0; k < K; k++) {
            double a = sh->ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
            double b = sh->tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
            sum += a * b;
            scale += fabs(a * b);
        }
        double err = fabs((double)C[(size_t)i * N + j] - sum) / (scale > 0 ? scale : 1.0);
        if (isnan(err)) return INFINITY;
        if (err > worst) worst = err;
    }
    return worst;
}
