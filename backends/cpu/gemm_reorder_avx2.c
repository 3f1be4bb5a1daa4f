// The reorder loops (gemm_reorder_loops.h) compiled with the AVX2 flags
// that CMakeLists.txt gives files named *_avx2.c. Called only when the
// CPU runs AVX2 (gemm_reorder chooses).
#include "gemm.h"
#include "gemm_reorder_loops.h"

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: the reorder loops, AVX2 vectors.
void gemm_reorder_avx2(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc) {
    gemm_reorder_loops(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
