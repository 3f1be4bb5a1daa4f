// The CUDA backend's GEMM variants (--gemm=NAME): the numbered kernel
// ladder of gemm/ (one file per rung, launched by gemm/dispatch.cuh), the
// shape-dispatching default, and cuBLAS as the reference. All are queued on
// the backend's stream without host synchronisation or allocation, so they
// can be captured in a CUDA graph.
#include "cuda_common.h"
#include "launch.cuh"
#include "gemm/dispatch.cuh"

using namespace cnn_cuda;

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C with one of our kernels.
static cnn_status own_gemm(cnn_backend *be, GemmKernel kind, bool ta, bool tb, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    cnn_cuda_state *st = cnn_cuda_state_of(be);
    GemmScratch ws = {st->splitk_ws, st->splitk_floats, st->prop.multiProcessorCount};
    CUDA_CHECK(launch_gemm(kind, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, st->stream));
    return CNN_OK;
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C with cublasSgemm. Row-major C = op(A) op(B) is
// column-major C^T = op(B)^T op(A)^T, so the operands are passed swapped. TF32 tensor cores when tf32.
static cnn_status cublas_gemm(cnn_backend *be, bool tf32, bool ta, bool tb, int M, int N, int K, float alpha,
                              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    cnn_cuda_state *st = cnn_cuda_state_of(be);
    CUDA_CHECK(cublasSetMathMode(st->cublas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    CUDA_CHECK(cublasSgemm(st->cublas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                           &alpha, B, ldb, A, lda, &beta, C, ldc));
    return CNN_OK;
}

#define OWN_VARIANT(fname, kind)                                                                                       \
    static cnn_status fname(cnn_backend *be, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,     \
                            int lda, const float *B, int ldb, float beta, float *C, int ldc) {                        \
        return own_gemm(be, kind, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);                                   \
    }

// Each: C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C.
OWN_VARIANT(gemm_cuda_naive, GEMM_NAIVE)
OWN_VARIANT(gemm_cuda_coalesced, GEMM_COALESCED)
OWN_VARIANT(gemm_cuda_smem, GEMM_SMEM)
OWN_VARIANT(gemm_cuda_tile1d, GEMM_TILE1D)
OWN_VARIANT(gemm_cuda_tile2d, GEMM_TILE2D)
OWN_VARIANT(gemm_cuda_vec, GEMM_VEC)
OWN_VARIANT(gemm_cuda_warptile, GEMM_WARPTILE)
OWN_VARIANT(gemm_cuda_warptile_small, GEMM_WARPTILE_SMALL)
OWN_VARIANT(gemm_cuda_auto, GEMM_AUTO)

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: cuBLAS FP32 (no TF32).
static cnn_status gemm_cuda_cublas(cnn_backend *be, bool ta, bool tb, int M, int N, int K, float alpha,
                                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    return cublas_gemm(be, false, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: cuBLAS with TF32 tensor cores (10-bit mantissa inputs).
static cnn_status gemm_cuda_cublas_tf32(cnn_backend *be, bool ta, bool tb, int M, int N, int K, float alpha,
                                        const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    return cublas_gemm(be, true, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

extern "C" {

const cnn_gemm_variant cnn_cuda_gemm_variants[] = {
    {"naive", gemm_cuda_naive, "1: one thread per element, threads walk down rows (uncoalesced)"},
    {"coalesced", gemm_cuda_coalesced, "2: one thread per element, threads walk along rows (coalesced)"},
    {"smem", gemm_cuda_smem, "3: 32x32 tiles staged in shared memory"},
    {"tile1d", gemm_cuda_tile1d, "4: 64x64 block tile, 8 outputs per thread (1D register tiling)"},
    {"tile2d", gemm_cuda_tile2d, "5: 128x128 block tile, 8x8 outputs per thread (2D register tiling)"},
    {"vec", gemm_cuda_vec, "6: as 5 with 128-bit loads and a transposed A tile"},
    {"warptile", gemm_cuda_warptile, "7: 128x128 warp tiling, double-buffered (large matrices)"},
    {"warptile-small", gemm_cuda_warptile_small, "7s: 32x64 warp tiling with deterministic split-K (small C)"},
    {"auto", gemm_cuda_auto, "default: warptile when C fills the GPU with 128x128 tiles, else warptile-small"},
    {"cublas", gemm_cuda_cublas, "reference: cuBLAS SGEMM, FP32 (TF32 off)"},
    {"cublas-tf32", gemm_cuda_cublas_tf32, "reference: cuBLAS SGEMM with TF32 tensor cores", CNN_PRECISION_TF32},
};
const int cnn_cuda_gemm_variant_count = (int)(sizeof cnn_cuda_gemm_variants / sizeof cnn_cuda_gemm_variants[0]);
const char *const cnn_cuda_gemm_default = "auto";
}
