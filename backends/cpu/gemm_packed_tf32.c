// The tf32 GEMM on the CPU: the packed GEMM whose copies of A and B are
// rounded to tf32 (10 stored significand bits, round to nearest even) as
// they are packed; the FP32 micro-kernel then multiplies the rounded values
// and accumulates in FP32, as a tensor core in TF32 mode does. The CPU has
// no TF32 arithmetic: this variant is slower than packed, and exists so
// that training in tf32 can be compared on the CPU with the GPU's
// (docs/precision.md).
#include "core/precision.h"
#include "gemm.h"

// x (n) = x rounded to tf32, in place.
static void round_tf32(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = cnn_round_tf32(x[i]);
}

cnn_status gemm_packed_tf32(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    return gemm_packed_rounded(be, round_tf32, transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
