// The bf16 GEMM on the CPU: C = alpha op(A) op(B) + beta C with A and B
// rounded to bf16 (round to nearest even, NaN kept, subnormals flushed to
// zero as vdpbf16ps reads them) while they are packed, and FP32 sums.
// The packing lays k out in pairs, one pair of bf16 per 32-bit word, which
// is what the AVX-512 BF16 instruction vdpbf16ps multiplies: 16 lanes, each
// adding two products to an FP32 accumulator. A portable kernel does the
// same arithmetic in the same order, so both give the same bits, and the
// scalar one is what a CPU without AVX-512 BF16 runs (docs/precision.md).
//
// The loops are the BLIS ones of gemm_packed.c, simplified: C is cut into
// as many parts as threads (by rows or columns of register tiles, whichever
// has more), and each part packs its own blocks. The depth block KC is the
// same for every kernel: the sums then run in the same order.
#include <omp.h>
#include <stdlib.h>

#include "core/precision.h"
#include "cpu_features.h"
#include "gemm.h"

enum { KC = 256, MC_TILES = 16, NC = 512 }; // depth, rows of A per block (in tiles), columns of B per block

// x's bf16 bits with a subnormal flushed to a zero of the same sign (vdpbf16ps treats them as zero).
static inline uint32_t bf16_daz(float x) { return cnn_bf16_bits_ftz(x); }

// A view of a matrix: element (r, c) is p[r*rs + c*cs].
typedef struct {
    const float *p;
    ptrdiff_t rs, cs;
} view;

// Rows [r0, r0 + w) of X (rows, depth k0 .. k0 + kc) into slivers of W
// rows, pair-major: dst[(t*kp + p)*W + i] = (X[r0+t*W+i, k0+2p], X[.., k0+2p+1])
// as bf16, zero past w rows and past kc.
static void pack_pairs(view x, int r0, int w, int k0, int kc, int W, uint32_t *dst) {
    const int kp = (kc + 1) / 2, slivers = (w + W - 1) / W;
    for (int t = 0; t < slivers; t++)
        for (int p = 0; p < kp; p++) {
            uint32_t *d = dst + ((size_t)t * kp + p) * W;
            const int k = k0 + 2 * p;
            const bool odd = 2 * p + 1 < kc;
            for (int i = 0; i < W; i++) {
                const int r = t * W + i;
                if (r >= w) {
                    d[i] = 0;
                    continue;
                }
                const float *s = x.p + (ptrdiff_t)(r0 + r) * x.rs + (ptrdiff_t)k * x.cs;
                d[i] = bf16_daz(s[0]) | (odd ? bf16_daz(s[x.cs]) << 16 : 0u);
            }
        }
}

void gemm_bf16_store_tile(const float *t, int nr, float alpha, float beta, float *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
                          int m, int n) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *c = C + i * rs_c + j * cs_c;
            const float x = alpha * t[i * nr + j];
            *c = beta == 0.0f ? x : x + beta * *c;
        }
}

enum { SMR = 4, SNR = 8 };

// C (m,n) = alpha A (m,2kp) B (2kp,n) + beta C, m <= 4, n <= 8, from bf16 pairs:
// per pair, acc = (acc + a_odd b_odd) + a_even b_even, as vdpbf16ps.
static void kernel_bf16_4x8(int kp, const uint32_t *a, const uint32_t *b, float alpha, float beta, float *C,
                            ptrdiff_t rs_c, ptrdiff_t cs_c, int m, int n) {
    float acc[SMR * SNR] = {0.0f};
    for (int p = 0; p < kp; p++, a += SMR, b += SNR)
        for (int i = 0; i < SMR; i++) {
            const float a0 = cnn_bf16_to_float((uint16_t)a[i]), a1 = cnn_bf16_to_float((uint16_t)(a[i] >> 16));
            for (int j = 0; j < SNR; j++) {
                const float b0 = cnn_bf16_to_float((uint16_t)b[j]), b1 = cnn_bf16_to_float((uint16_t)(b[j] >> 16));
                float s = acc[i * SNR + j] + a1 * b1; // each product is exact in FP32
                acc[i * SNR + j] = s + a0 * b0;
            }
        }
    gemm_bf16_store_tile(acc, SNR, alpha, beta, C, rs_c, cs_c, m, n);
}

const gemm_bf16_ukernel gemm_bf16_ukernel_scalar = {"scalar", SMR, SNR, kernel_bf16_4x8};

const gemm_bf16_ukernel *gemm_bf16_kernel_of(const cnn_backend *be) {
    const cnn_cpu_ctx *ctx = cnn_cpu_ctx_of(be);
    if (ctx->kernel == &gemm_ukernel_avx512 && cnn_cpu_features_get()->avx512_bf16 && gemm_bf16_ukernel_avx512.kernel)
        return &gemm_bf16_ukernel_avx512;
    return &gemm_bf16_ukernel_scalar;
}

