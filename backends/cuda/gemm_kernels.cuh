// The CUDA SGEMM ladder: seven numbered kernels, each one idea better than
// the last, plus the host code that picks a grid for each (shared with the
// CPU emulation test, tests/test_cuda_emu.cpp, which runs these same kernels
// on host threads so that CI without a GPU checks their indexing).
//
// Every kernel computes C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C,
// row-major, for any M, N, K >= 1 and both transposes (template TA, TB):
// op(A)(i,k) is A[i*lda + k], or A[k*lda + i] when TA; likewise B. When
// beta == 0, C is only written. No kernel uses atomics: every C element is
// summed in a fixed order, so results are bitwise reproducible run to run.
//
// Included by exactly one .cu file (gemm_ladder.cu) and by the emulation
// test. Kernels are launched with cnn_launch(kernel, grid, block, stream,
// args...) from launch.cuh (or the emulator's version of it).
#ifndef CNN_CUDA_GEMM_KERNELS_CUH
#define CNN_CUDA_GEMM_KERNELS_CUH

#include <stddef.h>
#include <stdint.h>

namespace cnn_cuda {

__host__ __device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
__host__ __device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }
__host__ __device__ __forceinline__ int cdiv(int a, int b) { return (a + b - 1) / b; }

// X is row-major with leading dimension ld: op(X)(r, c), transposed when T.
template <bool T> __device__ __forceinline__ float op_at(const float *X, int ld, int r, int c) {
    return T ? X[(size_t)c * ld + r] : X[(size_t)r * ld + c];
}

// C is (M,N) with ldc: C[i,j] = alpha acc + beta C[i,j] (C not read when beta == 0).
__device__ __forceinline__ void store_c1(float *C, int ldc, int i, int j, float acc, float alpha, float beta) {
    float *p = C + (size_t)i * ldc + j;
    *p = beta == 0.0f ? alpha * acc : alpha * acc + beta * *p;
}

// C is (M,N) with ldc: the four elements C[i, j..j+3] from v, skipping columns >= N; one
// 128-bit access when vec (C 16-byte aligned, ldc % 4 == 0) and all four are inside.
__device__ __forceinline__ void store_c4(float *C, int ldc, int N, int i, int j, float4 v, float alpha, float beta,
                                         bool vec) {
    float *p = C + (size_t)i * ldc + j;
    if (vec && j + 3 < N) {
        float4 o;
        if (beta == 0.0f) {
            o = make_float4(alpha * v.x, alpha * v.y, alpha * v.z, alpha * v.w);
        } else {
            float4 c = *reinterpret_cast<const float4 *>(p);
            o = make_float4(alpha * v.x + beta * c.x, alpha * v.y + beta * c.y, alpha * v.z + beta * c.z,
                            alpha * v.w + beta * c.w);
        }
        *reinterpret_cast<float4 *>(p) = o;
        return;
    }
    const float e[4] = {v.x, v.y, v.z, v.w};
    for (int u = 0; u < 4 && j + u < N; u++) p[u] = beta == 0.0f ? alpha * e[u] : alpha * e[u] + beta * p[u];
}

// ---------------------------------------------------------------------------
// Kernel 1: naive. One thread per C element; threadIdx.x walks down rows, so
// the 32 threads of a warp read 32 different rows of A and write 32 rows of
// C: every access is its own memory transaction.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block (16,16), grid (cdiv(M,16), cdiv(N,16)).
template <bool TA, bool TB>
__global__ void sgemm1_naive(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                             const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int j = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc += op_at<TA>(A, lda, i, k) * op_at<TB>(B, ldb, k, j);
    store_c1(C, ldc, i, j, acc, alpha, beta);
}

