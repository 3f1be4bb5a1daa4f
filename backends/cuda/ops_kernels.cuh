// The CUDA backend's non-GEMM kernels (element-wise ops, the fused loss
// kernels, reductions, SGD and the batch gather) and the host code that
// launches them (shared with the CPU emulation test, tests/test_cuda_emu.cpp).
//
// Determinism: no kernel uses floating-point atomics. The loss kernels give
// each row to one warp (butterfly reductions, the same order every run),
// each block writes its partial sums to a fixed slot, and one thread adds
// the slots in order; the column sums reduce in a fixed tree. The grids
// depend only on the shapes, so the same inputs give the same bits.
//
// Errors a kernel finds in the data (a label outside [0, C), a batch that
// runs past the data) cannot be returned from a queued launch: the kernel
// writes a DEVERR_* code to *err (mapped host memory) and the backend
// reports it at the next sync or download.
#ifndef CNN_CUDA_OPS_KERNELS_CUH
#define CNN_CUDA_OPS_KERNELS_CUH

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/perm.h"

namespace cnn_cuda {

enum { DEVERR_NONE = 0, DEVERR_LABEL = 1, DEVERR_GATHER_RANGE = 2 };
// The error word is ERRW_WORDS ints: [ERRW_CODE] a DEVERR_* code; for divergence, [ERRW_LOSS_CALLS]
// counts the training loss calls (those with dlogits) and [ERRW_NONFINITE] is the 1-based index of
// the first whose loss sum was not finite (0: none). The host reads them at the next sync.
enum { ERRW_CODE = 0, ERRW_NONFINITE = 1, ERRW_LOSS_CALLS = 2, ERRW_WORDS = 4 };

constexpr int EW_THREADS = 256;     // element-wise kernels
constexpr int EW_MAX_BLOCKS = 4096; // grid-stride beyond this
constexpr int LOSS_WARPS = 8;       // rows a loss block works on at once (one per warp)
constexpr int LOSS_MAX_BLOCKS = 256; // partial-sum slots (the backend allocates 2 doubles each)

// x is (n): x[i] = value.
__global__ void k_fill(float *__restrict__ x, size_t n, float value) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        x[i] = value;
}

// Y is (B,N), b is (N): Y += b broadcast over rows, then max(Y, 0) when RELU.
template <bool RELU> __global__ void k_bias_add(float *__restrict__ Y, const float *__restrict__ b, int B, int N) {
    const size_t total = (size_t)B * N;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        float v = Y[e] + b[e % (size_t)N];
        if (RELU) v = v > 0.0f ? v : 0.0f;
        Y[e] = v;
    }
}

// x, y are (n): y = max(x, 0) (in place allowed).
__global__ void k_relu_forward(const float *x, float *y, size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// y, dy, dx are (n): dx = dy where y > 0, else 0 (dx == dy allowed).
__global__ void k_relu_backward(const float *y, const float *dy, float *dx, size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// Warp-wide first argmax: every lane ends with the largest value and, among
// equal values, the smallest index (the CPU's strict '>' scan keeps the first).
__device__ __forceinline__ void warp_argmax(float &v, int &idx) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, off);
        const int oi = __shfl_xor_sync(0xffffffffu, idx, off);
        if (ov > v || (ov == v && oi < idx)) v = ov, idx = oi;
    }
}

// The first argmax of row x (C): every lane of the warp gets it.
__device__ __forceinline__ int row_argmax(const float *x, int C, int lane) {
    float v = -INFINITY;
    int idx = 0x7fffffff;
    if (lane < C) v = x[lane], idx = lane;
    for (int c = lane + 32; c < C; c += 32)
        if (x[c] > v) v = x[c], idx = c;
    warp_argmax(v, idx);
    return idx;
}

template <class T> __device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v; // a butterfly: every lane adds the same pairs, so every lane holds the same sum
}

