// The CUDA backend's GEMM variants (--gemm=NAME): the numbered kernel
// ladder of gemm/ (one file per rung, launched by gemm/dispatch.cuh), the
// shape-dispatching default, our tensor-core kernels for --precision tf32
// and bf16, and cuBLAS as the reference of each precision. All are queued on
// the backend's stream without host synchronisation or allocation, so they
// can be captured in a CUDA graph.
#include "cuda_common.h"
#include "launch.cuh"
#include "gemm/dispatch.cuh"

using namespace cnn_cuda;

// X (rows, cols) with leading dimension ld, as bf16 bits into dst (rows, cols), packed: rounded to
// nearest even, subnormals flushed (cnn_bf16_bits_ftz, as mma-bf16 and the CPU's packed-bf16 read them).
__global__ void k_to_bf16(const float *__restrict__ X, int rows, int cols, int ld, uint16_t *__restrict__ dst) {
    const size_t n = (size_t)rows * cols;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (size_t)gridDim.x * blockDim.x)
        dst[e] = cnn_bf16_bits_ftz(X[(e / cols) * ld + e % cols]);
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C with one of our kernels. Rung 8 (tensor cores,
// mma.sync with .tf32/.bf16 inputs) needs compute capability 8.0: refused cleanly on older GPUs.
static cnn_status own_gemm(cnn_backend *be, GemmKernel kind, bool ta, bool tb, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    cnn_cuda_state *st = cnn_cuda_state_of(be);
    const bool mma = kind == GEMM_MMA_TF32 || kind == GEMM_MMA_BF16;
    if (mma && st->prop.major < 8)
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "--gemm=%s needs tensor cores with tf32 and bf16 inputs (compute capability 8.0 or newer); "
                         "%s is %d.%d: use --gemm=cublas-%s or --precision fp32",
                         kind == GEMM_MMA_BF16 ? "mma-bf16" : "mma-tf32", st->prop.name, st->prop.major,
                         st->prop.minor, kind == GEMM_MMA_BF16 ? "bf16" : "tf32");
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

// Room for `elems` bf16 values in the backend's conversion scratch: grown (outside a graph capture
// only: cudaMalloc there would break it) when too small.
static cnn_status bf16_scratch(cnn_cuda_state *st, size_t elems) {
    if (elems <= st->bf16_elems) return CNN_OK;
    if (st->capturing)
        return cnn_error(CNN_ERR_INVALID_ARG,
                         "cublas-bf16 needs %zu bf16 values of scratch, more than the %zu it holds, and cannot "
                         "allocate inside a CUDA graph capture: run the GEMM once before capturing it",
                         elems, st->bf16_elems);
    CUDA_CHECK(cudaStreamSynchronize(st->stream));
    CUDA_CHECK(cudaFree(st->bf16_ws));
    st->bf16_ws = NULL, st->bf16_elems = 0;
    CUDA_CHECK(cudaMalloc((void **)&st->bf16_ws, elems * sizeof(uint16_t)));
    st->bf16_elems = elems;
    return CNN_OK;
}

// X (rows, cols) with ld converted to packed bf16 at dst, on the backend's stream.
static cnn_status to_bf16(cnn_cuda_state *st, const float *X, int rows, int cols, int ld, uint16_t *dst) {
    const size_t n = (size_t)rows * cols;
    const int blocks = (int)((n + 255) / 256 < 4096 ? (n + 255) / 256 : 4096);
    cnn_launch(k_to_bf16, dim3(blocks), dim3(256), st->stream, X, rows, cols, ld, dst);
    CUDA_CHECK(cudaGetLastError());
    return CNN_OK;
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C with cublasGemmEx on bf16 copies of A and B (rounded as
// mma-bf16 rounds them) and FP32 accumulation (CUBLAS_COMPUTE_32F): the bf16 reference. Operands swapped
// as in cublas_gemm.
static cnn_status gemm_cuda_cublas_bf16(cnn_backend *be, bool ta, bool tb, int M, int N, int K, float alpha,
                                        const float *A, int lda, const float *B, int ldb, float beta, float *C,
                                        int ldc) {
    cnn_cuda_state *st = cnn_cuda_state_of(be);
    const int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    const size_t na = (size_t)ar * ac, nb = (size_t)br * bc;
    CNN_TRY(bf16_scratch(st, na + nb));
    uint16_t *a16 = st->bf16_ws, *b16 = st->bf16_ws + na;
    CNN_TRY(to_bf16(st, A, ar, ac, lda, a16));
    CNN_TRY(to_bf16(st, B, br, bc, ldb, b16));
    CUDA_CHECK(cublasSetMathMode(st->cublas, CUBLAS_DEFAULT_MATH));
    CUDA_CHECK(cublasGemmEx(st->cublas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                            &alpha, b16, CUDA_R_16BF, bc, a16, CUDA_R_16BF, ac, &beta, C, CUDA_R_32F, ldc,
                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
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

OWN_VARIANT(gemm_cuda_mma_tf32, GEMM_MMA_TF32) // tensor cores, inputs rounded to tf32
OWN_VARIANT(gemm_cuda_mma_bf16, GEMM_MMA_BF16) // tensor cores, inputs rounded to bf16

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
    // The first variant of a precision is its default (--precision): ours before cuBLAS.
    {"mma-tf32", gemm_cuda_mma_tf32, "8: tensor cores (mma.sync m16n8k8), inputs rounded to tf32, FP32 sums",
     CNN_PRECISION_TF32},
    {"mma-bf16", gemm_cuda_mma_bf16, "8: tensor cores (mma.sync m16n8k16), inputs rounded to bf16, FP32 sums",
     CNN_PRECISION_BF16},
    {"cublas", gemm_cuda_cublas, "reference: cuBLAS SGEMM, FP32 (TF32 off)"},
    {"cublas-tf32", gemm_cuda_cublas_tf32, "reference: cuBLAS SGEMM with TF32 tensor cores", CNN_PRECISION_TF32},
    {"cublas-bf16", gemm_cuda_cublas_bf16, "reference: cublasGemmEx on bf16 copies of A and B, FP32 sums",
     CNN_PRECISION_BF16},
};
const int cnn_cuda_gemm_variant_count = (int)(sizeof cnn_cuda_gemm_variants / sizeof cnn_cuda_gemm_variants[0]);
const char *const cnn_cuda_gemm_default = "auto";
}