static int min_i(int a, int b) { return a < b ? a : b; }

// The packed copies of one part (per thread, kept between calls).
static _Thread_local uint32_t *buf;
static _Thread_local size_t buf_words;

static uint32_t *buffer(size_t words) {
    if (words > buf_words) {
        free(buf);
        buf_words = 0;
        buf = aligned_alloc(64, (words * 4 + 63) / 64 * 64);
        if (!buf) return NULL;
        buf_words = words;
    }
    return buf;
}

typedef struct {
    const gemm_bf16_ukernel *uk;
    int M, N, K;
    float alpha, beta;
    view a, b; // op(A) (M,K), and op(B) transposed: (N,K)
    float *C;
    int ldc;
} plan;

// C rows [i0, i1), columns [j0, j1): the BLIS loops (jc, pc, ic) around the kernel.
static cnn_status run_part(const plan *p, int i0, int i1, int j0, int j1) {
    const gemm_bf16_ukernel *uk = p->uk;
    const int mr = uk->mr, nr = uk->nr, mc = MC_TILES * mr, kpmax = (KC + 1) / 2;
    const int nc = (NC + nr - 1) / nr * nr;
    uint32_t *bp = buffer((size_t)kpmax * (nc + mc)), *ap = bp + (size_t)kpmax * nc;
    if (!bp) return cnn_error(CNN_ERR_NOMEM, "gemm_packed_bf16: out of memory for the packing buffers");
    for (int jc = j0; jc < j1; jc += nc) {
        const int ncb = min_i(nc, j1 - jc);
        for (int pc = 0; pc < p->K; pc += KC) {
            const int kcb = min_i(KC, p->K - pc), kp = (kcb + 1) / 2;
            const float beta_k = pc == 0 ? p->beta : 1.0f; // later depth blocks add to the first
            pack_pairs(p->b, jc, ncb, pc, kcb, nr, bp);
            for (int ic = i0; ic < i1; ic += mc) {
                const int mcb = min_i(mc, i1 - ic);
                pack_pairs(p->a, ic, mcb, pc, kcb, mr, ap);
                for (int ti = 0; ti * mr < mcb; ti++)
                    for (int tj = 0; tj * nr < ncb; tj++)
                        uk->kernel(kp, ap + (size_t)ti * kp * mr, bp + (size_t)tj * kp * nr, p->alpha, beta_k,
                                   p->C + (size_t)(ic + ti * mr) * p->ldc + jc + tj * nr, p->ldc, 1,
                                   min_i(mr, mcb - ti * mr), min_i(nr, ncb - tj * nr));
            }
        }
    }
    return CNN_OK;
}

// Below this many multiply-adds per thread, a thread costs more than it saves.
#define MIN_MACS_PER_THREAD (1 << 16)

cnn_status gemm_packed_bf16(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (alpha == 0.0f) { // as in BLAS: A and B are not read
        gemm_scale_c(M, N, beta, C, ldc);
        return CNN_OK;
    }
    const gemm_bf16_ukernel *uk = gemm_bf16_kernel_of(be);
    const plan p = {uk, M, N, K, alpha, beta, {A, transa ? 1 : lda, transa ? lda : 1},
                    {B, transb ? ldb : 1, transb ? 1 : ldb}, C, ldc};
    // Parts: whole register tiles along the dimension with more of them.
    const int m_tiles = (M + uk->mr - 1) / uk->mr, n_tiles = (N + uk->nr - 1) / uk->nr;
    const bool by_rows = m_tiles >= n_tiles;
    const int tiles = by_rows ? m_tiles : n_tiles, unit = by_rows ? uk->mr : uk->nr;
    int nt = cnn_cpu_ctx_of(be)->threads;
    const double macs = (double)M * N * K;
    if (macs < (double)MIN_MACS_PER_THREAD * nt) nt = (int)(macs / MIN_MACS_PER_THREAD);
    if (nt > tiles) nt = tiles;
    if (nt < 1) nt = 1;
    cnn_status status = CNN_OK;
#pragma omp parallel for num_threads(nt) schedule(static, 1)
    for (int t = 0; t < nt; t++) {
        const int lo = min_i(by_rows ? M : N, t * tiles / nt * unit);
        const int hi = min_i(by_rows ? M : N, (t + 1) * tiles / nt * unit);
        if (lo >= hi) continue;
        cnn_status s = by_rows ? run_part(&p, lo, hi, 0, N) : run_part(&p, 0, M, lo, hi);
        if (s != CNN_OK) {
#pragma omp critical(gemm_bf16_status)
            status = s;
        }
    }
    return status;
}
