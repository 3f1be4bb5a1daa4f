// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_6_VEC_CUH
#define CNN_CUDA_GEMM_6_VEC_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 6: vectorised. Kernel 5's tiling, but global memory is read 128
// bits at a time (when aligned), the A tile is transposed as it is stored
// (As[k][m]) so that a thread's 8 values of A are contiguous, and the inner
// loop reads shared memory as float4: 4 shared loads feed 64 multiply-adds.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block 256, grid (cdiv(N,128), cdiv(M,128)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(256)
    sgemm6_vec(int M, int N, int K, float alpha, const float *__restrict__ A, int lda, const float *__restrict__ B,
               int ldb, float beta, float *__restrict__ C, int ldc, bool vec_a, bool vec_b, bool vec_c) {
    constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8, NT = (BM / TM) * (BN / TN);
    constexpr int SLDA = BM + 4, SLDB = BN + 4;
    __shared__ __align__(16) float As[BK * SLDA]; // As[k][m]
    __shared__ __align__(16) float Bs[BK * SLDB]; // Bs[k][n]
    const int tid = threadIdx.x;
    const int tc = tid % (BN / TN), tr = tid / (BN / TN);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    TileStage<TA, BM, BK, NT, true, SLDA> sa;
    TileStage<TB, BK, BN, NT, false, SLDB> sb;
    float acc[TM][TN] = {{0.0f}};
    float am[TM], bn[TN];
    for (int k0 = 0; k0 < K; k0 += BK) {
        sa.fetch(A, lda, M, K, row0, k0, vec_a, tid);
        sb.fetch(B, ldb, K, N, k0, col0, vec_b, tid);
        sa.store(As, tid);
        sb.store(Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
#pragma unroll
            for (int m = 0; m < TM; m += 4) {
                const float4 a4 = *reinterpret_cast<const float4 *>(As + k * SLDA + tr * TM + m);
                am[m] = a4.x, am[m + 1] = a4.y, am[m + 2] = a4.z, am[m + 3] = a4.w;
            }
#pragma unroll
            for (int n = 0; n < TN; n += 4) {
                const float4 b4 = *reinterpret_cast<const float4 *>(Bs + k * SLDB + tc * TN + n);
                bn[n] = b4.x, bn[n + 1] = b4.y, bn[n + 2] = b4.z, bn[n + 3] = b4.w;
            }
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
        for (int n = 0; n < TN; n += 4) {
            const int j = col0 + tc * TN + n;
            if (j < N)
                store_c4(C, ldc, N, i, j, make_float4(acc[m][n], acc[m][n + 1], acc[m][n + 2], acc[m][n + 3]), alpha,
                         beta, vec_c);
        }
    }
}

} // namespace cnn_cuda

#endif