// ---------------------------------------------------------------------------
// Kernel 2: coalesced. Same work per thread, but threadIdx.x walks along a
// row of C: a warp reads one A element (broadcast), 32 consecutive B
// elements and writes 32 consecutive C elements.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block (32,8), grid (cdiv(N,32), cdiv(M,8)).
template <bool TA, bool TB>
__global__ void sgemm2_coalesced(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                                 const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    const int i = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc += op_at<TA>(A, lda, i, k) * op_at<TB>(B, ldb, k, j);
    store_c1(C, ldc, i, j, acc, alpha, beta);
}

// Copies the ROWS x COLS tile of op(X) whose corner is (r0, c0) into shared
// memory S as S[r*SLD + c] (or S[c*SLD + r] when STORE_T), zero outside the
// R x CC matrix. Consecutive threads take consecutive addresses of X, for
// either layout of X, so the global reads are coalesced.
template <bool T, int ROWS, int COLS, int NT, bool STORE_T, int SLD>
__device__ __forceinline__ void load_tile(const float *__restrict__ X, int ld, int R, int CC, int r0, int c0,
                                          float *S, int tid) {
    for (int e = tid; e < ROWS * COLS; e += NT) {
        const int r = T ? e % ROWS : e / COLS;
        const int c = T ? e / ROWS : e % COLS;
        const int gr = r0 + r, gc = c0 + c;
        const float v = (gr < R && gc < CC) ? op_at<T>(X, ld, gr, gc) : 0.0f;
        S[STORE_T ? c * SLD + r : r * SLD + c] = v;
    }
}

// ---------------------------------------------------------------------------
// Kernel 3: shared-memory tiling. A 32x32 block of threads stages a 32x32
// tile of op(A) and of op(B) in shared memory and each thread computes one C
// element from them: every global element is read once per tile instead of
// once per thread. Rows are padded to 33 floats so that a transposed load
// (threads walking down a column) hits 32 different banks.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block (32,32), grid (cdiv(N,32), cdiv(M,32)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(1024)
    sgemm3_smem(int M, int N, int K, float alpha, const float *__restrict__ A, int lda, const float *__restrict__ B,
                int ldb, float beta, float *__restrict__ C, int ldc) {
    constexpr int T = 32, SLD = T + 1;
    __shared__ float As[T * SLD];
    __shared__ float Bs[T * SLD];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * T + tx;
    const int row0 = blockIdx.y * T, col0 = blockIdx.x * T;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += T) {
        load_tile<TA, T, T, T * T, false, SLD>(A, lda, M, K, row0, k0, As, tid);
        load_tile<TB, T, T, T * T, false, SLD>(B, ldb, K, N, k0, col0, Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < T; k++) acc += As[ty * SLD + k] * Bs[k * SLD + tx];
        __syncthreads();
    }
    if (row0 + ty < M && col0 + tx < N) store_c1(C, ldc, row0 + ty, col0 + tx, acc, alpha, beta);
}

