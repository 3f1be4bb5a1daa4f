// What the CUDA backend offers without creating it: the GPUs it can see and
// its GEMM names. Defined in every build (cuda_unavailable.c without CUDA).
#ifndef CNN_CUDA_DEVICES_H
#define CNN_CUDA_DEVICES_H

#include <stddef.h>

#include "core/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// The number of CUDA devices usable here; 0 with the reason in why (a build
// without CUDA, no driver, no GPU visible).
int cnn_cuda_device_count(char *why, size_t why_len);

// The CUDA GEMMs (cnn_cuda_gemm_variant_count is 0 in a build without CUDA).
extern const cnn_gemm_variant cnn_cuda_gemm_variants[];
extern const int cnn_cuda_gemm_variant_count;
extern const char *const cnn_cuda_gemm_default;

#ifdef __cplusplus
}
#endif
#endif
