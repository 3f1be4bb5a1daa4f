// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_4_TILE1D_CUH
#define CNN_CUDA_GEMM_4_TILE1D_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 4: 1D register tiling. A 64x64 C tile per block of 512 threads;
// each thread computes a column of TM = 8 C elements, so one shared-memory
// read of B feeds 8 multiply-adds (kernel 3: one read per multiply-add).
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block 512, grid (cdiv(N,64), cdiv(M,64)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(512)
    sgemm4_tile1d(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                  const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    constexpr int BM = 64, BN = 64, BK = 8, TM = 8, NT = BM * BN / TM;
    constexpr int SLDA = BK + 1, SLDB = BN + 4;
    __shared__ float As[BM * SLDA]; // As[m][k]
    __shared__ float Bs[BK * SLDB]; // Bs[k][n]
    const int tid = threadIdx.x;
    const int tc = tid % BN, tr = tid / BN; // this thread: column tc, rows tr*TM .. tr*TM+TM-1
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    float acc[TM] = {0.0f};
    for (int k0 = 0; k0 < K; k0 += BK) {
        load_tile<TA, BM, BK, NT, false, SLDA>(A, lda, M, K, row0, k0, As, tid);
        load_tile<TB, BK, BN, NT, false, SLDB>(B, ldb, K, N, k0, col0, Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            const float b = Bs[k * SLDB + tc];
#pragma unroll
            for (int m = 0; m < TM; m++) acc[m] += As[(tr * TM + m) * SLDA + k] * b;
        }
        __syncthreads();
    }
    const int j = col0 + tc;
    if (j < N)
        for (int m = 0; m < TM; m++) {
            const int i = row0 + tr * TM + m;
            if (i < M) store_c1(C, ldc, i, j, acc[m], alpha, beta);
        }
}

} // namespace cnn_cuda

#endif
