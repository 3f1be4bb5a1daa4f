// The CUDA SGEMM ladder's host side: the GemmKernel names, the split-K
// scratch, the shape rules of `auto` and `warptile-small`, and launch_gemm,
// which picks each rung's grid and template instance and returns the first
// launch error. The rungs are the numbered files of this folder, each one
// idea better than the last (docs/cuda.md).
//
// Every kernel computes C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C,
// row-major, for any M, N, K >= 1 and both transposes (template TA, TB):
// op(A)(i,k) is A[i*lda + k], or A[k*lda + i] when TA; likewise B. When
// beta == 0, C is only written. No kernel uses atomics: every C element is
// summed in a fixed order, so results are bitwise reproducible run to run.
//
// Included by exactly one .cu file (gemm_ladder.cu) and by the emulation
// test (tests/test_cuda_emu.cpp), which runs these same kernels on host
// threads so that CI without a GPU checks their indexing. Kernels are
// launched with cnn_launch(kernel, grid, block, stream, args...) from
// launch.cuh (or the emulator's version of it).
#ifndef CNN_CUDA_GEMM_DISPATCH_CUH
#define CNN_CUDA_GEMM_DISPATCH_CUH

#include "tiles.cuh"
#include "1_naive.cuh"
#include "2_coalesced.cuh"
#include "3_smem.cuh"
#include "4_tile1d.cuh"
#include "5_tile2d.cuh"
#include "6_vec.cuh"
#include "7_warptile.cuh"
#include "7s_splitk.cuh"
#include "8_mma_tf32.cuh"
#include "8_mma_bf16.cuh"

namespace cnn_cuda {

enum GemmKernel {
    GEMM_NAIVE,
    GEMM_COALESCED,
    GEMM_SMEM,
    GEMM_TILE1D,
    GEMM_TILE2D,
    GEMM_VEC,
    GEMM_WARPTILE,       // the large warp-tile configuration, no split-K
    GEMM_WARPTILE_SMALL, // the small configuration with split-K chosen by shape
    GEMM_AUTO,           // by shape: GEMM_WARPTILE for large C, GEMM_WARPTILE_SMALL otherwise
    GEMM_MMA_TF32,       // tensor cores, inputs rounded to tf32 (--precision tf32), split-K by shape
    GEMM_MMA_BF16        // tensor cores, inputs rounded to bf16 (--precision bf16), split-K by shape
};

// Scratch for split-K partial sums, owned by the backend (fixed size, so
// launches never allocate and can be captured in a graph).
struct GemmScratch {
    float *w;       // device buffer of `floats` floats (NULL: no split-K)
    size_t floats;
    int num_sms;    // SMs on the device, for the split heuristic
};

static inline bool aligned16(const void *p, int ld) { return ((uintptr_t)p % 16 == 0) && ld % 4 == 0; }

// How many K slices the small warp tile uses for C (M,N) with inner size K:
// enough blocks to give every SM about two, each slice at least 128 deep,
// at most 16 slices, and the partial sums must fit the scratch buffer.
// The tiles are CFG::bm x CFG::bn (WarpTileSmall, or MmaTileCfg for rung 8).
template <class CFG> static inline int splitk_slices_for(int M, int N, int K, const GemmScratch &ws) {
    if (!ws.w || ws.num_sms <= 0) return 1;
    const int tiles = cdiv(M, CFG::bm) * cdiv(N, CFG::bn);
    int s = cdiv(2 * ws.num_sms, tiles);
    s = imin(s, K / 128);
    s = imin(s, 16);
    while (s > 1 && (size_t)s * M * N > ws.floats) s--;
    return imax(s, 1);
}
static inline int splitk_slices(int M, int N, int K, const GemmScratch &ws) {
    return splitk_slices_for<WarpTileSmall>(M, N, K, ws);
}

// Whether a C (M,N) is big enough for the large warp tile: at least one
// 128x128 tile per SM (otherwise the small tile with split-K keeps more SMs busy).
static inline bool gemm_prefers_large(int M, int N, const GemmScratch &ws) {
    const int sms = ws.num_sms > 0 ? ws.num_sms : 132;
    return cdiv(M, WarpTileLarge::bm) * cdiv(N, WarpTileLarge::bn) >= sms;
}

// C = alpha (sum of the splits slices of W, in order) + beta C: the second kernel of split-K.
static inline cudaError_t launch_splitk_reduce(int M, int N, int splits, const float *W, float alpha, float beta,
                                               float *C, int ldc, cudaStream_t stream) {
    const size_t mn = (size_t)M * N;
    const int blocks = (int)((mn + 255) / 256 < 4096 ? (mn + 255) / 256 : 4096);
    cnn_launch(splitk_reduce, dim3(blocks), dim3(256), stream, M, N, splits, W, alpha, beta, C, ldc);
    return cudaGetLastError();
}

template <class CFG, bool TA, bool TB>
static inline cudaError_t launch_warptile(int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                                          int ldb, float beta, float *C, int ldc, int splits, float *W,
                                          cudaStream_t stream) {
    const bool va = aligned16(A, lda), vb = aligned16(B, ldb), vc = aligned16(C, ldc);
    // Slices are whole K-tiles; recount them so that none is empty.
    int k_chunk = cdiv(cdiv(K, splits), CFG::bk) * CFG::bk;
    splits = cdiv(K, k_chunk);
    dim3 grid(cdiv(N, CFG::bn), cdiv(M, CFG::bm), splits);
    cnn_launch((sgemm7_warptile<CFG, TA, TB>), grid, dim3(CFG::nt), stream, M, N, K, alpha, A, lda, B, ldb, beta, C,
               ldc, va, vb, vc, k_chunk, W);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || splits == 1) return e;
    return launch_splitk_reduce(M, N, splits, W, alpha, beta, C, ldc, stream);
}

