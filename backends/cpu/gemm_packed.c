// Ladder step 5: the BLIS/Goto design. Three cache-blocking loops choose a
// block of A (mc x kc, kept in L3) and a block of B (kc x nc, kept in the
// core's L2); both are copied ("packed") into slivers laid out in exactly
// the order the micro-kernel reads them; two more loops walk the register
// tiles, and the micro-kernel (gemm_kernel_*.c) keeps an mr x nr tile of C
// in vector registers for the whole depth kc. Each thread computes its own
// rectangle of C. See docs/gemm.md for why each loop is where it is.
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_features.h"
#include "gemm.h"

// ---- choosing the micro-kernel ------------------------------------------------

static const gemm_ukernel *const all_kernels[] = {&gemm_ukernel_avx512, &gemm_ukernel_avx2, &gemm_ukernel_scalar};
enum { N_KERNELS = sizeof all_kernels / sizeof all_kernels[0] };

static bool runs_here(const gemm_ukernel *k) {
    const cnn_cpu_features *f = cnn_cpu_features_get();
    if (!k->kernel) return false;
    if (k == &gemm_ukernel_avx512) return f->avx512;
    if (k == &gemm_ukernel_avx2) return f->avx2_fma;
    return true;
}

int gemm_packed_kernels_supported(const gemm_ukernel **out, int max) {
    int n = 0;
    for (int i = 0; i < N_KERNELS; i++)
        if (runs_here(all_kernels[i]) && n < max) out[n++] = all_kernels[i];
    return n;
}

// Finds a kernel by name; `source` names where the name came from, for the message.
static cnn_status find_kernel(const char *name, const char *source, const gemm_ukernel **out) {
    for (int i = 0; i < N_KERNELS; i++) {
        if (strcmp(all_kernels[i]->name, name) != 0) continue;
        if (!runs_here(all_kernels[i]))
            return cnn_error(CNN_ERR_UNSUPPORTED,
                             "%s asks for the %s GEMM micro-kernel, which this CPU or build cannot run: "
                             "choose avx2 or scalar, or leave it unset for automatic choice",
                             source, name);
        *out = all_kernels[i];
        return CNN_OK;
    }
    return cnn_error(CNN_ERR_INVALID_ARG,
                     "%s asks for GEMM micro-kernel '%s': choose avx512, avx2 or scalar, or leave it unset", source,
                     name);
}

static const gemm_ukernel *env_kernel;     // CNN_CPU_KERNEL's choice, or CPUID's
static cnn_status env_status = CNN_OK;      // why CNN_CPU_KERNEL cannot be used
static char env_message[256];
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void read_env(void) {
    const char *name = getenv("CNN_CPU_KERNEL");
    if (name && *name) {
        env_status = find_kernel(name, "CNN_CPU_KERNEL", &env_kernel);
        if (env_status != CNN_OK) snprintf(env_message, sizeof env_message, "%s", cnn_last_error());
        return;
    }
    const gemm_ukernel *best[N_KERNELS];
    gemm_packed_kernels_supported(best, N_KERNELS); // the scalar kernel always runs: n >= 1
    env_kernel = best[0];
}

cnn_status gemm_default_kernel(const gemm_ukernel **out) {
    pthread_once(&env_once, read_env);
    if (env_status != CNN_OK) return cnn_error(env_status, "%s", env_message);
    *out = env_kernel;
    return CNN_OK;
}

cnn_status cnn_cpu_backend_set_kernel(cnn_backend *be, const char *name) {
    if (be->device != CNN_DEVICE_CPU)
        return cnn_error(CNN_ERR_INVALID_ARG, "the %s backend has no CPU micro-kernel to choose", be->name);
    const gemm_ukernel *k = NULL;
    if (name)
        CNN_TRY(find_kernel(name, "cnn_cpu_backend_set_kernel", &k));
    else
        CNN_TRY(gemm_default_kernel(&k));
    cnn_cpu_ctx_of(be)->kernel = k;
    return CNN_OK;
}

// ---- packing ------------------------------------------------------------------

