// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_3_SMEM_CUH
#define CNN_CUDA_GEMM_3_SMEM_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 3: shared-memory tiling. A 32x32 block of threads stages a 32x32
// tile of op(A) and of op(B) in shared memory and each thread computes one C
// element from them: every global element is read once per tile instead of
// once per thread. Rows are padded to 33 floats so that a transposed load
// (threads walking down a column) hits 32 different banks.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block (32,32), grid (cdiv(N,32), cdiv(M,32)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(1024)
    sgemm3_smem(int M, int N, int K, float alpha, const float *__restrict__ A, int lda, const float *__restrict__ B,
                int ldb, float beta, float *__restrict__ C, int ldc) {
    constexpr int T = 32, SLD = T + 1;
    __shared__ float As[T * SLD];
    __shared__ float Bs[T * SLD];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * T + tx;
    const int row0 = blockIdx.y * T, col0 = blockIdx.x * T;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += T) {
        load_tile<TA, T, T, T * T, false, SLD>(A, lda, M, K, row0, k0, As, tid);
        load_tile<TB, T, T, T * T, false, SLD>(B, ldb, K, N, k0, col0, Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < T; k++) acc += As[ty * SLD + k] * Bs[k * SLD + tx];
        __syncthreads();
    }
    if (row0 + ty < M && col0 + tx < N) store_c1(C, ldc, row0 + ty, col0 + tx, acc, alpha, beta);
}

} // namespace cnn_cuda

#endif
