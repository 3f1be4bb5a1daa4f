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
} cnn_cpu_ctx;

static inline cnn_cpu_ctx *cnn_cpu_ctx_of(const cnn_backend *be) { return (cnn_cpu_ctx *)be->ctx; }
// The micro-kernels this CPU can run, widest first; returns how many.
int gemm_packed_kernels_supported(const gemm_ukernel **out, int max);

#endif
