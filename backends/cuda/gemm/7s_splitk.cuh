// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_7S_SPLITK_CUH
#define CNN_CUDA_GEMM_7S_SPLITK_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 7s: the split-K reduction. When C has too few tiles to fill the
// GPU, warptile-small cuts K into slices (blockIdx.z of sgemm7_warptile),
// each writing raw partial sums to a slice of the scratch W; this kernel adds
// the slices in slice order and applies alpha/beta: no atomics, deterministic.
// W is (splits, M, N), C is (M,N): C = alpha * (sum over slices in order) + beta C.
__global__ void splitk_reduce(int M, int N, int splits, const float *__restrict__ W, float alpha, float beta,
                              float *__restrict__ C, int ldc) {
    const size_t mn = (size_t)M * N;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < mn; e += (size_t)gridDim.x * blockDim.x) {
        float s = W[e];
        for (int z = 1; z < splits; z++) s += W[(size_t)z * mn + e];
        const int i = (int)(e / N), j = (int)(e % N);
        store_c1(C, ldc, i, j, s, alpha, beta);
    }
}

} // namespace cnn_cuda

#endif
