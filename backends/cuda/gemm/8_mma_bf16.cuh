// Part of the CUDA SGEMM ladder (backends/cuda/gemm/, one file per rung;
// see docs/cuda.md). Every kernel computes C (M,N) = alpha op(A) (M,K)
// op(B) (K,N) + beta C, row-major; op(X) is X or its transpose (template
// TA, TB). Plain C++ too: tests/test_cuda_emu.cpp runs it on the CPU, with
// the tensor-core instruction emulated (tests/cuda_emu_shim.h).
#ifndef CNN_CUDA_GEMM_8_MMA_BF16_CUH
#define CNN_CUDA_GEMM_8_MMA_BF16_CUH

#include "8_mma_tf32.cuh"

namespace cnn_cuda {

// Kernel 8 in bf16: the tensor-core kernel of 8_mma_tf32.cuh (sgemm8_mma)
// with another format. Two values of k per 32-bit word, the even k in the
// low half (the operand layout of mma.m16n8k16 .bf16, and the pairs of the
// CPU's packed-bf16), each rounded to nearest even with subnormals flushed
// to zero (cnn_bf16_bits_ftz, the CPU packing's function). So a K-tile of
// 16 words is 32 values of k, and half the shared memory per value of tf32.
// A product of two bf16 values is exact in FP32; only the sums round.
struct MmaBf16 {
    static constexpr int kpw = 2;
    // The word holding v[0] (k, low half) and v[1] (k + 1, high half).
    __device__ static __forceinline__ uint32_t pack(const float *v) {
        return (uint32_t)cnn_bf16_bits_ftz(v[0]) | (uint32_t)cnn_bf16_bits_ftz(v[1]) << 16;
    }
    __device__ static __forceinline__ void mma(float d[4], const uint32_t a[4], const uint32_t b[2]) {
        mma_m16n8k16_bf16(d, a, b);
    }
};

} // namespace cnn_cuda

#endif