// ---------------------------------------------------------------------------
// Kernel 4: 1D register tiling. A 64x64 C tile per block of 512 threads;
// each thread computes a column of TM = 8 C elements, so one shared-memory
// read of B feeds 8 multiply-adds (kernel 3: one read per multiply-add).
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block 512, grid (cdiv(N,64), cdiv(M,64)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(512)
    sgemm4_tile1d(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                  const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    constexpr int BM = 64, BN = 64, BK = 8, TM = 8, NT = BM * BN / TM;
    constexpr int SLDA = BK + 1, SLDB = BN + 4;
    __shared__ float As[BM * SLDA]; // As[m][k]
    __shared__ float Bs[BK * SLDB]; // Bs[k][n]
    const int tid = threadIdx.x;
    const int tc = tid % BN, tr = tid / BN; // this thread: column tc, rows tr*TM .. tr*TM+TM-1
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    float acc[TM] = {0.0f};
    for (int k0 = 0; k0 < K; k0 += BK) {
        load_tile<TA, BM, BK, NT, false, SLDA>(A, lda, M, K, row0, k0, As, tid);
        load_tile<TB, BK, BN, NT, false, SLDB>(B, ldb, K, N, k0, col0, Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            const float b = Bs[k * SLDB + tc];
#pragma unroll
            for (int m = 0; m < TM; m++) acc[m] += As[(tr * TM + m) * SLDA + k] * b;
        }
        __syncthreads();
    }
    const int j = col0 + tc;
    if (j < N)
        for (int m = 0; m < TM; m++) {
            const int i = row0 + tr * TM + m;
            if (i < M) store_c1(C, ldc, i, j, acc[m], alpha, beta);
        }
}

// ---------------------------------------------------------------------------
// Kernel 5: 2D register tiling. A 128x128 C tile per block of 256 threads;
// each thread computes an 8x8 sub-tile as outer products of 8 values of A
// and 8 values of B held in registers: 16 shared reads feed 64 multiply-adds.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block 256, grid (cdiv(N,128), cdiv(M,128)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(256)
    sgemm5_tile2d(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                  const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc) {
    constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8, NT = (BM / TM) * (BN / TN);
    constexpr int SLDA = BK + 1, SLDB = BN + 4;
    __shared__ float As[BM * SLDA]; // As[m][k]
    __shared__ float Bs[BK * SLDB]; // Bs[k][n]
    const int tid = threadIdx.x;
    const int tc = tid % (BN / TN), tr = tid / (BN / TN);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    float acc[TM][TN] = {{0.0f}};
    float am[TM], bn[TN];
    for (int k0 = 0; k0 < K; k0 += BK) {
        load_tile<TA, BM, BK, NT, false, SLDA>(A, lda, M, K, row0, k0, As, tid);
        load_tile<TB, BK, BN, NT, false, SLDB>(B, ldb, K, N, k0, col0, Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
#pragma unroll
            for (int m = 0; m < TM; m++) am[m] = As[(tr * TM + m) * SLDA + k];
#pragma unroll
            for (int n = 0; n < TN; n++) bn[n] = Bs[k * SLDB + tc * TN + n];
#pragma unroll
            for (int m = 0; m < TM; m++)
#pragma unroll
                for (int n = 0; n < TN; n++) acc[m][n] += am[m] * bn[n];
        }
        __syncthreads();
    }
    for (int m = 0; m < TM; m++) {
        const int i = row0 + tr * TM + m;
        if (i >= M) break;
        for (int n = 0; n < TN; n++) {
            const int j = col0 + tc * TN + n;
            if (j < N) store_c1(C, ldc, i, j, acc[m][n], alpha, beta);
        }
    }
}

// Stages one ROWS x COLS tile of op(X) (X row-major, transposed when T)
// from global memory through registers into shared memory, so that the next
// tile's loads can be in flight while the current one is multiplied.
// X is read in groups of 4 floats consecutive in memory (along c when !T,
// along r when T): one 128-bit load when vec (X 16-byte aligned, ld % 4 ==
// 0) and the group lies inside the R x CC matrix, else up to 4 bounds-checked
// scalar loads (zero outside). In shared memory the tile is S[r*SLD + c], or
// S[c*SLD + r] when STORE_T; when that layout runs along the same direction
// as X the group is one 128-bit store, otherwise it is scattered (the
// transposing store of kernel 6).
template <bool T, int ROWS, int COLS, int NT, bool STORE_T, int SLD> struct TileStage {
    static constexpr int QLEN = T ? ROWS : COLS; // extent along memory's contiguous direction
    static constexpr int GROUPS = ROWS * COLS / 4;
    static constexpr int PER_THREAD = (GROUPS + NT - 1) / NT;
    static_assert(QLEN % 4 == 0, "the contiguous extent of a tile must be a multiple of 4");
    static_assert(SLD % 4 == 0, "shared rows must keep 16-byte alignment");
    float4 v[PER_THREAD];

    // Fetches the tile whose corner in op(X) is (r0, c0) into registers.
    __device__ __forceinline__ void fetch(const float *__restrict__ X, int ld, int R, int CC, int r0, int c0, bool vec,
                                          int tid) {
        const int pmax = T ? CC : R, qmax = T ? R : CC; // memory coordinates: p strided, q contiguous
        const int p0 = T ? c0 : r0, q0 = T ? r0 : c0;
#pragma unroll
        for (int s = 0; s < PER_THREAD; s++) {
            const int g = tid + s * NT;
            float4 val = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            if (GROUPS % NT == 0 || g < GROUPS) {
                const int gp = p0 + g / (QLEN / 4), gq = q0 + (g % (QLEN / 4)) * 4;
                if (gp < pmax) {
                    const float *src = X + (size_t)gp * ld + gq;
                    if (vec && gq + 3 < qmax) {
                        val = *reinterpret_cast<const float4 *>(src);
                    } else {
                        if (gq < qmax) val.x = src[0];
                        if (gq + 1 < qmax) val.y = src[1];
                        if (gq + 2 < qmax) val.z = src[2];
                        if (gq + 3 < qmax) val.w = src[3];
                    }
                }
            }
            v[s] = val;
        }
    }

    // Writes the fetched tile to S (every thread, then the caller synchronises).
    __device__ __forceinline__ void store(float *S, int tid) const {
#pragma unroll
        for (int s = 0; s < PER_THREAD; s++) {
            const int g = tid + s * NT;
            if (GROUPS % NT == 0 || g < GROUPS) {
                const int p = g / (QLEN / 4), q = (g % (QLEN / 4)) * 4;
                if (STORE_T == T) {
                    *reinterpret_cast<float4 *>(S + p * SLD + q) = v[s];
                } else {
                    S[(q + 0) * SLD + p] = v[s].x;
                    S[(q + 1) * SLD + p] = v[s].y;
                    S[(q + 2) * SLD + p] = v[s].z;
                    S[(q + 3) * SLD + p] = v[s].w;
                }
            }
        }
    }
};

// ---------------------------------------------------------------------------
// Kernel 6: vectorised. Kernel 5's tiling, but global memory is read 128
// bits at a time (when aligned), the A tile is transposed as it is stored
// (As[k][m]) so that a thread's 8 values of A are contiguous, and the inner
// loop reads shared memory as float4: 4 shared loads feed 64 multiply-adds.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block 256, grid (cdiv(N,128), cdiv(M,128)).
template <bool TA, bool TB>
__global__ void __launch_bounds__(256)
    sgemm6_vec(int M, int N, int K, float alpha, const float *__restrict__ A, int lda, const float *__restrict__ B,
               int ldb, float beta, float *__restrict__ C, int ldc, bool vec_a, bool vec_b, bool vec_c) {
    constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8, NT = (BM / TM) * (BN / TN);
    constexpr int SLDA = BM + 4, SLDB = BN + 4;
    __shared__ __align__(16) float As[BK * SLDA]; // As[k][m]
    __shared__ __align__(16) float Bs[BK * SLDB]; // Bs[k][n]
    const int tid = threadIdx.x;
    const int tc = tid % (BN / TN), tr = tid / (BN / TN);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    TileStage<TA, BM, BK, NT, true, SLDA> sa;
    TileStage<TB, BK, BN, NT, false, SLDB> sb;
    float acc[TM][TN] = {{0.0f}};
    float am[TM], bn[TN];
    for (int k0 = 0; k0 < K; k0 += BK) {
        sa.fetch(A, lda, M, K, row0, k0, vec_a, tid);
        sb.fetch(B, ldb, K, N, k0, col0, vec_b, tid);
        sa.store(As, tid);
        sb.store(Bs, tid);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
#pragma unroll
            for (int m = 0; m < TM; m += 4) {
                const float4 a4 = *reinterpret_cast<const float4 *>(As + k * SLDA + tr * TM + m);
                am[m] = a4.x, am[m + 1] = a4.y, am[m + 2] = a4.z, am[m + 3] = a4.w;
            }
#pragma unroll
            for (int n = 0; n < TN; n += 4) {
                const float4 b4 = *reinterpret_cast<const float4 *>(Bs + k * SLDB + tc * TN + n);
                bn[n] = b4.x, bn[n + 1] = b4.y, bn[n + 2] = b4.z, bn[n + 3] = b4.w;
            }
#pragma unroll
            for (int m = 0; m < TM; m++)
#pragma unroll
                for (int n = 0; n < TN; n++) acc[m][n] += am[m] * bn[n];
        }
        __syncthreads();
    }
    for (int m = 0; m < TM; m++) {
        const int i = row0 + tr * TM + m;
        if (i >= M) break;
        for (int n = 0; n < TN; n += 4) {
            const int j = col0 + tc * TN + n;
            if (j < N)
                store_c4(C, ldc, N, i, j, make_float4(acc[m][n], acc[m][n + 1], acc[m][n + 2], acc[m][n + 3]), alpha,
                         beta, vec_c);
        }
    }
}