// Adds the warps' (loss, correct) in warp order and writes the block's pair to partial[blockIdx.x].
__device__ __forceinline__ void block_partials(double loss, double correct, double *partial) {
    __shared__ double sh[LOSS_WARPS][2];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) sh[warp][0] = loss, sh[warp][1] = correct;
    __syncthreads();
    if (threadIdx.x == 0) {
        double l = 0.0, c = 0.0;
        for (int w = 0; w < LOSS_WARPS; w++) l += sh[w][0], c += sh[w][1];
        partial[2 * blockIdx.x] = l;
        partial[2 * blockIdx.x + 1] = c;
    }
}

// logits is (B,C), labels is (B), dlogits is (B,C) or NULL, partial is (gridDim.x, 2):
// softmax, cross-entropy, its gradient and the argmax hit, fused; one warp per row.
// dlogits = grad_scale (softmax - onehot); partial gets the block's sums of -log p[label] and hits.
__global__ void __launch_bounds__(LOSS_WARPS * 32)
    k_softmax_xent(const float *__restrict__ logits, const int32_t *__restrict__ labels, int B, int C,
                   float grad_scale, float *__restrict__ dlogits, double *__restrict__ partial, int *err) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    double loss = 0.0, correct = 0.0;
    for (int row = blockIdx.x * LOSS_WARPS + warp; row < B; row += gridDim.x * LOSS_WARPS) {
        const float *z = logits + (size_t)row * C;
        float *d = dlogits ? dlogits + (size_t)row * C : NULL;
        const int label = labels[row];
        if (label < 0 || label >= C) {
            if (lane == 0) *err = DEVERR_LABEL;
            if (d)
                for (int c = lane; c < C; c += 32) d[c] = 0.0f;
            continue;
        }
        const int arg = row_argmax(z, C, lane);
        const float zmax = z[arg];
        float s = 0.0f;
        for (int c = lane; c < C; c += 32) s += expf(z[c] - zmax);
        s = warp_sum(s);
        if (lane == 0) {
            loss += (double)logf(s) - ((double)z[label] - (double)zmax);
            correct += arg == label;
        }
        if (d) {
            const float inv = 1.0f / s;
            for (int c = lane; c < C; c += 32) {
                const float p = expf(z[c] - zmax) * inv;
                d[c] = grad_scale * (c == label ? p - 1.0f : p);
            }
        }
    }
    block_partials(loss, correct, partial);
}

// pred, target, dpred are (B,C) (dpred may be NULL), partial is (gridDim.x, 2): one warp per row;
// row loss = sum_c (pred - target)^2 / C, dpred = grad_scale 2 (pred - target) / C, hit when the argmaxes agree.
__global__ void __launch_bounds__(LOSS_WARPS * 32)
    k_mse(const float *__restrict__ pred, const float *__restrict__ target, int B, int C, float grad_scale,
          float *__restrict__ dpred, double *__restrict__ partial) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    double loss = 0.0, correct = 0.0;
    for (int row = blockIdx.x * LOSS_WARPS + warp; row < B; row += gridDim.x * LOSS_WARPS) {
        const float *p = pred + (size_t)row * C, *t = target + (size_t)row * C;
        double sq = 0.0;
        for (int c = lane; c < C; c += 32) {
            const double diff = (double)p[c] - (double)t[c];
            sq += diff * diff;
            if (dpred) dpred[(size_t)row * C + c] = grad_scale * 2.0f * (p[c] - t[c]) / (float)C;
        }
        sq = warp_sum(sq);
        const int ap = row_argmax(p, C, lane), at = row_argmax(t, C, lane);
        if (lane == 0) {
            loss += sq / C;
            correct += ap == at;
        }
    }
    block_partials(loss, correct, partial);
}

// partial is (nparts, 2), stats is (2): stats += the partial sums, added in slot order (one thread).
// err (the error word, or NULL) counts training calls and flags the first non-finite loss.
__global__ void k_stats_finalize(const double *__restrict__ partial, int nparts, float *stats, int *err, int train) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double l = 0.0, c = 0.0;
    for (int i = 0; i < nparts; i++) l += partial[2 * i], c += partial[2 * i + 1];
    stats[0] += (float)l;
    stats[1] += (float)c;
    if (err && train) {
        const int call = err[ERRW_LOSS_CALLS] + 1;
        err[ERRW_LOSS_CALLS] = call;
        if (!isfinite(l) && err[ERRW_NONFINITE] == 0) err[ERRW_NONFINITE] = call;
    }
}