// Rung 8 (tensor cores, format FMT) with split-K by shape: slices are whole K-tiles of words.
template <class FMT, bool TA, bool TB>
static inline cudaError_t launch_mma(int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                                     int ldb, float beta, float *C, int ldc, const GemmScratch &ws,
                                     cudaStream_t stream) {
    typedef MmaTileCfg CFG;
    const int kw = cdiv(K, FMT::kpw);
    int splits = splitk_slices_for<CFG>(M, N, K, ws);
    const int kw_chunk = cdiv(cdiv(kw, splits), CFG::bkw) * CFG::bkw;
    splits = cdiv(kw, kw_chunk); // none empty
    dim3 grid(cdiv(N, CFG::bn), cdiv(M, CFG::bm), splits);
    cnn_launch((sgemm8_mma<FMT, CFG, TA, TB>), grid, dim3(CFG::nt), stream, M, N, K, alpha, A, lda, B, ldb, beta, C,
               ldc, kw_chunk, ws.w);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || splits == 1) return e;
    return launch_splitk_reduce(M, N, splits, ws.w, alpha, beta, C, ldc, stream);
}

template <bool TA, bool TB>
static inline cudaError_t launch_gemm_t(GemmKernel kind, int M, int N, int K, float alpha, const float *A, int lda,
                                        const float *B, int ldb, float beta, float *C, int ldc,
                                        const GemmScratch &ws, cudaStream_t stream) {
    switch (kind) {
    case GEMM_NAIVE:
        cnn_launch((sgemm1_naive<TA, TB>), dim3(cdiv(M, 16), cdiv(N, 16)), dim3(16, 16), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_COALESCED:
        cnn_launch((sgemm2_coalesced<TA, TB>), dim3(cdiv(N, 32), cdiv(M, 8)), dim3(32, 8), stream, M, N, K, alpha,
                   A, lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_SMEM:
        cnn_launch((sgemm3_smem<TA, TB>), dim3(cdiv(N, 32), cdiv(M, 32)), dim3(32, 32), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_TILE1D:
        cnn_launch((sgemm4_tile1d<TA, TB>), dim3(cdiv(N, 64), cdiv(M, 64)), dim3(512), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_TILE2D:
        cnn_launch((sgemm5_tile2d<TA, TB>), dim3(cdiv(N, 128), cdiv(M, 128)), dim3(256), stream, M, N, K, alpha,
                   A, lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_VEC:
        cnn_launch((sgemm6_vec<TA, TB>), dim3(cdiv(N, 128), cdiv(M, 128)), dim3(256), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc, aligned16(A, lda), aligned16(B, ldb), aligned16(C, ldc));
        return cudaGetLastError();
    case GEMM_WARPTILE:
        return launch_warptile<WarpTileLarge, TA, TB>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1, NULL,
                                                      stream);
    case GEMM_WARPTILE_SMALL:
        return launch_warptile<WarpTileSmall, TA, TB>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                                                      splitk_slices(M, N, K, ws), ws.w, stream);
    case GEMM_AUTO:
        return launch_gemm_t<TA, TB>(gemm_prefers_large(M, N, ws) ? GEMM_WARPTILE : GEMM_WARPTILE_SMALL, M, N, K,
                                     alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
    case GEMM_MMA_TF32:
        return launch_mma<MmaTf32, TA, TB>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
    case GEMM_MMA_BF16:
        return launch_mma<MmaBf16, TA, TB>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
    }
    return cudaErrorInvalidValue;
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C with the chosen kernel, queued on stream.
static inline cudaError_t launch_gemm(GemmKernel kind, bool ta, bool tb, int M, int N, int K, float alpha,
                                      const float *A, int lda, const float *B, int ldb, float beta, float *C,
                                      int ldc, const GemmScratch &ws, cudaStream_t stream) {
    if (ta)
        return tb ? launch_gemm_t<true, true>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream)
                  : launch_gemm_t<true, false>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
    return tb ? launch_gemm_t<false, true>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream)
              : launch_gemm_t<false, false>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
}

} // namespace cnn_cuda

#endif
