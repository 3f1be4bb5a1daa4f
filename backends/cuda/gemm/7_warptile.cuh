// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU.
#ifndef CNN_CUDA_GEMM_7_WARPTILE_CUH
#define CNN_CUDA_GEMM_7_WARPTILE_CUH

#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 7: warp tiling. The block's BM x BN tile is split among warps
// (WM x WN each) and each warp's tile among its 32 lanes laid out 4 x 8;
// a lane computes WMITER x WNITER sub-tiles of TM x TN. A warp's shared
// reads then cover one small contiguous patch (no bank conflicts on B,
// broadcasts on A), and the next K-tile is fetched into registers while the
// current one is multiplied (double-buffered shared memory, one barrier per
// K-tile).
//
// Split-K: blockIdx.z takes K range [z*k_chunk, min(K, (z+1)*k_chunk)); with
// more than one slice each block writes its raw partial sums to W + z*M*N
// (row-major (M,N), ld N) and splitk_reduce adds them in slice order: still
// no atomics, still deterministic.
template <int BM, int BN, int BK, int WM, int WN, int TM, int TN, int NT> struct WarpTile {
    static constexpr int LANES_M = 4, LANES_N = 8;
    static constexpr int WARPS_N = BN / WN, WARPS_M = BM / WM;
    static constexpr int WSUBM = LANES_M * TM, WSUBN = LANES_N * TN;
    static constexpr int WMITER = WM / WSUBM, WNITER = WN / WSUBN;
    static constexpr int SLDA = BM + 4, SLDB = BN + 4;
    static_assert(WARPS_M * WARPS_N * 32 == NT, "warps must tile the block tile exactly");
    static_assert(WMITER * WSUBM == WM && WNITER * WSUBN == WN, "lanes must tile the warp tile exactly");
    static_assert(TM % 4 == 0 && TN % 4 == 0, "thread tiles are read as float4");
    static constexpr int bm = BM, bn = BN, bk = BK, nt = NT, tm = TM, tn = TN;
};

// C is (M,N), op(A) is (M,K), op(B) is (K,N); block NT, grid (cdiv(N,BN), cdiv(M,BM), splits).
template <class CFG, bool TA, bool TB>
__global__ void __launch_bounds__(CFG::nt)
    sgemm7_warptile(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                    const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc, bool vec_a,
                    bool vec_b, bool vec_c, int k_chunk, float *__restrict__ W) {
    constexpr int BM = CFG::bm, BN = CFG::bn, BK = CFG::bk, NT = CFG::nt;
    constexpr int SLDA = CFG::SLDA, SLDB = CFG::SLDB;
    constexpr int TM = CFG::tm, TN = CFG::tn;
    constexpr int WMITER = CFG::WMITER, WNITER = CFG::WNITER;
    __shared__ __align__(16) float As[2][BK * SLDA]; // As[buf][k][m]
    __shared__ __align__(16) float Bs[2][BK * SLDB]; // Bs[buf][k][n]
    const int tid = threadIdx.x;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    const int kb = blockIdx.z * k_chunk, ke = imin(K, kb + k_chunk);
    const int warp = tid / 32, lane = tid % 32;
    const int wm0 = (warp / CFG::WARPS_N) * (BM / CFG::WARPS_M), wn0 = (warp % CFG::WARPS_N) * (BN / CFG::WARPS_N);
    const int lr = lane / CFG::LANES_N, lc = lane % CFG::LANES_N;

    TileStage<TA, BM, BK, NT, true, SLDA> sa;
    TileStage<TB, BK, BN, NT, false, SLDB> sb;
    float acc[WMITER * TM][WNITER * TN];
#pragma unroll
    for (int m = 0; m < WMITER * TM; m++)
#pragma unroll
        for (int n = 0; n < WNITER * TN; n++) acc[m][n] = 0.0f;

    sa.fetch(A, lda, M, ke, row0, kb, vec_a, tid);
    sb.fetch(B, ldb, ke, N, kb, col0, vec_b, tid);
    sa.store(As[0], tid);
    sb.store(Bs[0], tid);
    __syncthreads();
    int buf = 0;
    for (int k0 = kb; k0 < ke; k0 += BK) {
        const bool more = k0 + BK < ke;
        if (more) { // the next tile's global loads overlap this tile's arithmetic
            sa.fetch(A, lda, M, ke, row0, k0 + BK, vec_a, tid);
            sb.fetch(B, ldb, ke, N, k0 + BK, col0, vec_b, tid);
        }
        const float *as = As[buf], *bs = Bs[buf];
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float am[WMITER * TM], bn[WNITER * TN];
#pragma unroll
            for (int mi = 0; mi < WMITER; mi++)
#pragma unroll
                for (int t = 0; t < TM; t += 4) {
                    const float4 a4 = *reinterpret_cast<const float4 *>(as + k * SLDA + wm0 + mi * CFG::WSUBM +
                                                                        lr * TM + t);
                    am[mi * TM + t] = a4.x, am[mi * TM + t + 1] = a4.y;
                    am[mi * TM + t + 2] = a4.z, am[mi * TM + t + 3] = a4.w;
                }
#pragma unroll
            for (int ni = 0; ni < WNITER; ni++)
#pragma unroll
                for (int t = 0; t < TN; t += 4) {
                    const float4 b4 = *reinterpret_cast<const float4 *>(bs + k * SLDB + wn0 + ni * CFG::WSUBN +
                                                                        lc * TN + t);
                    bn[ni * TN + t] = b4.x, bn[ni * TN + t + 1] = b4.y;
                    bn[ni * TN + t + 2] = b4.z, bn[ni * TN + t + 3] = b4.w;
                }
#pragma unroll
            for (int m = 0; m < WMITER * TM; m++)
#pragma unroll
                for (int n = 0; n < WNITER * TN; n++) acc[m][n] = fmaf(am[m], bn[n], acc[m][n]);
        }
        if (more) {
            sa.store(As[buf ^ 1], tid);
            sb.store(Bs[buf ^ 1], tid);
        }
        __syncthreads();
        buf ^= 1;
    }

    // Epilogue: to C (alpha, beta), or raw partial sums to this slice of W.
    const OutTarget o = out_target(C, ldc, W, M, N, alpha, beta);
    const bool dvec = o.split ? (N % 4 == 0) : vec_c;
#pragma unroll
    for (int mi = 0; mi < WMITER; mi++)
#pragma unroll
        for (int a = 0; a < TM; a++) {
            const int i = row0 + wm0 + mi * CFG::WSUBM + lr * TM + a;
            if (i >= M) continue;
#pragma unroll
            for (int ni = 0; ni < WNITER; ni++)
#pragma unroll
                for (int t = 0; t < TN; t += 4) {
                    const int j = col0 + wn0 + ni * CFG::WSUBN + lc * TN + t;
                    const float *r = &acc[mi * TM + a][ni * TN + t];
                    if (j < N) store_c4(o.D, o.ldd, N, i, j, make_float4(r[0], r[1], r[2], r[3]), o.alpha, o.beta, dvec);
                }
        }
}

// The two warp-tile configurations: large tiles for large matrices (128 lanes,
// 128 accumulators each) and small tiles for the MLP's batch-128 shapes,
// where a 128x128 tile would leave most of the GPU's SMs idle.
typedef WarpTile<128, 128, 16, 64, 64, 8, 4, 128> WarpTileLarge;
typedef WarpTile<32, 64, 16, 16, 32, 4, 4, 128> WarpTileSmall;

} // namespace cnn_cuda

#endif
