// The CPU backend's GEMM implementations. Each has the cnn_sgemm_fn
// signature (see core/backend.h) and is listed in gemm_registry.c, in the
// order of the optimisation ladder that docs/gemm.md walks through.
#ifndef CNN_CPU_GEMM_H
#define CNN_CPU_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"

// ---- the ladder -------------------------------------------------------------

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: plain i-j-k triple loop.
cnn_status gemm_naive(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc);
// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: loops reordered so the innermost one is stride-1.
cnn_status gemm_reorder(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc);
// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: reorder's loops run tile by tile (cache blocking).
cnn_status gemm_blocked(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc);
// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: blocked, output tiles shared among OpenMP threads.
cnn_status gemm_parallel(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: packed panels and a SIMD register micro-kernel.
cnn_status gemm_packed(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc);
// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: OpenBLAS cblas_sgemm, the reference.
cnn_status gemm_openblas(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: packed, with A and B rounded to tf32 as they are packed
// (gemm_packed_tf32.c), then the FP32 micro-kernel.
cnn_status gemm_packed_tf32(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: A and B packed as bf16 pairs, an AVX-512 BF16
// (vdpbf16ps) or scalar micro-kernel accumulating in FP32 (gemm_bf16.c).
cnn_status gemm_packed_bf16(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

// All CPU GEMMs in ladder order, and how many there are.
extern const cnn_gemm_variant cnn_cpu_gemm_variants[];
extern const int cnn_cpu_gemm_variant_count;
// The variant the CPU backend uses when --gemm is not given.
extern const char *const cnn_cpu_gemm_default;

// Scales C (M,N) by beta in place; beta == 0 writes zeros without reading C.
void gemm_scale_c(int M, int N, float beta, float *C, int ldc);

// ---- the packed GEMM's micro-kernels (gemm_packed.c, gemm_kernel_*.c) ------

// One register tile: C (m,n) = alpha A (m,kc) B (kc,n) + beta C, m <= mr,
// n <= nr. A[i*rs_a + k*cs_a] is element (i,k) of A: normally a packed
// sliver of mr rows stored k-major (rs_a == 1, cs_a == mr, zero-padded to
// mr rows); a kernel with a_in_place also takes the matrix itself (any
// strides; only its m rows are read). B[k*ldb + j] is element (k,j) of B:
// either a packed sliver (ldb == nr, zero-padded to nr columns, 64-byte
// aligned) or, when B is used by so few rows of A that packing it would
// not pay, the matrix itself (ldb > nr: then only its n columns are read).
// Element (i,j) of C is C[i*rs_c + j*cs_c]: cs_c == 1 is row-major C,
// rs_c == 1 the transposed orientation. beta == 0: C is not read.
typedef void (*gemm_ukernel_fn)(int kc, const float *A, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *B,
                                ptrdiff_t ldb, float alpha, float beta, float *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
                                int m, int n);

// Packs a block of w rows, X (w, kc) with X[r,k] = src[r*rs + k*cs], into
// ceil(w/W) slivers of W rows stored one after the other, each k-major:
// sliver t is dst[t*W*kc + k*W + i] = X[t*W + i, k], zero where t*W + i >= w.
// Either rs or cs is 1.
typedef void (*gemm_pack_fn)(int W, int w, int kc, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst);

// Rounds n floats in place (a packed block), e.g. to tf32; see gemm_packed_rounded.
typedef void (*gemm_round_fn)(float *x, size_t n);
// gemm_packed, with every packed block of A and B passed through round
// (NULL: none, gemm_packed itself); when round is given, A and B are always packed.
cnn_status gemm_packed_rounded(cnn_backend *be, gemm_round_fn round, bool transa, bool transb, int M, int N, int K,
                               float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C,
                               int ldc);

// ---- the bf16 GEMM's micro-kernels (gemm_bf16.c, gemm_kernel_avx512bf16.c) ----

// One register tile of the bf16 GEMM: C (m,n) = alpha A (m,2kp) B (2kp,n) + beta C
// (m <= mr, n <= nr). A and B are packed in bf16 pairs along k, one pair per
// 32-bit word, the even k in the low half: a[p*mr + i] holds A[i,2p] and
// A[i,2p+1], b[p*nr + j] holds B[2p,j] and B[2p+1,j]. Each output sums, pair
// by pair, (acc + a_odd b_odd) + a_even b_even in FP32, as vdpbf16ps does;
// a product of two bf16 values is exact in FP32, so every kernel gives the
// same bits (except where a partial sum is FP32-subnormal: vdpbf16ps flushes it).
typedef void (*gemm_bf16_kernel_fn)(int kp, const uint32_t *a, const uint32_t *b, float alpha, float beta, float *C,
                                    ptrdiff_t rs_c, ptrdiff_t cs_c, int m, int n);
typedef struct {
    const char *name;  // "avx512bf16" or "scalar"
    int mr, nr;
    gemm_bf16_kernel_fn kernel; // NULL when this build cannot compile it
} gemm_bf16_ukernel;
extern const gemm_bf16_ukernel gemm_bf16_ukernel_avx512; // 12x32, vdpbf16ps (gemm_kernel_avx512bf16.c)
extern const gemm_bf16_ukernel gemm_bf16_ukernel_scalar; // 4x8, portable C (gemm_bf16.c)
// The accumulator tile t (mr x nr floats, row-major) into C: alpha t + beta C (beta == 0: C not read).
// Shared by every bf16 kernel so that they store the same bits.
void gemm_bf16_store_tile(const float *t, int nr, float alpha, float beta, float *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
                          int m, int n);
// The bf16 kernel backend be's packed-bf16 uses: the AVX-512 BF16 one when its
// FP32 micro-kernel is avx512 and CPUID reports AVX-512 BF16, else the scalar one
// (so CNN_CPU_KERNEL=scalar or cnn_cpu_backend_set_kernel(be, "scalar") selects it).
const gemm_bf16_ukernel *gemm_bf16_kernel_of(const cnn_backend *be);

// The reorder loops (gemm_reorder_loops.h) compiled for one instruction set.
typedef void (*gemm_loops_fn)(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                              const float *B, int ldb, float beta, float *C, int ldc);
void gemm_reorder_base(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc);
void gemm_reorder_avx2(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc);
void gemm_reorder_avx512(bool transa, bool transb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc);

// The blocked variant's tiles (gemm_blocked.c), shared with gemm_parallel.c:
// rows, columns and depth of one tile.
enum { GEMM_BLOCK_M = 64, GEMM_BLOCK_N = 256, GEMM_BLOCK_K = 128 };
// C tile (m,n) at row i0, column j0 of C = alpha op(A) op(B) + beta C, over the whole depth K,
// one GEMM_BLOCK_K slice at a time, with the reorder loops `loops`.
void gemm_blocked_tile(gemm_loops_fn loops, bool transa, bool transb, int i0, int j0, int m, int n, int K,
                       float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

// What the CPU GEMMs have for one instruction set: the packed GEMM's
// micro-kernel and packer, and the reorder loops (which blocked and
// parallel run tile by tile).
typedef struct gemm_ukernel {
    const char *name; // "avx512", "avx2", "scalar" (CNN_CPU_KERNEL values)
    int mr, nr;       // the register tile
    int kc, mc, nc;   // largest cache blocks: depth, rows of A per thread block, columns of B per block
    gemm_ukernel_fn kernel; // NULL when this build cannot run it (not an x86-64 compiler)
    gemm_pack_fn pack;      // NULL: the portable packer
    gemm_loops_fn reorder;
    const struct gemm_ukernel *small_k; // a tile shape for K <= small_k_max, or NULL
    int small_k_max;
    bool a_in_place; // the kernel reads A in place (see gemm_ukernel_fn): A is not packed
} gemm_ukernel;

extern const gemm_ukernel gemm_ukernel_avx512; // gemm_kernel_avx512.c: 12x32 (6x64 for K <= 32), AVX-512F + FMA
extern const gemm_ukernel gemm_ukernel_avx2;   // gemm_kernel_avx2.c: 6x16, AVX2 + FMA
extern const gemm_ukernel gemm_ukernel_scalar; // gemm_kernel_scalar.c: 4x8, portable C (baseline SSE)

// The portable packer (gemm_packed.c), for kernels without their own.
void gemm_pack_portable(int W, int w, int kc, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst);

// The instruction set (micro-kernel) a new CPU backend starts with: the
// widest this CPU runs (CPUID), unless the environment variable
// CNN_CPU_KERNEL=avx512|avx2|scalar, read on first use, forces one. Fails
// (with what to do) when the forced one is unknown or this CPU cannot run it.
cnn_status gemm_default_kernel(const gemm_ukernel **out);
// Chooses backend be's micro-kernel by name (NULL: back to CNN_CPU_KERNEL or
// CPUID). For tests and benchmarks: not while another thread uses be.
cnn_status cnn_cpu_backend_set_kernel(cnn_backend *be, const char *name);

// The CPU backend's state (be->ctx): everything its ops and GEMMs need.
typedef struct {
    int threads;                  // OpenMP threads for every op and GEMM of this backend
    const gemm_ukernel *kernel;   // the micro-kernel (and reorder loops) its GEMMs use
    _Atomic int64_t crowded_until; // gemm_packed: run on one thread until then (ns; see LATE_START_NS)
    _Atomic int64_t team_last_end; // gemm_packed: when its last team finished (ns)
    int nonfinite_reported;       // sync has reported be->nonfinite_loss_call
} cnn_cpu_ctx;

static inline cnn_cpu_ctx *cnn_cpu_ctx_of(const cnn_backend *be) { return (cnn_cpu_ctx *)be->ctx; }
// The micro-kernels this CPU can run, widest first; returns how many.
int gemm_packed_kernels_supported(const gemm_ukernel **out, int max);

#endif
