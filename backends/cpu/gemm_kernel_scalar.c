// The portable micro-kernel, for CPUs with neither AVX-512 nor AVX2 (and
// for comparing against them: CNN_CPU_KERNEL=scalar). Plain C compiled for
// baseline x86-64; the compiler may use 128-bit SSE for the j loops.
#include "gemm.h"

enum { MR = 4, NR = 8 };

// C (m,n) = alpha Ap (m,kc) Bp (kc,n) + beta C, m <= 4, n <= 8: a 4x8 tile of
// sums in local variables (registers), one rank-1 update per k.
static void kernel_4x8(int kc, const float *restrict a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *restrict b,
                       ptrdiff_t ldb, float alpha, float beta, float *C, ptrdiff_t rs_c, ptrdiff_t cs_c, int m, int n) {
    (void)rs_a, (void)cs_a; // always a packed sliver (a_in_place is false)
    float acc[MR][NR] = {{0.0f}};
    if (ldb == NR) // a packed sliver, zero-padded
        for (int k = 0; k < kc; k++, a += MR, b += NR)
            for (int i = 0; i < MR; i++)
                for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    else // B itself: read only its n columns
        for (int k = 0; k < kc; k++, a += MR, b += ldb)
            for (int i = 0; i < MR; i++)
                for (int j = 0; j < n; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *c = C + i * rs_c + j * cs_c;
            *c = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
        }
}

const gemm_ukernel gemm_ukernel_scalar = {
    .name = "scalar", .mr = MR, .nr = NR, .kc = 256, .mc = 512, .nc = 512, .kernel = kernel_4x8, .pack = NULL,
    .reorder = gemm_reorder_base,
};
