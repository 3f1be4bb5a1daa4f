// The CPU GEMM ladder, in the order a reader should study it (docs/gemm.md).
#include "gemm.h"

const cnn_gemm_variant cnn_cpu_gemm_variants[] = {
    {"naive", gemm_naive, "i-j-k triple loop, one dot product per output (the reference)", CNN_PRECISION_FP32},
    {"reorder", gemm_reorder, "i-k-j order: stride-1, vectorisable inner loop", CNN_PRECISION_FP32},
    {"blocked", gemm_blocked, "reorder's loops tile by tile, so the tile of B stays in cache", CNN_PRECISION_FP32},
    {"parallel", gemm_parallel, "blocked, with output tiles shared among OpenMP threads", CNN_PRECISION_FP32},
    {"packed", gemm_packed, "BLIS-style: packed panels, AVX-512/AVX2 register micro-kernel, OpenMP",
     CNN_PRECISION_FP32},
    {"openblas", gemm_openblas, "OpenBLAS cblas_sgemm (the external reference)", CNN_PRECISION_FP32},
    // Lower precision (docs/precision.md): the first of each is --precision's default.
    {"packed-bf16", gemm_packed_bf16, "bf16 inputs, FP32 sums: AVX-512 BF16 vdpbf16ps micro-kernel (scalar fallback)",
     CNN_PRECISION_BF16},
    {"packed-tf32", gemm_packed_tf32, "tf32 inputs (rounded while packing), FP32 sums: packed's FP32 micro-kernel",
     CNN_PRECISION_TF32},
};
const int cnn_cpu_gemm_variant_count = sizeof cnn_cpu_gemm_variants / sizeof cnn_cpu_gemm_variants[0];
const char *const cnn_cpu_gemm_default = "packed";
