#include <cblas.h>

#include "gemm.h"

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C through OpenBLAS. With
// beta == 0 OpenBLAS does not read C, matching our contract. OpenBLAS's
// thread count is process-wide: it is set from the backend on every call
// (a cheap store when it does not change), so that two backends with
// different thread counts each get their own.
cnn_status gemm_openblas(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    openblas_set_num_threads(cnn_cpu_ctx_of(be)->threads);
    cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans, transb ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
    return CNN_OK;
}
