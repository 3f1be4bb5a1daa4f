// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_2_COALESCED_CUH
#define CNN_CUDA_GEMM_2_COALESCED_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 2: coalesced. Same work per thread, but threadIdx.x walks along a
// row of C: a warp reads one A element (broadcast), 32 consecutive B
// elements and writes 32 consecutive C elements.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block (32,8), grid (cdiv(N,32), cdiv(M,8)).
template <bool TA, bool TB>
__global__ void sgemm2_coalesced(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                                 const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    const int i = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc += op_at<TA>(A, lda, i, k) * op_at<TB>(B, ldb, k, j);
    store_c1(C, ldc, i, j, acc, alpha, beta);
}

} // namespace cnn_cuda

#endif
