// Ladder step 3: cache blocking. reorder streams the whole of B through the
// cache once per row of C, so for large matrices every element of B comes
// from main memory or L3 again and again. Here the three loops are cut into
// tiles small enough that the tile of B being used stays in the L2 cache
// while every row of the C tile reuses it.
#include "gemm.h"

// C tile (m,n) at (i0,j0) = alpha op(A) op(B) + beta C: reorder's loops on
// one GEMM_BLOCK_K-deep slice of A and B at a time. The first slice applies
// beta; later ones add to what is there (beta = 1).
void gemm_blocked_tile(gemm_loops_fn loops, bool transa, bool transb, int i0, int j0, int m, int n, int K,
                       float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    for (int k0 = 0; k0 < K; k0 += GEMM_BLOCK_K) {
        int kb = K - k0 < GEMM_BLOCK_K ? K - k0 : GEMM_BLOCK_K;
        // The top-left corners of the slices of op(A) (rows i0.., depth k0..)
        // and op(B) (depth k0.., columns j0..) in their stored layouts.
        const float *a = transa ? A + (size_t)k0 * lda + i0 : A + (size_t)i0 * lda + k0;
        const float *b = transb ? B + (size_t)j0 * ldb + k0 : B + (size_t)k0 * ldb + j0;
        loops(transa, transb, m, n, kb, alpha, a, lda, b, ldb, k0 == 0 ? beta : 1.0f, C + (size_t)i0 * ldc + j0, ldc);
    }
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: output tiles of
// GEMM_BLOCK_M x GEMM_BLOCK_N, each accumulated over K in GEMM_BLOCK_K
// slices. The slice of B (128 x 256 floats, 128 KiB) fits in L2 and is
// reused by all 64 rows of the tile; the C tile (64 KiB) stays there across
// the K slices.
cnn_status gemm_blocked(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    const gemm_ukernel *isa = cnn_cpu_ctx_of(be)->kernel; // the reorder loops for the chosen instruction set
    for (int i0 = 0; i0 < M; i0 += GEMM_BLOCK_M)
        for (int j0 = 0; j0 < N; j0 += GEMM_BLOCK_N) {
            int m = M - i0 < GEMM_BLOCK_M ? M - i0 : GEMM_BLOCK_M;
            int n = N - j0 < GEMM_BLOCK_N ? N - j0 : GEMM_BLOCK_N;
            gemm_blocked_tile(isa->reorder, transa, transb, i0, j0, m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);
        }
    return CNN_OK;
}
