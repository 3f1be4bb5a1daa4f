// The CUDA backend's convolution and pooling kernels (im2col, col2im, the
// batched transpose, max pooling forward and backward) and the host code
// that launches them. Shared with the CPU emulation test
// (tests/test_cuda_conv_emu.cpp), so like ops_kernels.cuh it launches only
// through cnn_launch, which the includer declares first (launch.cuh).
//
// One thread per output element, grid-stride loops. Every output is
// written by exactly one thread, and the two that sum (col2im, the pooling
// gradient) gather their terms in the same order as the CPU backend's
// scatter loops: no atomics, and the same bits as the CPU on the same input.
#ifndef CNN_CUDA_CONV_KERNELS_CUH
#define CNN_CUDA_CONV_KERNELS_CUH

#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"

namespace cnn_cuda {

constexpr int CONV_THREADS = 256;
constexpr int CONV_MAX_BLOCKS = 8192; // grid-stride beyond this

static inline unsigned conv_blocks(size_t n) {
    size_t b = (n + CONV_THREADS - 1) / CONV_THREADS;
    return (unsigned)(b < 1 ? 1 : b > CONV_MAX_BLOCKS ? CONV_MAX_BLOCKS : b);
}

// X is (B, C*H*W) NCHW, col is (B*Hout*Wout, C*k*k): element (row, kk) with row = (b*Hout + oy)*Wout + ox and
// kk = (c*k + ky)*k + kx is X[b][c][oy*s - p + ky][ox*s - p + kx], or 0 in the padding.
__global__ void k_im2col(const float *__restrict__ X, int B, cnn_window g, float *__restrict__ col) {
    const int K = g.C * g.k * g.k;
    const size_t total = (size_t)B * g.Hout * g.Wout * K;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const size_t row = e / K;
        const int kk = (int)(e % K);
        const int ox = (int)(row % g.Wout), oy = (int)((row / g.Wout) % g.Hout);
        const int b = (int)(row / ((size_t)g.Wout * g.Hout));
        const int kx = kk % g.k, ky = (kk / g.k) % g.k, c = kk / (g.k * g.k);
        const int y = oy * g.stride - g.pad + ky, x = ox * g.stride - g.pad + kx;
        col[e] = (y >= 0 && y < g.H && x >= 0 && x < g.W) ? X[(((size_t)b * g.C + c) * g.H + y) * g.W + x] : 0.0f;
    }
}

// col is (B*Hout*Wout, C*k*k), dX is (B, C*H*W): each pixel gathers the col entries im2col copied from it.
// Terms are added in the order of the CPU's scatter (windows in row-major order: ky, kx descending).
__global__ void k_col2im(const float *__restrict__ col, int B, cnn_window g, float *__restrict__ dX) {
    const int K = g.C * g.k * g.k;
    const size_t total = (size_t)B * g.C * g.H * g.W;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int x = (int)(e % g.W), y = (int)((e / g.W) % g.H);
        const size_t plane = e / ((size_t)g.W * g.H); // b*C + c
        const int c = (int)(plane % g.C), b = (int)(plane / g.C);
        float acc = 0.0f;
        for (int ky = g.k - 1; ky >= 0; ky--) {
            const int ty = y + g.pad - ky; // = oy * stride for the window that puts this pixel at row ky
            if (ty < 0 || ty % g.stride) continue;
            const int oy = ty / g.stride;
            if (oy >= g.Hout) continue;
            for (int kx = g.k - 1; kx >= 0; kx--) {
                const int tx = x + g.pad - kx;
                if (tx < 0 || tx % g.stride) continue;
                const int ox = tx / g.stride;
                if (ox >= g.Wout) continue;
                acc += col[(((size_t)b * g.Hout + oy) * g.Wout + ox) * K + (c * g.k + ky) * g.k + kx];
            }
        }
        dX[e] = acc;
    }
}

// src is (n, rows, cols), dst is (n, cols, rows): dst[i][c][r] = src[i][r][c] (writes coalesced).
__global__ void k_transpose(const float *__restrict__ src, int n, int rows, int cols, float *__restrict__ dst) {
    const size_t total = (size_t)n * rows * cols;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int r = (int)(e % rows), c = (int)((e / rows) % cols);
        const size_t i = e / ((size_t)rows * cols);
        dst[e] = src[(i * rows + r) * cols + c];
    }
}