// ---------------------------------------------------------------------------
// Kernel 7: warp tiling. The block's BM x BN tile is split among warps
// (WM x WN each) and each warp's tile among its 32 lanes laid out 4 x 8;
// a lane computes WMITER x WNITER sub-tiles of TM x TN. A warp's shared
// reads then cover one small contiguous patch (no bank conflicts on B,
// broadcasts on A), and the next K-tile is fetched into registers while the
// current one is multiplied (double-buffered shared memory, one barrier per
// K-tile).
//
// Split-K: blockIdx.z takes K range [z*k_chunk, min(K, (z+1)*k_chunk)); with
// more than one slice each block writes its raw partial sums to W + z*M*N
// (row-major (M,N), ld N) and splitk_reduce adds them in slice order: still
// no atomics, still deterministic.
// C is (M,N), op(A) is (M,K), op(B) is (K,N); block NT, grid (cdiv(N,BN), cdiv(M,BM), splits).
template <int BM, int BN, int BK, int WM, int WN, int TM, int TN, int NT> struct WarpTile {
    static constexpr int LANES_M = 4, LANES_N = 8;
    static constexpr int WARPS_N = BN / WN, WARPS_M = BM / WM;
    static constexpr int WSUBM = LANES_M * TM, WSUBN = LANES_N * TN;
    static constexpr int WMITER = WM / WSUBM, WNITER = WN / WSUBN;
    static constexpr int SLDA = BM + 4, SLDB = BN + 4;
    static_assert(WARPS_M * WARPS_N * 32 == NT, "warps must tile the block tile exactly");
    static_assert(WMITER * WSUBM == WM && WNITER * WSUBN == WN, "lanes must tile the warp tile exactly");
    static_assert(TM % 4 == 0 && TN % 4 == 0, "thread tiles are read as float4");
    static constexpr int bm = BM, bn = BN, bk = BK, nt = NT, tm = TM, tn = TN;
};

