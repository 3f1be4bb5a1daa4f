// The loops of ladder step 2 (reorder), as an inline function so that
// gemm_reorder.c, gemm_reorder_avx2.c and gemm_reorder_avx512.c compile the
// same source for three instruction sets; the compiler's vectoriser then
// uses 4, 8 or 16 floats per instruction. gemm_reorder() picks one at run
// time (CPUID, or CNN_CPU_KERNEL).
#ifndef CNN_CPU_GEMM_REORDER_LOOPS_H
#define CNN_CPU_GEMM_REORDER_LOOPS_H

#include "gemm.h"

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: i-k-j order, or a
// stride-1 dot product when B is transposed.
//
// Without transb, row k of op(B) is contiguous: for each output row i and
// each k, the element a = alpha op(A)[i,k] stays in a register while the
// inner j loop adds a * B[k, :] to C[i, :]. Both rows are read and written
// in order, and the iterations are independent of each other, so the
// compiler turns the loop into SIMD instructions.
//
// With transb, op(B)[k,j] = B[j,k] and a j loop would jump ldb floats per
// step. There the stride-1 loop is the one over k: C[i,j] is the dot
// product of row i of op(A) and row j of B. `omp simd reduction` lets the
// compiler keep several partial sums (so it may reorder the additions).
static inline void gemm_reorder_loops(bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                                      int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    // op(A)[i,k] is at A[i*ars + k*acs].
    const size_t ars = transa ? 1 : (size_t)lda, acs = transa ? (size_t)lda : 1;
    if (!transb) {
        for (int i = 0; i < M; i++) {
            float *restrict c = C + (size_t)i * ldc;
            if (beta == 0.0f)
                for (int j = 0; j < N; j++) c[j] = 0.0f;
            else if (beta != 1.0f)
                for (int j = 0; j < N; j++) c[j] *= beta;
            for (int k = 0; k < K; k++) {
                const float a = alpha * A[i * ars + k * acs];
                const float *restrict b = B + (size_t)k * ldb;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            }
        }
        return;
    }
    for (int i = 0; i < M; i++) {
        const float *a = A + i * ars;
        float *c = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++) {
            const float *restrict b = B + (size_t)j * ldb;
            float acc = 0.0f;
            if (acs == 1) {
#pragma omp simd reduction(+ : acc)
                for (int k = 0; k < K; k++) acc += a[k] * b[k];
            } else {
#pragma omp simd reduction(+ : acc)
                for (int k = 0; k < K; k++) acc += a[k * acs] * b[k];
            }
            c[j] = beta == 0.0f ? alpha * acc : alpha * acc + beta * c[j];
        }
    }
}

#endif
