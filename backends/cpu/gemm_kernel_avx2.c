// The AVX2 + FMA micro-kernel, for CPUs without AVX-512 (and for comparing
// against it: CNN_CPU_KERNEL=avx2). This file alone is compiled with
// -mavx2 -mfma. AVX2 has 16 ymm registers of 8 floats: a 6 x 16 tile uses
// 12 accumulators, 2 registers for the row of B and 1 for the broadcast A
// element (15 of 16); 12 independent FMAs cover the 4-5 cycle FMA latency
// on two FMA units.
#include "gemm.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <stdbool.h>

enum { MR = 6, NR = 16 };

// An AVX mask whose first n of 8 lanes are set (all bits of the lane).
static inline __m256i lanes8(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// c (16 floats, the lanes in k0 | k1) = alpha x + beta c; beta == 0 does not read c.
static inline void store_row(float *c, __m256 x0, __m256 x1, __m256 va, __m256 vb, bool beta0, __m256i k0,
                             __m256i k1) {
    x0 = _mm256_mul_ps(va, x0);
    x1 = _mm256_mul_ps(va, x1);
    if (!beta0) {
        x0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c, k0), x0);
        x1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + 8, k1), x1);
    }
    _mm256_maskstore_ps(c, k0, x0);
    _mm256_maskstore_ps(c + 8, k1, x1);
}

// C (m,n) = alpha Ap (m,kc) Bp (kc,n) + beta C, m <= 6, n <= 16: 12 ymm
// accumulators, one rank-1 update (12 FMAs) per k; masked stores at the edges.
static void kernel_6x16(int kc, const float *restrict a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *restrict b,
                        ptrdiff_t ldb, float alpha, float beta, float *C, ptrdiff_t rs_c, ptrdiff_t cs_c, int m, int n) {
    (void)rs_a, (void)cs_a; // always a packed sliver (a_in_place is false)
#define DECLARE(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
    DECLARE(0) DECLARE(1) DECLARE(2) DECLARE(3) DECLARE(4) DECLARE(5)
#undef DECLARE
#define STEP(r)                                                                                                        \
    {                                                                                                                  \
        const __m256 ar = _mm256_broadcast_ss(a + r);                                                                  \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                                                                    \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                                                                    \
    }
#define LOOP(LOAD0, LOAD1)                                                                                             \
    for (int k = 0; k < kc; k++, a += MR, b += ldb) {                                                                  \
        const __m256 b0 = LOAD0, b1 = LOAD1;                                                                           \
        _mm_prefetch((const char *)(b + 8 * ldb), _MM_HINT_T0);                                                        \
        STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)                                                                \
    }
    if (ldb == NR) { // a packed sliver: aligned, zero-padded
        LOOP(_mm256_load_ps(b), _mm256_load_ps(b + 8))
    } else { // B itself: read only its n columns
        const __m256i kb0 = lanes8(n), kb1 = lanes8(n - 8);
        LOOP(_mm256_maskload_ps(b, kb0), _mm256_maskload_ps(b + 8, kb1))
    }
#undef LOOP
#undef STEP
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const bool beta0 = beta == 0.0f;
    if (cs_c == 1) {
        const __m256i k0 = lanes8(n), k1 = lanes8(n - 8);
#define STORE(r)                                                                                                       \
    if (r < m) store_row(C + r * rs_c, c##r##0, c##r##1, va, vb, beta0, k0, k1);
        STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
#undef STORE
        return;
    }
    // Other orientations: spill the tile and store element by element.
    float t[MR * NR] __attribute__((aligned(32)));
#define SPILL(r)                                                                                                       \
    _mm256_store_ps(t + r * NR, c##r##0);                                                                              \
    _mm256_store_ps(t + r * NR + 8, c##r##1);
    SPILL(0) SPILL(1) SPILL(2) SPILL(3) SPILL(4) SPILL(5)
#undef SPILL
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            float *c = C + i * rs_c + j * cs_c;
            *c = beta0 ? alpha * t[i * NR + j] : alpha * t[i * NR + j] + beta * *c;
        }
}

const gemm_ukernel gemm_ukernel_avx2 = {
    .name = "avx2", .mr = MR, .nr = NR, .kc = 256, .mc = 1536, .nc = 512, .kernel = kernel_6x16, .pack = NULL,
    .reorder = gemm_reorder_avx2,
};
#else
// Not an x86-64 compiler with AVX2: the kernel is absent and never chosen.
const gemm_ukernel gemm_ukernel_avx2 = {.name = "avx2", .mr = 6, .nr = 16, .kc = 256, .mc = 1536, .nc = 512};
#endif
