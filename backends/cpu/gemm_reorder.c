// Ladder step 2: the same arithmetic as naive, with the loops ordered so the
// innermost one walks memory with stride 1 and the compiler can vectorise
// it (see gemm_reorder_loops.h). This file compiles the loops for baseline
// x86-64 (128-bit SSE); gemm_reorder_avx2.c and gemm_reorder_avx512.c
// compile the same loops for wider vectors.
#include "gemm.h"
#include "gemm_reorder_loops.h"

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: the reorder loops for baseline x86-64.
void gemm_reorder_base(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc) {
    gemm_reorder_loops(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: the reorder loops
// compiled for the instruction set the CPU backend chose (CPUID or CNN_CPU_KERNEL).
cnn_status gemm_reorder(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    const gemm_ukernel *isa = cnn_cpu_ctx_of(be)->kernel;
    isa->reorder(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return CNN_OK;
}
