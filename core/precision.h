// The arithmetic a GEMM does with its inputs (--precision). Every precision
// keeps FP32 storage, FP32 accumulation, FP32 master weights and an FP32
// optimizer step: only the GEMM's inputs A and B are rounded to the
// format, once, before they are multiplied (docs/precision.md).
#ifndef CNN_PRECISION_H
#define CNN_PRECISION_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

// The rounding helpers below are also __device__ functions under nvcc, so
// the CUDA kernels (backends/cuda/gemm/8_mma_*.cuh) round their inputs with
// the very code the CPU backend's packing uses.
#if defined(__CUDACC__)
#define CNN_HD __host__ __device__
#else
#define CNN_HD
#endif

// Zero is FP32, so a GEMM variant initialised without a precision is FP32.
typedef enum {
    CNN_PRECISION_FP32 = 0, // 24-bit significand: inputs used as they are
    CNN_PRECISION_TF32 = 1, // inputs rounded to 11 significant bits (10 stored), FP32 exponent
    CNN_PRECISION_BF16 = 2, // inputs rounded to 8 significant bits (7 stored), FP32 exponent
    CNN_PRECISION_COUNT
} cnn_precision;

// "fp32", "tf32", "bf16" ("?" out of range).
const char *cnn_precision_name(cnn_precision p);
// Parses one of those names; the error lists them.
cnn_status cnn_precision_parse(const char *name, cnn_precision *out);
// Significant bits of an input in this format (24, 11, 8).
int cnn_precision_significand_bits(cnn_precision p);
// The unit roundoff of the input rounding, 2^-bits: the largest relative
// error of rounding one input to nearest (0 for FP32, where nothing is rounded).
double cnn_precision_input_roundoff(cnn_precision p);
// Bytes one input element occupies where the format is stored (bf16: 2;
// tf32 is read from FP32 storage: 4; fp32: 4). Outputs are always FP32.
int cnn_precision_input_bytes(cnn_precision p);

// x rounded to bf16 (round to nearest, ties to even; NaN stays a quiet NaN
// of the same sign; values past the largest bf16 become infinities), as
// its 16 bits: the upper half of the float with those bits.
CNN_HD static inline uint16_t cnn_bf16_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u); // NaN: keep it a quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
// x's bf16 bits (as cnn_bf16_bits) with a subnormal flushed to a zero of
// the same sign: what the bf16 GEMMs multiply (vdpbf16ps reads subnormal
// inputs as zero; the CPU and CUDA packings flush them for every kernel).
CNN_HD static inline uint16_t cnn_bf16_bits_ftz(float x) {
    uint16_t h = cnn_bf16_bits(x);
    if ((h & 0x7f80u) == 0) h &= 0x8000u;
    return h;
}
CNN_HD static inline float cnn_bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}
// x rounded to bf16 and back: the value a bf16 GEMM multiplies.
CNN_HD static inline float cnn_round_bf16(float x) { return cnn_bf16_to_float(cnn_bf16_bits(x)); }
// x rounded to tf32 (10 stored significand bits; to nearest, ties to even; NaN kept).
CNN_HD static inline float cnn_round_tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return x;
    u += 0xfffu + ((u >> 13) & 1u);
    u &= ~0x1fffu;
    memcpy(&x, &u, 4);
    return x;
}
// x rounded to the inputs of precision p (x itself for FP32).
CNN_HD static inline float cnn_round_to(cnn_precision p, float x) {
    return p == CNN_PRECISION_BF16 ? cnn_round_bf16(x) : p == CNN_PRECISION_TF32 ? cnn_round_tf32(x) : x;
}

#ifdef __cplusplus
}
#endif
#endif
