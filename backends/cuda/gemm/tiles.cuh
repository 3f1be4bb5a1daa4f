// The SGEMM ladder's shared pieces (backends/cuda/gemm/): integer helpers,
// element access to op(X), the C stores with alpha/beta, and the two ways
// a tile of op(A) or op(B) reaches shared memory: load_tile (one float at a
// time, rungs 3-5) and TileStage (128-bit, through registers, rungs 6-7).
#ifndef CNN_CUDA_GEMM_TILES_CUH
#define CNN_CUDA_GEMM_TILES_CUH

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

// Where a block's results go (kernels 7 and 8): to C with alpha and beta,
// or, when the grid has several K slices (gridDim.z > 1), as raw partial
// sums to slice blockIdx.z of W, (M,N) with ld N, for splitk_reduce.
struct OutTarget {
    float *D;
    int ldd;
    float alpha, beta;
    bool split;
};
__device__ __forceinline__ OutTarget out_target(float *C, int ldc, float *W, int M, int N, float alpha, float beta) {
    const bool split = gridDim.z > 1;
    OutTarget o;
    o.D = split ? W + (size_t)blockIdx.z * M * N : C;
    o.ldd = split ? N : ldc;
    o.alpha = split ? 1.0f : alpha;
    o.beta = split ? 0.0f : beta;
    o.split = split;
    return o;
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

} // namespace cnn_cuda

#endif