template <class CFG, bool TA, bool TB>
__global__ void __launch_bounds__(CFG::nt)
    sgemm7_warptile(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
                    const float *__restrict__ B, int ldb, float beta, float *__restrict__ C, int ldc, bool vec_a,
                    bool vec_b, bool vec_c, int k_chunk, float *__restrict__ W) {
    constexpr int BM = CFG::bm, BN = CFG::bn, BK = CFG::bk, NT = CFG::nt;
    constexpr int SLDA = CFG::SLDA, SLDB = CFG::SLDB;
    constexpr int TM = CFG::tm, TN = CFG::tn;
    constexpr int WMITER = CFG::WMITER, WNITER = CFG::WNITER;
    __shared__ __align__(16) float As[2][BK * SLDA]; // As[buf][k][m]
    __shared__ __align__(16) float Bs[2][BK * SLDB]; // Bs[buf][k][n]
    const int tid = threadIdx.x;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    const int kb = blockIdx.z * k_chunk, ke = imin(K, kb + k_chunk);
    const int warp = tid / 32, lane = tid % 32;
    const int wm0 = (warp / CFG::WARPS_N) * (BM / CFG::WARPS_M), wn0 = (warp % CFG::WARPS_N) * (BN / CFG::WARPS_N);
    const int lr = lane / CFG::LANES_N, lc = lane % CFG::LANES_N;

    TileStage<TA, BM, BK, NT, true, SLDA> sa;
    TileStage<TB, BK, BN, NT, false, SLDB> sb;
    float acc[WMITER * TM][WNITER * TN];
#pragma unroll
    for (int m = 0; m < WMITER * TM; m++)
#pragma unroll
        for (int n = 0; n < WNITER * TN; n++) acc[m][n] = 0.0f;

    sa.fetch(A, lda, M, ke, row0, kb, vec_a, tid);
    sb.fetch(B, ldb, ke, N, kb, col0, vec_b, tid);
    sa.store(As[0], tid);
    sb.store(Bs[0], tid);
    __syncthreads();
    int buf = 0;
    for (int k0 = kb; k0 < ke; k0 += BK) {
        const bool more = k0 + BK < ke;
        if (more) { // the next tile's global loads overlap this tile's arithmetic
            sa.fetch(A, lda, M, ke, row0, k0 + BK, vec_a, tid);
            sb.fetch(B, ldb, ke, N, k0 + BK, col0, vec_b, tid);
        }
        const float *as = As[buf], *bs = Bs[buf];
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float am[WMITER * TM], bn[WNITER * TN];
#pragma unroll
            for (int mi = 0; mi < WMITER; mi++)
#pragma unroll
                for (int t = 0; t < TM; t += 4) {
                    const float4 a4 = *reinterpret_cast<const float4 *>(as + k * SLDA + wm0 + mi * CFG::WSUBM +
                                                                        lr * TM + t);
                    am[mi * TM + t] = a4.x, am[mi * TM + t + 1] = a4.y;
                    am[mi * TM + t + 2] = a4.z, am[mi * TM + t + 3] = a4.w;
                }
#pragma unroll
            for (int ni = 0; ni < WNITER; ni++)
#pragma unroll
                for (int t = 0; t < TN; t += 4) {
                    const float4 b4 = *reinterpret_cast<const float4 *>(bs + k * SLDB + wn0 + ni * CFG::WSUBN +
                                                                        lc * TN + t);
                    bn[ni * TN + t] = b4.x, bn[ni * TN + t + 1] = b4.y;
                    bn[ni * TN + t + 2] = b4.z, bn[ni * TN + t + 3] = b4.w;
                }
#pragma unroll
            for (int m = 0; m < WMITER * TM; m++)
#pragma unroll
                for (int n = 0; n < WNITER * TN; n++) acc[m][n] = fmaf(am[m], bn[n], acc[m][n]);
        }
        if (more) {
            sa.store(As[buf ^ 1], tid);
            sb.store(Bs[buf ^ 1], tid);
        }
        __syncthreads();
        buf ^= 1;
    }

    // Epilogue: to C (alpha, beta), or raw partial sums to this slice of W.
    const bool split = gridDim.z > 1;
    float *D = split ? W + (size_t)blockIdx.z * M * N : C;
    const int ldd = split ? N : ldc;
    const float dalpha = split ? 1.0f : alpha, dbeta = split ? 0.0f : beta;
    const bool dvec = split ? (N % 4 == 0) : vec_c;