// X is (B,N), y is (N): y = beta y + column sums of X. Block (32,8), grid cdiv(N,32):
// thread (ty, tx) sums rows ty, ty+8, ... of column tx in order, then the 8 partials are added in order.
__global__ void __launch_bounds__(256)
    k_colsum(const float *__restrict__ X, int B, int N, float beta, float *__restrict__ y) {
    __shared__ float sh[8][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int j = blockIdx.x * 32 + tx;
    float acc = 0.0f;
    if (j < N)
        for (int i = ty; i < B; i += 8) acc += X[(size_t)i * N + j];
    sh[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && j < N) {
        float s = sh[0][tx];
        for (int r = 1; r < 8; r++) s += sh[r][tx];
        y[j] = beta == 0.0f ? s : beta * y[j] + s;
    }
}

// w, g, v are (n): g' = g + wd w; v = momentum v + g'; w -= lr v (PyTorch's SGD), over the whole
// parameter arena in one launch. Rounded like the CPU backend (no fused multiply-add).
__global__ void k_sgd(float *__restrict__ w, const float *__restrict__ g, float *__restrict__ v, size_t n, float lr,
                      float momentum, float wd) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float wi = w[i];
        const float grad = __fadd_rn(g[i], __fmul_rn(wd, wi));
        const float vel = __fadd_rn(__fmul_rn(momentum, v[i]), grad);
        v[i] = vel;
        w[i] = __fsub_rn(wi, __fmul_rn(lr, vel));
    }
}

// images is (n,D) uint8, labels is (n) uint8, cursor is one cnn_batch_cursor, X is (B,D), y is (B):
// block i gathers example j = perm(cursor->start + i) into row i, X = images[j] * scale + shift.
// The cursor is only read here; k_cursor_advance moves it after this grid has finished.
__global__ void k_gather(const uint8_t *__restrict__ images, const uint8_t *__restrict__ labels, int D,
                         const cnn_batch_cursor *__restrict__ cursor, int B, float scale, float shift,
                         float *__restrict__ X, int32_t *__restrict__ y, int *err) {
    const int i = blockIdx.x;
    if (i >= B) return;
    const cnn_perm perm = cursor->perm;
    const uint64_t pos = (uint64_t)cursor->start + (uint64_t)i;
    float *dst = X + (size_t)i * D;
    if (pos >= perm.n) { // the batch runs past the data: zeros, and an error at the next sync
        for (int d = threadIdx.x; d < D; d += blockDim.x) dst[d] = 0.0f;
        if (threadIdx.x == 0) y[i] = 0, *err = DEVERR_GATHER_RANGE;
        return;
    }
    const uint32_t j = cnn_perm_apply(&perm, (uint32_t)pos);
    const uint8_t *src = images + (size_t)j * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) dst[d] = __fadd_rn(__fmul_rn((float)src[d], scale), shift);
    if (threadIdx.x == 0) y[i] = labels[j];
}

// cursor is one cnn_batch_cursor: start += stride (0: += B).
__global__ void k_cursor_advance(cnn_batch_cursor *cursor, int B) {
    if (blockIdx.x == 0 && threadIdx.x == 0) cursor->start += cursor->stride ? cursor->stride : (uint32_t)B;
}

// ---------------------------------------------------------------------------
// Host side: grids. Each returns the first launch error (cudaSuccess when n is 0).

static inline int ew_blocks(size_t n) {
    const size_t b = (n + EW_THREADS - 1) / EW_THREADS;
    return b > (size_t)EW_MAX_BLOCKS ? EW_MAX_BLOCKS : (int)b;
}

static inline int loss_blocks(int B) {
    const int b = (B + LOSS_WARPS - 1) / LOSS_WARPS;
    return b > LOSS_MAX_BLOCKS ? LOSS_MAX_BLOCKS : b;
}

