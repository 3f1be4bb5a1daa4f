// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_5_TILE2D_CUH
#define CNN_CUDA_GEMM_5_TILE2D_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 5: 2D register tiling. A 128x128 C tile per block of 256 threads;
// each thread computes an 8x8 sub-tile as outer products of 8 values of A
// and 8 values of B held in registers: 16 shared reads feed 64 multiply-adds.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block 256, grid (cdiv(N,128), cdiv(M,128)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(256)
    sgemm5_tile2d(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                  const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8, NT = (BM / TM) * (BN / TN);
    constexpr int SLDA = BK + 1, SLDB = BN + 4;
    __shared__ float As[BM * SLDA]; // As[m][k]
    __shared__ float Bs[BK * SLDB]; // Bs[k][n]
    const int tid = threadIdx.x;
    const int tc = tid % (BN / TN), tr = tid / (BN / TN);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    float acc[TM][TN] = {{0.0f}};
    float am[TM], bn[TN];
    for (int k0 = 0; k0 < K; k0 += BK) {
        load_tile<TA, BM, BK, NT, false, SLDA>(A, lda, M, K, row0, k0, As, tid);
        load_tile<TB, BK, BN, NT, false, SLDB>(B, ldb, K, N, k0, col0, Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
#pragma unroll
            for (int m = 0; m < TM; m++) am[m] = As[(tr * TM + m) * SLDA + k];
#pragma unroll
            for (int n = 0; n < TN; n++) bn[n] = Bs[k * SLDB + tc * TN + n];
#pragma unroll
            for (int m = 0; m < TM; m++)
#pragma unroll
                for (int n = 0; n < TN; n++) acc[m][n] += am[m] * bn[n];
        }
        __syncthreads();
    }
    for (int m = 0; m < TM; m++) {
        const int i = row0 + tr * TM + m;
        if (i >= M) break;
        for (int n = 0; n < TN; n++) {
            const int j = col0 + tc * TN + n;
            if (j < N) store_c1(C, ldc, i, j, acc[m][n], alpha, beta);
        }
    }
}

} // namespace cnn_cuda

#endif