#pragma unroll
    for (int mi = 0; mi < WMITER; mi++)
#pragma unroll
        for (int a = 0; a < TM; a++) {
            const int i = row0 + wm0 + mi * CFG::WSUBM + lr * TM + a;
            if (i >= M) continue;
#pragma unroll
            for (int ni = 0; ni < WNITER; ni++)
#pragma unroll
                for (int t = 0; t < TN; t += 4) {
                    const int j = col0 + wn0 + ni * CFG::WSUBN + lc * TN + t;
                    const float *r = &acc[mi * TM + a][ni * TN + t];
                    if (j < N) store_c4(D, ldd, N, i, j, make_float4(r[0], r[1], r[2], r[3]), dalpha, dbeta, dvec);
                }
        }
}

// W is (splits, M, N), C is (M,N): C = alpha * (sum over slices in order) + beta C.
__global__ void splitk_reduce(int M, int N, int splits, const float *__restrict__ W, float alpha, float beta,
                              float *__restrict__ C, int ldc) {
    const size_t mn = (size_t)M * N;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < mn; e += (size_t)gridDim.x * blockDim.x) {
        float s = W[e];
        for (int z = 1; z < splits; z++) s += W[(size_t)z * mn + e];
        const int i = (int)(e / N), j = (int)(e % N);
        store_c1(C, ldc, i, j, s, alpha, beta);
    }
}

