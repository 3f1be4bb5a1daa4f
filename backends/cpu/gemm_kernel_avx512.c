// The AVX-512 micro-kernels and packer. This file alone is compiled with
// -mavx512f -mfma (see CMakeLists.txt); gemm_packed.c calls it only after
// CPUID has said the CPU runs AVX-512.
//
// The main register tile is 12 rows x 32 columns of C: 24 zmm accumulators
// (each 16 floats), 2 zmm for the current row of the B sliver and 1 for a
// broadcast element of A: 27 of the 32 zmm registers. Per step k the
// kernel loads 2 vectors of B, broadcasts 12 elements of A and issues 24
// FMAs. A core with two FMA units and a 4-cycle FMA latency needs at least
// 8 independent accumulators to stay busy; 24 give slack, and 14 loads
// per 24 FMAs stay under the 2 loads per cycle the core can issue. Each
// vector of B loaded is used 12 times, so the B sliver can stream from L2.
//
// When K is small (the MLP's dX = dZ W2 has K = 10) the arithmetic per
// element of C is short and writing C dominates. A flatter 6 x 64 tile
// (the same 24 accumulators) writes each row of C in 256-byte runs instead
// of 128, which the cache hierarchy absorbs faster; it is used for K <= 32.
#include "gemm.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>
#include <stdbool.h>

// How many k steps ahead of use the B sliver is prefetched into L1.
#define PREFETCH_K 8
// How far ahead (rows, or 16-float blocks along a row) the packer prefetches the source.
#define PACK_AHEAD 4
// The largest K for which the 6 x 64 tile is used.
#ifndef SMALL_K_MAX
#define SMALL_K_MAX 32
#endif

// A mask of the first n of 16 lanes (n may be <= 0 or >= 16).
static inline __mmask16 lanes(int n) { return n <= 0 ? 0 : n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1); }

// Loads and stores of the lanes in k. A full vector goes without a mask:
// where writing C is the bottleneck (small K), masked stores of whole
// vectors measured 15-20% slower here than plain ones.
static inline __m512 get(const float *c, __mmask16 k) {
    return k == 0xFFFF ? _mm512_loadu_ps(c) : _mm512_maskz_loadu_ps(k, c);
}
static inline void put(float *c, __m512 x, __mmask16 k) {
    if (k == 0xFFFF) _mm512_storeu_ps(c, x);
    else _mm512_mask_storeu_ps(c, k, x);
}

// c (16 floats, the lanes in k) = alpha x + beta c; beta == 0 does not read c.
// alpha == 1 and beta == 1 (the common cases) skip their multiplies.
static inline void store_vec(float *c, __m512 x, float alpha, float beta, __mmask16 k) {
    if (alpha != 1.0f) x = _mm512_mul_ps(_mm512_set1_ps(alpha), x);
    if (beta == 1.0f) x = _mm512_add_ps(get(c, k), x);
    else if (beta != 0.0f) x = _mm512_fmadd_ps(_mm512_set1_ps(beta), get(c, k), x);
    put(c, x, k);
}

// The tile t (mr x nr floats, row-major) into C with element (i,j) at
// C[i*rs_c + j*cs_c], i < m, j < n: the transposed orientation (rs_c == 1)
// gathers each column of t and stores it as a contiguous run.
static void store_tile_strided(const float *t, int mr, int nr, float alpha, float beta, float *C, ptrdiff_t rs_c,
                               ptrdiff_t cs_c, int m, int n) {
    if (rs_c == 1 && mr <= 16) {
        const __mmask16 km = lanes(m);
        const __m512i rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                _mm512_set1_epi32(nr));
        for (int j = 0; j < n; j++)
            store_vec(C + j * cs_c, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), km, rows, t + j, 4), alpha, beta, km);
        return;
    }
    for (int i = 0; i < m; i++) // general strides (not used by gemm_packed)
        for (int j = 0; j < n; j++) {
            float *c = C + i * rs_c + j * cs_c;
            *c = beta == 0.0f ? alpha * t[i * nr + j] : alpha * t[i * nr + j] + beta * *c;
        }
}

