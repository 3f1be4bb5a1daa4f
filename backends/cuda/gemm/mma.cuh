// The warp-level tensor-core instructions of rungs 8 (8_mma_tf32.cuh,
// 8_mma_bf16.cuh), each behind one small __device__ function so that the
// CPU emulator (tests/cuda_emu_shim.h, which defines CNN_CUDA_EMULATED)
// supplies its own version with the same fragment semantics.
//
// Both shapes compute, for the warp, D (16x8) = A (16xK) B (Kx8) + C in
// FP32, with every operand spread over the 32 lanes as 32-bit registers.
// Seen as 32-bit words along k (one tf32 per word for m16n8k8, two bf16 per
// word for m16n8k16, the lower k in the low half), both shapes have the same
// layout (PTX ISA, "Matrix fragments for mma.m16n8k8 / mma.m16n8k16"), with
// g = lane / 4 and t = lane % 4:
//   a[0] = A(g, t)    a[1] = A(g+8, t)    a[2] = A(g, t+4)    a[3] = A(g+8, t+4)   (row, word)
//   b[0] = B(t, g)    b[1] = B(t+4, g)                                             (word, column)
//   d[0] = D(g, 2t)   d[1] = D(g, 2t+1)   d[2] = D(g+8, 2t)   d[3] = D(g+8, 2t+1)   (row, column)
// so a K-tile of 8 words is one instruction either way.
//
// mma.sync with .tf32 or .bf16 inputs needs sm_80 or newer. The project
// also builds PTX for compute_75 (CMakeLists.txt); there the functions trap,
// and the host refuses to launch them on a GPU older than sm_80
// (gemm_ladder.cu), so the trap is never reached.
#ifndef CNN_CUDA_GEMM_MMA_CUH
#define CNN_CUDA_GEMM_MMA_CUH

#include <stdint.h>

#ifndef CNN_CUDA_EMULATED

namespace cnn_cuda {

// d (16x8, FP32, in/out) += a (16x8 tf32) b (8x8 tf32), one warp, fragments as above.
__device__ __forceinline__ void mma_m16n8k8_tf32(float d[4], const uint32_t a[4], const uint32_t b[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(__CUDA_ARCH__)
    (void)d, (void)a, (void)b;
    __trap(); // no tf32 tensor cores before sm_80: the host does not launch this
#else
    (void)d, (void)a, (void)b;
#endif
}

// d (16x8, FP32, in/out) += a (16x16 bf16) b (16x8 bf16), one warp, fragments as above.
__device__ __forceinline__ void mma_m16n8k16_bf16(float d[4], const uint32_t a[4], const uint32_t b[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(__CUDA_ARCH__)
    (void)d, (void)a, (void)b;
    __trap(); // no bf16 tensor cores before sm_80: the host does not launch this
#else
    (void)d, (void)a, (void)b;
#endif
}

} // namespace cnn_cuda

#endif // CNN_CUDA_EMULATED: tests/cuda_emu_shim.h defines both functions

#endif
