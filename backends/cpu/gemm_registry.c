// The CPU GEMM ladder, in the order a reader should study it.
#include "gemm.h"

const cnn_gemm_variant cnn_cpu_gemm_variants[] = {
    {"naive", gemm_naive, "i-j-k triple loop, one dot product per output (the reference)"},
    {"openblas", gemm_openblas, "OpenBLAS cblas_sgemm (the external reference)"},
};
const int cnn_cpu_gemm_variant_count = sizeof cnn_cpu_gemm_variants / sizeof cnn_cpu_gemm_variants[0];
const char *const cnn_cpu_gemm_default = "openblas";