// C (m,n) = alpha Ap (m,kc) Bp (kc,n) + beta C, m <= 12, n <= 32: 24 zmm
// accumulators, one rank-1 update (24 FMAs) per k; masked stores at the edges.
static void kernel_12x32(int kc, const float *restrict a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *restrict b,
                         ptrdiff_t ldb, float alpha, float beta, float *C, ptrdiff_t rs_c, ptrdiff_t cs_c, int m, int n) {
    (void)rs_a, (void)cs_a; // always a packed sliver (a_in_place is false)
    enum { MR = 12, NR = 32 };
#define DECLARE(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
    DECLARE(0) DECLARE(1) DECLARE(2) DECLARE(3) DECLARE(4) DECLARE(5)
    DECLARE(6) DECLARE(7) DECLARE(8) DECLARE(9) DECLARE(10) DECLARE(11)
#undef DECLARE
#define STEP(r)                                                                                                        \
    {                                                                                                                  \
        const __m512 ar = _mm512_set1_ps(a[r]);                                                                        \
        c##r##0 = _mm512_fmadd_ps(ar, b0, c##r##0);                                                                    \
        c##r##1 = _mm512_fmadd_ps(ar, b1, c##r##1);                                                                    \
    }
#define LOOP(LOAD0, LOAD1)                                                                                             \
    for (int k = 0; k < kc; k++, a += MR, b += ldb) {                                                                  \
        const __m512 b0 = LOAD0, b1 = LOAD1;                                                                           \
        _mm_prefetch((const char *)(b + PREFETCH_K * ldb), _MM_HINT_T0);                                               \
        _mm_prefetch((const char *)(b + PREFETCH_K * ldb + 16), _MM_HINT_T0);                                          \
        STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)                                                                \
        STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) STEP(11)                                                              \
    }
    if (ldb == NR) { // a packed sliver: aligned, zero-padded
        LOOP(_mm512_load_ps(b), _mm512_load_ps(b + 16))
    } else { // B itself: read only its n columns
        const __mmask16 kb0 = lanes(n), kb1 = lanes(n - 16);
        LOOP(_mm512_maskz_loadu_ps(kb0, b), _mm512_maskz_loadu_ps(kb1, b + 16))
    }