static inline cudaError_t launch_fill(float *x, size_t n, float value, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    cnn_launch(k_fill, dim3(ew_blocks(n)), dim3(EW_THREADS), s, x, n, value);
    return cudaGetLastError();
}

static inline cudaError_t launch_bias_add(float *Y, const float *b, int B, int N, bool relu, cudaStream_t s) {
    const size_t n = (size_t)B * N;
    if (n == 0) return cudaSuccess;
    if (relu)
        cnn_launch(k_bias_add<true>, dim3(ew_blocks(n)), dim3(EW_THREADS), s, Y, b, B, N);
    else
        cnn_launch(k_bias_add<false>, dim3(ew_blocks(n)), dim3(EW_THREADS), s, Y, b, B, N);
    return cudaGetLastError();
}

static inline cudaError_t launch_relu_forward(const float *x, float *y, size_t n, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    cnn_launch(k_relu_forward, dim3(ew_blocks(n)), dim3(EW_THREADS), s, x, y, n);
    return cudaGetLastError();
}

static inline cudaError_t launch_relu_backward(const float *y, const float *dy, float *dx, size_t n, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    cnn_launch(k_relu_backward, dim3(ew_blocks(n)), dim3(EW_THREADS), s, y, dy, dx, n);
    return cudaGetLastError();
}

// partial is the backend's (LOSS_MAX_BLOCKS, 2) doubles.
static inline cudaError_t launch_softmax_xent(const float *logits, const int32_t *labels, int B, int C,
                                              float grad_scale, float *dlogits, float *stats, double *partial,
                                              int *err, cudaStream_t s) {
    if (B <= 0) return cudaSuccess;
    const int blocks = loss_blocks(B);
    cnn_launch(k_softmax_xent, dim3(blocks), dim3(LOSS_WARPS * 32), s, logits, labels, B, C, grad_scale, dlogits,
               partial, err);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    cnn_launch(k_stats_finalize, dim3(1), dim3(1), s, (const double *)partial, blocks, stats, err,
               dlogits != NULL ? 1 : 0);
    return cudaGetLastError();
}

static inline cudaError_t launch_mse(const float *pred, const float *target, int B, int C, float grad_scale,
                                     float *dpred, float *stats, double *partial, cudaStream_t s) {
    if (B <= 0) return cudaSuccess;
    const int blocks = loss_blocks(B);
    cnn_launch(k_mse, dim3(blocks), dim3(LOSS_WARPS * 32), s, pred, target, B, C, grad_scale, dpred, partial);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    cnn_launch(k_stats_finalize, dim3(1), dim3(1), s, (const double *)partial, blocks, stats, (int *)NULL, 0);
    return cudaGetLastError();
}

static inline cudaError_t launch_colsum(const float *X, int B, int N, float beta, float *y, cudaStream_t s) {
    if (N <= 0) return cudaSuccess;
    cnn_launch(k_colsum, dim3((N + 31) / 32), dim3(32, 8), s, X, B, N, beta, y);
    return cudaGetLastError();
}

static inline cudaError_t launch_sgd(float *w, const float *g, float *v, size_t n, float lr, float momentum, float wd,
                                     cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    cnn_launch(k_sgd, dim3(ew_blocks(n)), dim3(EW_THREADS), s, w, g, v, n, lr, momentum, wd);
    return cudaGetLastError();
}

static inline cudaError_t launch_gather(const uint8_t *images, const uint8_t *labels, int D, cnn_batch_cursor *cursor,
                                        int B, float scale, float shift, float *X, int32_t *y, bool advance, int *err,
                                        cudaStream_t s) {
    if (B <= 0) return cudaSuccess;
    cnn_launch(k_gather, dim3(B), dim3(D >= 256 ? 256 : 128), s, images, labels, D, (const cnn_batch_cursor *)cursor,
               B, scale, shift, X, y, err);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || !advance) return e;
    cnn_launch(k_cursor_advance, dim3(1), dim3(1), s, cursor, B);
    return cudaGetLastError();
}

} // namespace cnn_cuda

#endif