// See gemm_pack_fn: w rows of X[r,k] = src[r*rs + k*cs] into W-row slivers.
void gemm_pack_portable(int W, int w, int kc, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst) {
    const int slivers = (w + W - 1) / W;
    if (rs == 1) { // the values for one k are contiguous: copy along each row of src in turn
        for (int k = 0; k < kc; k++) {
            const float *s = src + k * cs;
            for (int t = 0; t < slivers; t++) {
                float *d = dst + ((size_t)t * kc + k) * W;
                int valid = w - t * W < W ? w - t * W : W;
                for (int i = 0; i < valid; i++) d[i] = s[t * W + i];
                for (int i = valid; i < W; i++) d[i] = 0.0f;
            }
        }
        return;
    }
    // A transpose: read each row of src along k in short runs so that the
    // few destination lines being written stay in L1.
    for (int t = 0; t < slivers; t++, dst += (size_t)W * kc, src += W * rs) {
        int valid = w - t * W < W ? w - t * W : W;
        for (int k0 = 0; k0 < kc; k0 += 8) {
            int kb = kc - k0 < 8 ? kc - k0 : 8;
            for (int i = 0; i < valid; i++) {
                const float *s = src + i * rs + k0 * cs;
                for (int k = 0; k < kb; k++) dst[(size_t)(k0 + k) * W + i] = s[k * cs];
            }
            for (int k = 0; k < kb; k++)
                for (int i = valid; i < W; i++) dst[(size_t)(k0 + k) * W + i] = 0.0f;
        }
    }
}

// ---- the driver -----------------------------------------------------------------

// A matrix operand as a strided view: element (r, c) is p[r*rs + c*cs].
typedef struct {
    const float *p;
    ptrdiff_t rs, cs;
} view;

static int min_i(int a, int b) { return a < b ? a : b; }
static int ceil_div(int a, int b) { return (a + b - 1) / b; }
static int round_up(int a, int b) { return ceil_div(a, b) * b; }
// The size of blocks that cut n into the fewest pieces of at most max, as
// even as possible, rounded up to a multiple of unit.
static int even_block(int n, int max, int unit) { return round_up(ceil_div(n, ceil_div(n, max)), unit); }

// Part p of `parts` of a dimension of `total` elements cut into slivers of
// `unit`: whole slivers, as even as possible. The first element, and one
// past the last.
static int part_begin(int p, int parts, int slivers, int unit) { return p * slivers / parts * unit; }
static int part_end(int p, int parts, int slivers, int unit, int total) {
    return min_i(total, (p + 1) * slivers / parts * unit);
}

// Below this many multiply-adds per thread, a thread costs more than it saves.
#define PACKED_MIN_MACS_PER_THREAD (1 << 16)

// A shared machine. When another process keeps a core busy, a thread of
// ours may wait for a scheduler time slice (milliseconds) before it starts,
// and the whole call waits for it: a 20-microsecond GEMM then takes 5 ms.
// OpenMP's team barrier cannot be told to give up, but the call can notice
// that its threads started late and run single-threaded for a while (the
// result is the same: every part is summed in the same order whoever
// computes it). A late start right after a long pause is not that: OpenMP's
// idle threads go to sleep after a few milliseconds of spinning, and on a
// virtual machine waking a sleeping core takes 1-2 ms. So only a thread
// that starts late although the team ran a moment ago (and should still be
// spinning) counts. Only small calls back off: for a call of milliseconds
// a late start costs a small share, while one thread would cost half.
#define BACKOFF_MAX_MACS 16e6   // calls below this many multiply-adds (~0.2 ms)
#define LATE_START_NS 200000    // 0.2 ms: a thread this late was not scheduled
#define RECENT_NS 1000000       // the team's last call ended less than 1 ms ago
#define BACKOFF_NS 100000000    // then 0.1 s on one thread, and try the team again

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// The packing buffers belong to the calling thread and are kept between
// calls: allocating (and page-faulting) megabytes per call would cost more
// than a small GEMM.
static _Thread_local float *buf;
static _Thread_local size_t buf_floats;

static float *packing_buffer(size_t floats) {
    if (floats < 16) floats = 16; // never NULL, even when nothing is packed
    if (floats > buf_floats) {
        free(buf);
        buf_floats = 0;
        buf = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        if (!buf) return NULL;
        buf_floats = floats;
    }
    return buf;
}

// Everything one call decides before the threads start.
typedef struct {
    const gemm_ukernel *uk;
    gemm_pack_fn pack;
    gemm_round_fn round;    // applied to every packed block (NULL: none)
    int M, N, K;
    float alpha, beta;
    view a, b;              // op(A) (M,K) and op(B) (K,N), after any swap
    float *C;
    ptrdiff_t crs, ccs;     // C[i*crs + j*ccs]
    int tm, tn;             // the grid of parts: tm rows by tn columns
    int m_slivers, n_slivers;
    int kc;
    bool pack_a, pack_b;
    float *buffers;         // per part: a_floats for A, then b_floats for B
    size_t a_floats, b_floats;
} plan;

