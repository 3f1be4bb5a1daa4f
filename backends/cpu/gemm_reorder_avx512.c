// The reorder loops (gemm_reorder_loops.h) compiled with the AVX-512 flags
// that CMakeLists.txt gives files named *_avx512.c. Called only when the
// CPU runs AVX-512 (gemm_reorder chooses).
#include "gemm.h"
#include "gemm_reorder_loops.h"

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: the reorder loops, AVX-512 vectors.
void gemm_reorder_avx512(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc) {
    gemm_reorder_loops(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
