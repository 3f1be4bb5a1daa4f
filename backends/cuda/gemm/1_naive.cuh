// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_1_NAIVE_CUH
#define CNN_CUDA_GEMM_1_NAIVE_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 1: naive. One thread per C element; threadIdx.x walks down rows, so
// the 32 threads of a warp read 32 different rows of A and write 32 rows of
// C: every access is its own memory transaction.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block (16,16), grid (cdiv(M,16), cdiv(N,16)).
template <bool TA, bool TB>
__global__ void sgemm1_naive(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                             const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int j = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc += op_at<TA>(A, lda, i, k) * op_at<TB>(B, ldb, k, j);
    store_c1(C, ldc, i, j, acc, alpha, beta);
}

} // namespace cnn_cuda

#endif
