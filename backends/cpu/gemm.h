// The CPU backend's GEMM implementations. Each has the cnn_sgemm_fn
// signature (see core/backend.h) and is listed in gemm_registry.c.
#ifndef CNN_CPU_GEMM_H
#define CNN_CPU_GEMM_H

#include "core/backend.h"

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: plain i-j-k triple loop.
cnn_status gemm_naive(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc);
// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: OpenBLAS cblas_sgemm, the reference.
cnn_status gemm_openblas(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc);

// All CPU GEMMs in ladder order, and how many there are.
extern const cnn_gemm_variant cnn_cpu_gemm_variants[];
extern const int cnn_cpu_gemm_variant_count;
// The variant the CPU backend uses when --gemm is not given.
extern const char *const cnn_cpu_gemm_default;

// Scales C (M,N) by beta in place; beta == 0 writes zeros without reading C.
void gemm_scale_c(int M, int N, float beta, float *C, int ldc);

#endif