#undef LOOP
#undef STEP
    if (cs_c == 1) { // row-major C: one row of the tile is 32 contiguous floats
        const __mmask16 k0 = lanes(n), k1 = lanes(n - 16);
        const bool plain = alpha == 1.0f && beta == 0.0f; // the common case: just store
#define STORE(r)                                                                                                       \
    if (r < m) {                                                                                                       \
        if (plain) {                                                                                                   \
            put(C + r * rs_c, c##r##0, k0);                                                                            \
            put(C + r * rs_c + 16, c##r##1, k1);                                                                       \
        } else {                                                                                                       \
            store_vec(C + r * rs_c, c##r##0, alpha, beta, k0);                                                         \
            store_vec(C + r * rs_c + 16, c##r##1, alpha, beta, k1);                                                    \
        }                                                                                                              \
    }
        STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
        STORE(6) STORE(7) STORE(8) STORE(9) STORE(10) STORE(11)
#undef STORE
        return;
    }
    float t[MR * NR] __attribute__((aligned(64)));
#define SPILL(r)                                                                                                       \
    _mm512_store_ps(t + r * NR, c##r##0);                                                                              \
    _mm512_store_ps(t + r * NR + 16, c##r##1);
    SPILL(0) SPILL(1) SPILL(2) SPILL(3) SPILL(4) SPILL(5)
    SPILL(6) SPILL(7) SPILL(8) SPILL(9) SPILL(10) SPILL(11)
#undef SPILL
    store_tile_strided(t, MR, NR, alpha, beta, C, rs_c, cs_c, m, n);
}

// C (m,n) = alpha A (m,kc) B (kc,n) + beta C, m <= 6, n <= 64: the
// small-K tile, 24 zmm accumulators, 4 loads of B and 6 broadcasts of A
// per k. A is read in place (a_in_place): with K this small its rows stay
// in L1 for the whole call, and packing would cost more than it saves.
static void kernel_6x64(int kc, const float *restrict a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *restrict b,
                        ptrdiff_t ldb, float alpha, float beta, float *C, ptrdiff_t rs_c, ptrdiff_t cs_c, int m, int n) {
    enum { MR = 6, NR = 64 };
#define DECLARE(r)                                                                                                     \
    __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps(), c##r##2 = _mm512_setzero_ps(),               \
           c##r##3 = _mm512_setzero_ps();
    DECLARE(0) DECLARE(1) DECLARE(2) DECLARE(3) DECLARE(4) DECLARE(5)
#undef DECLARE
    // Row r of A starts at a_r; A may be a packed sliver or the matrix
    // itself. Rows past m repeat row m - 1 (read, never stored), so
    // nothing outside A is read.
#define ROW(r) const float *a##r = a + (r < m ? r : m - 1) * rs_a;
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
#define STEP(r)                                                                                                        \
    {                                                                                                                  \
        const __m512 ar = _mm512_set1_ps(a##r[off]);                                                                   \
        c##r##0 = _mm512_fmadd_ps(ar, b0, c##r##0);                                                                    \
        c##r##1 = _mm512_fmadd_ps(ar, b1, c##r##1);                                                                    \
        c##r##2 = _mm512_fmadd_ps(ar, b2, c##r##2);                                                                    \
        c##r##3 = _mm512_fmadd_ps(ar, b3, c##r##3);                                                                    \
    }
#define LOOP(LOAD0, LOAD1, LOAD2, LOAD3)                                                                               \
    for (ptrdiff_t k = 0, off = 0; k < kc; k++, off += cs_a, b += ldb) {                                               \
        const __m512 b0 = LOAD0, b1 = LOAD1, b2 = LOAD2, b3 = LOAD3;                                                   \
        STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)                                                                \
    }
    if (ldb == NR) { // a packed sliver: aligned, zero-padded
        LOOP(_mm512_load_ps(b), _mm512_load_ps(b + 16), _mm512_load_ps(b + 32), _mm512_load_ps(b + 48))
    } else { // B itself: read only its n columns
        const __mmask16 kb0 = lanes(n), kb1 = lanes(n - 16), kb2 = lanes(n - 32), kb3 = lanes(n - 48);
        LOOP(_mm512_maskz_loadu_ps(kb0, b), _mm512_maskz_loadu_ps(kb1, b + 16), _mm512_maskz_loadu_ps(kb2, b + 32),
             _mm512_maskz_loadu_ps(kb3, b + 48))
    }
#undef LOOP
#undef STEP
    if (cs_c == 1) { // row-major C: one row of the tile is 64 contiguous floats
        const __mmask16 k0 = lanes(n), k1 = lanes(n - 16), k2 = lanes(n - 32), k3 = lanes(n - 48);
        const bool plain = alpha == 1.0f && beta == 0.0f; // the common case: just store
#define STORE(r)                                                                                                       \
    if (r < m) {                                                                                                       \
        float *c = C + r * rs_c;                                                                                       \
        if (plain) {                                                                                                   \
            put(c, c##r##0, k0);                                                                                       \
            put(c + 16, c##r##1, k1);                                                                                  \
            put(c + 32, c##r##2, k2);                                                                                  \
            put(c + 48, c##r##3, k3);                                                                                  \
        } else {                                                                                                       \
            store_vec(c, c##r##0, alpha, beta, k0);                                                                    \
            store_vec(c + 16, c##r##1, alpha, beta, k1);                                                               \
            store_vec(c + 32, c##r##2, alpha, beta, k2);                                                               \
            store_vec(c + 48, c##r##3, alpha, beta, k3);                                                               \
        }                                                                                                              \
    }
        STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
#undef STORE
        return;
    }
    float t[MR * NR] __attribute__((aligned(64)));
#define SPILL(r)                                                                                                       \
    _mm512_store_ps(t + r * NR, c##r##0);                                                                              \
    _mm512_store_ps(t + r * NR + 16, c##r##1);                                                                         \
    _mm512_store_ps(t + r * NR + 32, c##r##2);                                                                         \
    _mm512_store_ps(t + r * NR + 48, c##r##3);
    SPILL(0) SPILL(1) SPILL(2) SPILL(3) SPILL(4) SPILL(5)
#undef SPILL
    store_tile_strided(t, MR, NR, alpha, beta, C, rs_c, cs_c, m, n);
}

// Transposes 16 vectors in place: afterwards r[j] lane i holds what r[i] lane j held.
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    // Interleave pairs of rows (within each 128-bit lane).
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    // Within each 128-bit lane, gather 4 rows of one column.
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    // Now r[4g + c], 128-bit lane q, holds rows 4g..4g+3 of column 4q + c.
    // Move the 128-bit lanes into place, in two rounds.
    for (int c = 0; c < 4; c++) {
        __m512 lo01 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44), hi01 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
        __m512 lo23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44);
        __m512 hi23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
        t[c] = _mm512_shuffle_f32x4(lo01, lo23, 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(lo01, lo23, 0xDD);
        t[8 + c] = _mm512_shuffle_f32x4(hi01, hi23, 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(hi01, hi23, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

// See gemm_pack_fn: w rows of X[r,k] = src[r*rs + k*cs] into W-row slivers
// (W <= 64), 16 floats per instruction.
static void pack_avx512(int W, int w, int kc, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst) {
    if (W > 64 || (rs != 1 && cs != 1)) {
        gemm_pack_portable(W, w, kc, src, rs, cs, dst);
        return;
    }
    const int slivers = (w + W - 1) / W;
    if (rs == 1) {
        // The values for one k are contiguous. Walk src along its rows,
        // eight slivers wide, dealing each row out to the slivers: the reads
        // are sequential runs and only eight destination streams are open
        // at a time (sliver by sliver would read a new page every row;
        // all slivers at once would write to as many pages every row).
        for (int t0 = 0; t0 < slivers; t0 += 8) {
            const int t1 = slivers - t0 < 8 ? slivers : t0 + 8;
            const float *row = src;
            for (int k = 0; k < kc; k++, row += cs)
                for (int t = t0; t < t1; t++) {
                    float *d = dst + ((size_t)t * kc + k) * W;
                    for (int r0 = 0; r0 < W; r0 += 16) {
                        const int r = t * W + r0;
                        _mm_prefetch((const char *)(row + PACK_AHEAD * cs + r), _MM_HINT_T0);
                        _mm512_mask_storeu_ps(d + r0, lanes(W - r0), _mm512_maskz_loadu_ps(lanes(w - r), row + r));
                    }
                }
        }
        return;
    }
    // cs == 1: each row of src runs along k. Transpose 16 x 16 blocks in registers.
    for (int t = 0; t < slivers; t++, dst += (size_t)W * kc) {
        for (int r0 = 0; r0 < W; r0 += 16) {
            const int valid = w - t * W - r0; // rows of this group that exist in src
            const __mmask16 out = lanes(W - r0);
            const float *s = src + (ptrdiff_t)(t * W + r0) * rs;
            for (int k0 = 0; k0 < kc; k0 += 16) {
                const int kb = kc - k0 < 16 ? kc - k0 : 16;
                const __mmask16 km = lanes(kb);
                __m512 r[16];
                if (valid >= 16)
                    for (int i = 0; i < 16; i++) {
                        _mm_prefetch((const char *)(s + i * rs + k0 + 16 * PACK_AHEAD), _MM_HINT_T0);
                        r[i] = _mm512_maskz_loadu_ps(km, s + i * rs + k0);
                    }
                else
                    for (int i = 0; i < 16; i++)
                        r[i] = i < valid ? _mm512_maskz_loadu_ps(km, s + i * rs + k0) : _mm512_setzero_ps();
                transpose16(r);
                for (int k = 0; k < kb; k++) _mm512_mask_storeu_ps(dst + (size_t)(k0 + k) * W + r0, out, r[k]);
            }
        }
    }
}

// K <= 32 keeps even a wide block of B small (32 x 2048 floats, 256 KiB),
// so it is as wide as can be: each row of C is then written in one pass.
static const gemm_ukernel avx512_small_k = {
    .name = "avx512", .mr = 6, .nr = 64, .kc = 384, .mc = 1536, .nc = 2048,
    .kernel = kernel_6x64, .pack = pack_avx512, .reorder = gemm_reorder_avx512, .a_in_place = true,
};

const gemm_ukernel gemm_ukernel_avx512 = {
    .name = "avx512", .mr = 12, .nr = 32, .kc = 384, .mc = 1536, .nc = 320,
    .kernel = kernel_12x32, .pack = pack_avx512, .reorder = gemm_reorder_avx512,
    .small_k = &avx512_small_k, .small_k_max = SMALL_K_MAX,
};
#else
// Not an x86-64 compiler with AVX-512: the kernel is absent and never chosen.
const gemm_ukernel gemm_ukernel_avx512 = {.name = "avx512", .mr = 12, .nr = 32, .kc = 384, .mc = 1536, .nc = 320};
#endif
