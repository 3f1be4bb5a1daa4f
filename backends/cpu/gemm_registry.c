// The CPU GEMM ladder, in the order a reader should study it (docs/gemm.md).
#include "gemm.h"

const cnn_gemm_variant cnn_cpu_gemm_variants[] = {
    {"naive", gemm_naive, "i-j-k triple loop, one dot product per output (the reference)"},
    {"reorder", gemm_reorder, "i-k-j order: stride-1, vectorisable inner loop"},
    {"blocked", gemm_blocked, "reorder's loops tile by tile, so the tile of B stays in cache"},
    {"parallel", gemm_parallel, "blocked, with output tiles shared among OpenMP threads"},
    {"packed", gemm_packed, "BLIS-style: packed panels, AVX-512/AVX2 register micro-kernel, OpenMP"},
    {"openblas", gemm_openblas, "OpenBLAS cblas_sgemm (the external reference)"},
};
const int cnn_cpu_gemm_variant_count = sizeof cnn_cpu_gemm_variants / sizeof cnn_cpu_gemm_variants[0];
const char *const cnn_cpu_gemm_default = "packed";