// The two warp-tile configurations: large tiles for large matrices (128 lanes,
// 128 accumulators each) and small tiles for the MLP's batch-128 shapes,
// where a 128x128 tile would leave most of the GPU's SMs idle.
typedef WarpTile<128, 128, 16, 64, 64, 8, 4, 128> WarpTileLarge;
typedef WarpTile<32, 64, 16, 16, 32, 4, 4, 128> WarpTileSmall;

// ---------------------------------------------------------------------------
// Host side: grids and template dispatch. Returns the first launch error.

enum GemmKernel {
    GEMM_NAIVE,
    GEMM_COALESCED,
    GEMM_SMEM,
    GEMM_TILE1D,
    GEMM_TILE2D,
    GEMM_VEC,
    GEMM_WARPTILE,       // the large warp-tile configuration, no split-K
    GEMM_WARPTILE_SMALL, // the small configuration with split-K chosen by shape
    GEMM_AUTO            // by shape: GEMM_WARPTILE for large C, GEMM_WARPTILE_SMALL otherwise
};

// Scratch for split-K partial sums, owned by the backend (fixed size, so
// launches never allocate and can be captured in a graph).
struct GemmScratch {
    float *w;       // device buffer of `floats` floats (NULL: no split-K)
    size_t floats;
    int num_sms;    // SMs on the device, for the split heuristic
};

static inline bool aligned16(const void *p, int ld) { return ((uintptr_t)p % 16 == 0) && ld % 4 == 0; }

// How many K slices the small warp tile uses for C (M,N) with inner size K:
// enough blocks to give every SM about two, each slice at least 128 deep,
// at most 16 slices, and the partial sums must fit the scratch buffer.
static inline int splitk_slices(int M, int N, int K, const GemmScratch &ws) {
    if (!ws.w || ws.num_sms <= 0) return 1;
    const int tiles = cdiv(M, WarpTileSmall::bm) * cdiv(N, WarpTileSmall::bn);
    int s = cdiv(2 * ws.num_sms, tiles);
    s = imin(s, K / 128);
    s = imin(s, 16);
    while (s > 1 && (size_t)s * M * N > ws.floats) s--;
    return imax(s, 1);
}

// Whether a C (M,N) is big enough for the large warp tile: at least one
// 128x128 tile per SM (otherwise the small tile with split-K keeps more SMs busy).
static inline bool gemm_prefers_large(int M, int N, const GemmScratch &ws) {
    const int sms = ws.num_sms > 0 ? ws.num_sms : 132;
    return cdiv(M, WarpTileLarge::bm) * cdiv(N, WarpTileLarge::bn) >= sms;
}

