#include <cblas.h>

#include "gemm.h"

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C through OpenBLAS. With
// beta == 0 OpenBLAS does not read C, matching our contract.
cnn_status gemm_openblas(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans, transb ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
    return CNN_OK;
}