// C part (rows, columns of part `part` of the tm x tn grid) = alpha op(A)
// op(B) + beta C: the BLIS loops around the micro-kernel, with this part's
// own packed copies of A and B.
static void run_part(const plan *p, int part) {
    const gemm_ukernel *uk = p->uk;
    const int mr = uk->mr, nr = uk->nr, K = p->K, kc = p->kc, im = part / p->tn, jn = part % p->tn;
    const view a = p->a, b = p->b;
    const int i_begin = part_begin(im, p->tm, p->m_slivers, mr), i_end = part_end(im, p->tm, p->m_slivers, mr, p->M);
    const int j_begin = part_begin(jn, p->tn, p->n_slivers, nr), j_end = part_end(jn, p->tn, p->n_slivers, nr, p->N);
    const int mc = even_block(i_end - i_begin, uk->mc, mr), nc = even_block(j_end - j_begin, uk->nc, nr);
    float *const Ap = p->buffers + (size_t)part * (p->a_floats + p->b_floats), *const Bp = Ap + p->a_floats;
    for (int ic = i_begin; ic < i_end; ic += mc) {
        const int mcb = min_i(mc, i_end - ic), na = ceil_div(mcb, mr);
        for (int pc = 0; pc < K; pc += kc) {
            const int kcb = min_i(kc, K - pc);
            const float beta_k = pc == 0 ? p->beta : 1.0f; // later slices add to the first
            const float *a_block = a.p + ic * a.rs + pc * a.cs;
            if (p->pack_a) p->pack(mr, mcb, kcb, a_block, a.rs, a.cs, Ap); // the block of A (mc x kc), for L3
            if (p->round) p->round(Ap, (size_t)na * mr * kcb);
            for (int jc = j_begin; jc < j_end; jc += nc) {
                const int ncb = min_i(nc, j_end - jc), nb = ceil_div(ncb, nr);
                const float *b_block = b.p + pc * b.rs + jc * b.cs;
                if (p->pack_b) p->pack(nr, ncb, kcb, b_block, b.cs, b.rs, Bp); // the block of B (kc x nc), for L2
                if (p->round) p->round(Bp, (size_t)nb * nr * kcb);
                // A sliver (mr x kc) stays in L1 while the B slivers stream past it from L2.
                for (int sa = 0; sa < na; sa++)
                    for (int sb = 0; sb < nb; sb++)
                        uk->kernel(kcb, p->pack_a ? Ap + (size_t)sa * mr * kcb : a_block + sa * mr * a.rs,
                                   p->pack_a ? 1 : a.rs, p->pack_a ? mr : a.cs,
                                   p->pack_b ? Bp + (size_t)sb * nr * kcb : b_block + sb * nr * b.cs,
                                   p->pack_b ? nr : b.rs, p->alpha, beta_k,
                                   p->C + (ic + sa * mr) * p->crs + (jc + sb * nr) * p->ccs, p->crs, p->ccs,
                                   min_i(mr, mcb - sa * mr), min_i(nr, ncb - sb * nr));
            }
        }
    }
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: packed panels, an
// SIMD register micro-kernel, each OpenMP thread on its own part of C.
cnn_status gemm_packed(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    return gemm_packed_rounded(be, NULL, transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// gemm_packed with its packed blocks passed through round (gemm.h).
cnn_status gemm_packed_rounded(cnn_backend *be, gemm_round_fn round, bool transa, bool transb, int M, int N, int K,
                               float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C,
                               int ldc) {
    cnn_cpu_ctx *ctx = cnn_cpu_ctx_of(be);
    const gemm_ukernel *uk = ctx->kernel;
    if (alpha == 0.0f) { // as in BLAS: A and B are not read
        gemm_scale_c(M, N, beta, C, ldc);
        return CNN_OK;
    }
    if (uk->small_k && K <= uk->small_k_max) uk = uk->small_k; // a flatter tile when writing C dominates
    const int mr = uk->mr, nr = uk->nr;
    view a = {A, transa ? 1 : lda, transa ? lda : 1}; // op(A) (M,K)
    view b = {B, transb ? 1 : ldb, transb ? ldb : 1}; // op(B) (K,N)
    ptrdiff_t crs = ldc, ccs = 1;

    // Register tiles cover C in mr x nr pieces; where N is small and M is
    // not (the 512 -> 10 layer's forward GEMM, N = 10) most of each tile
    // would be padding. Computing the transpose, C' = op(B)' op(A)', puts
    // the short side along mr instead; only the tile stores get slower.
    long pad_normal = (long)round_up(M, mr) * round_up(N, nr), pad_trans = (long)round_up(N, mr) * round_up(M, nr);
    if (4 * pad_trans < 3 * pad_normal) {
        view t = {b.p, b.cs, b.rs};
        b = (view){a.p, a.cs, a.rs};
        a = t;
        int tmp = M;
        M = N;
        N = tmp;
        crs = 1;
        ccs = ldc;
    }

    // Threads: C is cut into a grid of tm x tn rectangles, one per thread,
    // and each thread packs its own copies of the blocks it needs, so no
    // thread ever waits for another inside the call (on a busy machine, a
    // partner that has been descheduled makes a barrier cost a whole time
    // slice). The grid is the one whose largest rectangle, in whole
    // slivers, is smallest; on a tie, columns are split (each thread then
    // repacks all of A, about 1/N of the arithmetic), except for the
    // small-K tile, where writing C dominates and a split by rows lets each
    // thread write one contiguous block of C.
    int nt = ctx->threads;
    const double macs = (double)M * N * K;
    const bool small = macs < BACKOFF_MAX_MACS;
    if (nt > 1 && small && now_ns() < atomic_load(&ctx->crowded_until)) nt = 1; // see LATE_START_NS
    if (macs < (double)PACKED_MIN_MACS_PER_THREAD * nt) nt = (int)(macs / PACKED_MIN_MACS_PER_THREAD);
    if (nt < 1) nt = 1;
    const int m_slivers = ceil_div(M, mr), n_slivers = ceil_div(N, nr);
    int tm = 1, tn = 1;
    long best_area = -1;
    for (int t = 1; t <= nt; t++) {
        if (nt % t) continue;
        const int cm = nt / t, cn = t; // candidate grid: cm rows of parts, cn columns
        if (cm > m_slivers || cn > n_slivers) continue;
        const long area = (long)ceil_div(m_slivers, cm) * mr * ceil_div(n_slivers, cn) * nr;
        const bool prefer = uk->a_in_place ? cm > tm : cn > tn;
        if (best_area < 0 || area < best_area || (area == best_area && prefer)) best_area = area, tm = cm, tn = cn;
    }
    if (best_area < 0) tm = 1, tn = 1; // fewer tiles than threads in both directions: one thread
    nt = tm * tn;

    // Cache blocks: kc deep (at most uk->kc); per thread, blocks of mc rows
    // of A and nc columns of B. Buffers are sized for the largest.
    const int kc = ceil_div(K, ceil_div(K, uk->kc));
    int mc_max = 0, nc_max = 0;
    for (int t = 0; t < tm; t++) {
        int mc = even_block(part_end(t, tm, m_slivers, mr, M) - part_begin(t, tm, m_slivers, mr), uk->mc, mr);
        if (mc > mc_max) mc_max = mc;
    }
    for (int t = 0; t < tn; t++) {
        int nc = even_block(part_end(t, tn, n_slivers, nr, N) - part_begin(t, tn, n_slivers, nr), uk->nc, nr);
        if (nc > nc_max) nc_max = nc;
    }
    // Each sliver of B is read once per sliver of A. When M is at most two
    // slivers tall and B's rows are contiguous, copying B costs more than
    // it saves: the kernel then reads B in place (with masked edge loads).
    // Rounded inputs are rounded in the copies: then both are always packed.
    const bool pack_b = round || !(b.cs == 1 && b.rs != nr && M <= 2 * mr);
    // A kernel that reads A in place (the small-K tile) needs no copy of it.
    const bool pack_a = round || !uk->a_in_place;
    // Sizes rounded to 16 floats keep every block 64-byte aligned.
    const size_t a_floats = pack_a ? ((size_t)mc_max * kc + 15) / 16 * 16 : 0;
    const size_t b_floats = pack_b ? ((size_t)nc_max * kc + 15) / 16 * 16 : 0;
    float *const buffers = packing_buffer((size_t)nt * (a_floats + b_floats));
    if (!buffers) return cnn_error(CNN_ERR_NOMEM, "gemm_packed: out of memory for the packing buffers");
    const plan p = {uk, uk->pack ? uk->pack : gemm_pack_portable, round, M, N, K, alpha, beta, a, b, C, crs, ccs, tm, tn,
                    m_slivers, n_slivers, kc, pack_a, pack_b, buffers, a_floats, b_floats};
    if (nt == 1) { // no team to start
        run_part(&p, 0);
        return CNN_OK;
    }
    const int64_t t0 = now_ns();
    int64_t last_start = t0;
#pragma omp parallel num_threads(nt)
    {
        const int64_t start = now_ns();
#pragma omp critical(gemm_packed_start)
        if (start > last_start) last_start = start;
        for (int part = omp_get_thread_num(); part < nt; part += omp_get_num_threads()) // (a smaller team: several parts each)
            run_part(&p, part);
    }
    const int64_t t1 = now_ns();
    if (small && last_start - t0 > LATE_START_NS && t0 - atomic_load(&ctx->team_last_end) < RECENT_NS)
        atomic_store(&ctx->crowded_until, t1 + BACKOFF_NS);
    atomic_store(&ctx->team_last_end, t1);
    return CNN_OK;
}
