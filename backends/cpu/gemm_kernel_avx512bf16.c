// The bf16 GEMM's AVX-512 BF16 micro-kernel. This file alone is compiled
// with -mavx512bf16 (see CMakeLists.txt); gemm_bf16.c calls it only after
// CPUID has reported AVX-512 BF16.
//
// The tile is 12 rows x 32 columns of C, as in the FP32 kernel: 24 zmm
// accumulators of 16 floats. One step takes one pair of k: 2 zmm of B
// (32 columns x 2 k as bf16), and for each row a broadcast 32-bit pair of A;
// vdpbf16ps then adds both products of every lane to its accumulator, so a
// step does twice the multiply-adds of an FP32 FMA step in the same
// instructions.
#include "gemm.h"

#if defined(__AVX512F__) && defined(__AVX512BF16__)
#include <immintrin.h>

enum { MR = 12, NR = 32 };

// C (m,n) = alpha A (m,2kp) B (2kp,n) + beta C, m <= 12, n <= 32: A and B packed in bf16 pairs (gemm.h).
static void kernel_bf16_12x32(int kp, const uint32_t *a, const uint32_t *b, float alpha, float beta, float *C,
                              ptrdiff_t rs_c, ptrdiff_t cs_c, int m, int n) {
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kp; p++, a += MR, b += NR) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
        for (int i = 0; i < MR; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    float t[MR * NR] __attribute__((aligned(64)));
    for (int i = 0; i < MR; i++) {
        _mm512_store_ps(t + i * NR, acc[i][0]);
        _mm512_store_ps(t + i * NR + 16, acc[i][1]);
    }
    gemm_bf16_store_tile(t, NR, alpha, beta, C, rs_c, cs_c, m, n);
}

const gemm_bf16_ukernel gemm_bf16_ukernel_avx512 = {"avx512bf16", MR, NR, kernel_bf16_12x32};
#else
const gemm_bf16_ukernel gemm_bf16_ukernel_avx512 = {"avx512bf16", 12, 32, NULL};
#endif