template <class CFG, bool TA, bool TB>
static inline cudaError_t launch_warptile(int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                                          int ldb, float beta, float *C, int ldc, int splits, float *W,
                                          cudaStream_t stream) {
    const bool va = aligned16(A, lda), vb = aligned16(B, ldb), vc = aligned16(C, ldc);
    // Slices are whole K-tiles; recount them so that none is empty.
    int k_chunk = cdiv(cdiv(K, splits), CFG::bk) * CFG::bk;
    splits = cdiv(K, k_chunk);
    dim3 grid(cdiv(N, CFG::bn), cdiv(M, CFG::bm), splits);
    cnn_launch((sgemm7_warptile<CFG, TA, TB>), grid, dim3(CFG::nt), stream, M, N, K, alpha, A, lda, B, ldb, beta, C,
               ldc, va, vb, vc, k_chunk, W);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || splits == 1) return e;
    const size_t mn = (size_t)M * N;
    const int blocks = (int)((mn + 255) / 256 < 4096 ? (mn + 255) / 256 : 4096);
    cnn_launch(splitk_reduce, dim3(blocks), dim3(256), stream, M, N, splits, W, alpha, beta, C, ldc);
    return cudaGetLastError();
}

template <bool TA, bool TB>
static inline cudaError_t launch_gemm_t(GemmKernel kind, int M, int N, int K, float alpha, const float *A, int lda,
                                        const float *B, int ldb, float beta, float *C, int ldc,
                                        const GemmScratch &ws, cudaStream_t stream) {
    switch (kind) {
    case GEMM_NAIVE:
        cnn_launch((sgemm1_naive<TA, TB>), dim3(cdiv(M, 16), cdiv(N, 16)), dim3(16, 16), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_COALESCED:
        cnn_launch((sgemm2_coalesced<TA, TB>), dim3(cdiv(N, 32), cdiv(M, 8)), dim3(32, 8), stream, M, N, K, alpha,
                   A, lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_SMEM:
        cnn_launch((sgemm3_smem<TA, TB>), dim3(cdiv(N, 32), cdiv(M, 32)), dim3(32, 32), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_TILE1D:
        cnn_launch((sgemm4_tile1d<TA, TB>), dim3(cdiv(N, 64), cdiv(M, 64)), dim3(512), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_TILE2D:
        cnn_launch((sgemm5_tile2d<TA, TB>), dim3(cdiv(N, 128), cdiv(M, 128)), dim3(256), stream, M, N, K, alpha,
                   A, lda, B, ldb, beta, C, ldc);
        return cudaGetLastError();
    case GEMM_VEC:
        cnn_launch((sgemm6_vec<TA, TB>), dim3(cdiv(N, 128), cdiv(M, 128)), dim3(256), stream, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc, aligned16(A, lda), aligned16(B, ldb), aligned16(C, ldc));
        return cudaGetLastError();
    case GEMM_WARPTILE:
        return launch_warptile<WarpTileLarge, TA, TB>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1, NULL,
                                                      stream);
    case GEMM_WARPTILE_SMALL:
        return launch_warptile<WarpTileSmall, TA, TB>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                                                      splitk_slices(M, N, K, ws), ws.w, stream);
    case GEMM_AUTO:
        return launch_gemm_t<TA, TB>(gemm_prefers_large(M, N, ws) ? GEMM_WARPTILE : GEMM_WARPTILE_SMALL, M, N, K,
                                     alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
    }
    return cudaErrorInvalidValue;
}

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C with the chosen kernel, queued on stream.
static inline cudaError_t launch_gemm(GemmKernel kind, bool ta, bool tb, int M, int N, int K, float alpha,
                                      const float *A, int lda, const float *B, int ldb, float beta, float *C,
                                      int ldc, const GemmScratch &ws, cudaStream_t stream) {
    if (ta)
        return tb ? launch_gemm_t<true, true>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream)
                  : launch_gemm_t<true, false>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
    return tb ? launch_gemm_t<false, true>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream)
              : launch_gemm_t<false, false>(kind, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, stream);
}

} // namespace cnn_cuda

#endif