// X is (B, C*H*W), Y and argmax are (B, C*Hout*Wout): each window's maximum and its position y*W + x in the
// plane; scanned in row-major order with '>', so the first maximum wins, as on the CPU.
__global__ void k_maxpool_forward(const float *__restrict__ X, int B, cnn_window g, float *__restrict__ Y,
                                  int32_t *__restrict__ argmax) {
    const size_t total = (size_t)B * g.C * g.Hout * g.Wout;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int ox = (int)(e % g.Wout), oy = (int)((e / g.Wout) % g.Hout);
        const float *in = X + (e / ((size_t)g.Wout * g.Hout)) * g.H * g.W;
        int best = oy * g.stride * g.W + ox * g.stride;
        float v = in[best];
        for (int ky = 0; ky < g.k; ky++)
            for (int kx = 0; kx < g.k; kx++) {
                const int at = (oy * g.stride + ky) * g.W + ox * g.stride + kx;
                if (in[at] > v) v = in[at], best = at;
            }
        Y[e] = v;
        argmax[e] = best;
    }
}

// dY and argmax are (B, C*Hout*Wout), dX is (B, C*H*W): each pixel sums dY over the windows whose argmax it
// is, windows in row-major order (the CPU's scatter order).
__global__ void k_maxpool_backward(const float *__restrict__ dY, const int32_t *__restrict__ argmax, int B,
                                   cnn_window g, float *__restrict__ dX) {
    const size_t total = (size_t)B * g.C * g.H * g.W;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int x = (int)(e % g.W), y = (int)((e / g.W) % g.H);
        const size_t plane = e / ((size_t)g.W * g.H);
        const float *d = dY + plane * g.Hout * g.Wout;
        const int32_t *am = argmax + plane * g.Hout * g.Wout;
        // windows oy with oy*s <= y < oy*s + k, likewise ox
        const int oy0 = y - g.k + 1 > 0 ? (y - g.k + g.stride) / g.stride : 0, oy1 = y / g.stride;
        const int ox0 = x - g.k + 1 > 0 ? (x - g.k + g.stride) / g.stride : 0, ox1 = x / g.stride;
        const int here = y * g.W + x;
        float acc = 0.0f;
        for (int oy = oy0; oy <= oy1 && oy < g.Hout; oy++)
            for (int ox = ox0; ox <= ox1 && ox < g.Wout; ox++)
                if (am[oy * g.Wout + ox] == here) acc += d[oy * g.Wout + ox];
        dX[e] = acc;
    }
}

// ---- launches (each returns cudaGetLastError() after queuing) ---------------------------

static inline cudaError_t launch_im2col(const float *X, int B, const cnn_window &g, float *col, cudaStream_t s) {
    const size_t n = (size_t)B * g.Hout * g.Wout * g.C * g.k * g.k;
    if (n == 0) return cudaSuccess;
    cnn_launch(k_im2col, dim3(conv_blocks(n)), dim3(CONV_THREADS), s, X, B, g, col);
    return cudaGetLastError();
}

static inline cudaError_t launch_col2im(const float *col, int B, const cnn_window &g, float *dX, cudaStream_t s) {
    const size_t n = (size_t)B * g.C * g.H * g.W;
    if (n == 0) return cudaSuccess;
    cnn_launch(k_col2im, dim3(conv_blocks(n)), dim3(CONV_THREADS), s, col, B, g, dX);
    return cudaGetLastError();
}

static inline cudaError_t launch_transpose(const float *src, int n, int rows, int cols, float *dst, cudaStream_t s) {
    const size_t total = (size_t)n * rows * cols;
    if (total == 0) return cudaSuccess;
    cnn_launch(k_transpose, dim3(conv_blocks(total)), dim3(CONV_THREADS), s, src, n, rows, cols, dst);
    return cudaGetLastError();
}

static inline cudaError_t launch_maxpool_forward(const float *X, int B, const cnn_window &g, float *Y, int32_t *argmax,
                                                 cudaStream_t s) {
    const size_t n = (size_t)B * g.C * g.Hout * g.Wout;
    if (n == 0) return cudaSuccess;
    cnn_launch(k_maxpool_forward, dim3(conv_blocks(n)), dim3(CONV_THREADS), s, X, B, g, Y, argmax);
    return cudaGetLastError();
}

static inline cudaError_t launch_maxpool_backward(const float *dY, const int32_t *argmax, int B, const cnn_window &g,
                                                  float *dX, cudaStream_t s) {
    const size_t n = (size_t)B * g.C * g.H * g.W;
    if (n == 0) return cudaSuccess;
    cnn_launch(k_maxpool_backward, dim3(conv_blocks(n)), dim3(CONV_THREADS), s, dY, argmax, B, g, dX);
    return cudaGetLastError();
}

} // namespace cnn_cuda

#endif
