// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU, with
// the tensor-core instruction emulated (tests/cuda_emu_shim.h).
#ifndef CNN_CUDA_GEMM_8_MMA_TF32_CUH
#define CNN_CUDA_GEMM_8_MMA_TF32_CUH

#include <string.h>

#include "core/precision.h"
#include "mma.cuh"
#include "tiles.cuh"

namespace cnn_cuda {

// Kernel 8: tensor cores (mma.sync), inputs rounded to a lower precision
// (--precision, docs/precision.md), FP32 sums. A and B stay FP32 in memory;
// each value is rounded once, while its tile is staged into shared memory,
// with the CPU backend's rounding functions (core/precision.h), so both
// backends multiply exactly the same inputs.
//
// The format is a template parameter FMT (this file: MmaTf32; 8_mma_bf16.cuh:
// MmaBf16): shared memory holds 32-bit words along k, FMT::kpw values of k
// per word (tf32: 1, bf16: 2), and either instruction consumes 8 words of k
// with the same fragment layout (mma.cuh). Both tiles are stored k-minor,
// As[m][word] and Bs[n][word], rows padded to BKW + 4 words: the fragment
// reads of a warp (8 rows g x 4 words t) then hit 32 different banks.
//
// The block's BM x BN tile is split among warps of WM x WN, each a grid of
// (WM/16) x (WN/8) instruction tiles whose FP32 accumulators stay in
// registers. As in kernel 7, the next K-tile is fetched into registers
// (already rounded) while the current one is multiplied, with two shared
// buffers and one barrier per K-tile; and with more than one K slice
// (blockIdx.z) each block writes raw partial sums to W + z*M*N that
// splitk_reduce (7s_splitk.cuh) adds in slice order: no atomics.
template <int BM, int BN, int BKW, int WM, int WN> struct MmaTile {
    static constexpr int WARPS_M = BM / WM, WARPS_N = BN / WN;
    static constexpr int MI = WM / 16, NI = WN / 8; // instruction tiles per warp
    static constexpr int LD = BKW + 4;              // shared row stride in words
    static constexpr int NT = WARPS_M * WARPS_N * 32;
    static_assert(MI * 16 == WM && NI * 8 == WN, "a warp tile must be whole 16x8 instruction tiles");
    static_assert(WARPS_M * WM == BM && WARPS_N * WN == BN, "warps must tile the block tile exactly");
    static_assert(BKW % 8 == 0, "a K-tile must be whole instructions (8 words of k)");
    static constexpr int bm = BM, bn = BN, bkw = BKW, nt = NT;
};

// The configuration: 64x64 block tiles of 4 warps (32x32 each: 2x4
// instructions per 8 words of k), 16 words of k per tile (tf32: 16 k, bf16: 32 k).
typedef MmaTile<64, 64, 16, 32, 32> MmaTileCfg;

// The bits of a float, as the tensor core reads a .tf32 or packed operand register.
__device__ __forceinline__ uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

// TF32: one value per word, rounded to nearest even at 10 stored bits
// (cnn_round_tf32, the CPU's packed-tf32 rounding; the low 13 bits are then
// zero). Not cvt.rna.tf32.f32: that rounds ties away from zero.
struct MmaTf32 {
    static constexpr int kpw = 1;
    // The word holding v[0] (one k).
    __device__ static __forceinline__ uint32_t pack(const float *v) { return f32_bits(cnn_round_tf32(v[0])); }
    __device__ static __forceinline__ void mma(float d[4], const uint32_t a[4], const uint32_t b[2]) {
        mma_m16n8k8_tf32(d, a, b);
    }
};

// Stages a ROWS x BKW-word tile of a k-minor operand X(r, k) (op(A), or
// op(B) seen as (N,K)) from global memory, rounded and packed by FMT, through
// registers into shared memory S[r*LD + word], zero outside R rows and
// outside k < kend. KCONTIG: X(r, k) = X[r*ld + k] (k contiguous), else
// X[k*ld + r]; consecutive threads take consecutive addresses either way.
template <class FMT, bool KCONTIG, int ROWS, int BKW, int NT, int LD> struct MmaStage {
    static constexpr int WORDS = ROWS * BKW, PER = (WORDS + NT - 1) / NT;
    uint32_t v[PER];

    __device__ __forceinline__ static void coords(int e, int &r, int &w) {
        r = KCONTIG ? e / BKW : e % ROWS;
        w = KCONTIG ? e % BKW : e / ROWS;
    }
    // Fetches the tile whose corner is row r0, word w0.
    __device__ __forceinline__ void fetch(const float *__restrict__ X, int ld, int R, int kend, int r0, int w0,
                                          int tid) {
#pragma unroll
        for (int s = 0; s < PER; s++) {
            const int e = tid + s * NT;
            int r, w;
            coords(e, r, w);
            const int gr = r0 + r, k = (w0 + w) * FMT::kpw;
            float x[FMT::kpw];
#pragma unroll
            for (int u = 0; u < FMT::kpw; u++) {
                const bool in = (WORDS % NT == 0 || e < WORDS) && gr < R && k + u < kend;
                x[u] = in ? (KCONTIG ? X[(size_t)gr * ld + k + u] : X[(size_t)(k + u) * ld + gr]) : 0.0f;
            }
            v[s] = FMT::pack(x);
        }
    }
    // Writes the fetched words to S (every thread, then the caller synchronises).
    __device__ __forceinline__ void store(uint32_t *S, int tid) const {
#pragma unroll
        for (int s = 0; s < PER; s++) {
            const int e = tid + s * NT;
            if (WORDS % NT != 0 && e >= WORDS) continue;
            int r, w;
            coords(e, r, w);
            S[r * LD + w] = v[s];
        }
    }
};

// C is (M,N), op(A) is (M,K), op(B) is (K,N); block CFG::nt, grid (cdiv(N,BN), cdiv(M,BM), splits);
// blockIdx.z takes words [z*kw_chunk, (z+1)*kw_chunk) of k.
template <class FMT, class CFG, bool TA, bool TB>
__global__ void __launch_bounds__(CFG::nt)
    sgemm8_mma(int M, int N, int K, float alpha, const float *__restrict__ A, int lda, const float *__restrict__ B,
               int ldb, float beta, float *__restrict__ C, int ldc, int kw_chunk, float *__restrict__ W) {
    constexpr int BM = CFG::bm, BN = CFG::bn, BKW = CFG::bkw, NT = CFG::nt, LD = CFG::LD;
    constexpr int MI = CFG::MI, NI = CFG::NI;
    __shared__ __align__(16) uint32_t As[2][BM * LD]; // As[buf][m][word]
    __shared__ __align__(16) uint32_t Bs[2][BN * LD]; // Bs[buf][n][word]
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    const int wm0 = (warp / CFG::WARPS_N) * (MI * 16), wn0 = (warp % CFG::WARPS_N) * (NI * 8);
    const int kw_total = cdiv(K, FMT::kpw);
    const int wb = blockIdx.z * kw_chunk, we = imin(kw_total, wb + kw_chunk);
    const int kend = imin(K, we * FMT::kpw);

    // op(A)(m, k) is A[m*lda + k] (k contiguous) unless TA; op(B) as (N,K): B[n*ldb + k] when TB.
    MmaStage<FMT, !TA, BM, BKW, NT, LD> sa;
    MmaStage<FMT, TB, BN, BKW, NT, LD> sb;
    float acc[MI][NI][4];
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[mi][ni][r] = 0.0f;

    sa.fetch(A, lda, M, kend, row0, wb, tid);
    sb.fetch(B, ldb, N, kend, col0, wb, tid);
    sa.store(As[0], tid);
    sb.store(Bs[0], tid);
    __syncthreads();
    int buf = 0;
    for (int w0 = wb; w0 < we; w0 += BKW) {
        const bool more = w0 + BKW < we;
        if (more) { // the next tile's global loads overlap this tile's arithmetic
            sa.fetch(A, lda, M, kend, row0, w0 + BKW, tid);
            sb.fetch(B, ldb, N, kend, col0, w0 + BKW, tid);
        }
        const uint32_t *as = As[buf], *bs = Bs[buf];
#pragma unroll
        for (int ks = 0; ks < BKW; ks += 8) {
            uint32_t af[MI][4], bf[NI][2];
#pragma unroll
            for (int mi = 0; mi < MI; mi++) {
                const uint32_t *p = as + (wm0 + mi * 16 + g) * LD + ks + t;
                af[mi][0] = p[0], af[mi][1] = p[8 * LD], af[mi][2] = p[4], af[mi][3] = p[8 * LD + 4];
            }
#pragma unroll
            for (int ni = 0; ni < NI; ni++) {
                const uint32_t *p = bs + (wn0 + ni * 8 + g) * LD + ks + t;
                bf[ni][0] = p[0], bf[ni][1] = p[4];
            }
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
#pragma unroll
                for (int ni = 0; ni < NI; ni++) FMT::mma(acc[mi][ni], af[mi], bf[ni]);
        }
        if (more) {
            sa.store(As[buf ^ 1], tid);
            sb.store(Bs[buf ^ 1], tid);
        }
        __syncthreads();
        buf ^= 1;
    }

    // Epilogue: lane (g, t) holds D(g, 2t), D(g, 2t+1), D(g+8, 2t), D(g+8, 2t+1) of each instruction tile;
    // to C (alpha, beta), or raw partial sums to this slice of W.
    const OutTarget o = out_target(C, ldc, W, M, N, alpha, beta);
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int i = row0 + wm0 + mi * 16 + g + 8 * (r >> 1), j = col0 + wn0 + ni * 8 + 2 * t + (r & 1);
                if (i < M && j < N) store_c1(o.D, o.ldd, i, j, acc[mi][ni][r], o.alpha, o.beta);
            }
}

} // namespace cnn_cuda

#endif
