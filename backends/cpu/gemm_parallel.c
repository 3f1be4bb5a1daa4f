// Ladder step 4: the blocked GEMM with its output tiles shared among the
// cores. Tiles of C are independent (each is written by exactly one
// thread), so no locks or atomics are needed, and each element is summed
// in the same order as in blocked: the result does not depend on the
// number of threads.
#include <omp.h>

#include "gemm.h"

// Below this many multiply-adds, starting the threads costs more than it saves.
#define PARALLEL_MIN_MACS (1 << 16)

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: gemm_blocked's tiles,
// distributed over OpenMP threads (dynamic schedule: edge tiles are smaller).
cnn_status gemm_parallel(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    const gemm_ukernel *isa = cnn_cpu_ctx_of(be)->kernel; // the reorder loops for the chosen instruction set
    const int tiles_m = (M + GEMM_BLOCK_M - 1) / GEMM_BLOCK_M, tiles_n = (N + GEMM_BLOCK_N - 1) / GEMM_BLOCK_N;
    const int tiles = tiles_m * tiles_n;
    const bool parallel = (double)M * N * K >= PARALLEL_MIN_MACS && tiles > 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(cnn_cpu_ctx_of(be)->threads) if (parallel)
    for (int t = 0; t < tiles; t++) {
        int i0 = (t / tiles_n) * GEMM_BLOCK_M, j0 = (t % tiles_n) * GEMM_BLOCK_N;
        int m = M - i0 < GEMM_BLOCK_M ? M - i0 : GEMM_BLOCK_M;
        int n = N - j0 < GEMM_BLOCK_N ? N - j0 : GEMM_BLOCK_N;
        gemm_blocked_tile(isa->reorder, transa, transb, i0, j0, m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
    return CNN_OK;
}
