// The CPU backend's convolution and pooling ops: im2col and its adjoint
// col2im, the batched transpose between NHWC and NCHW, and max pooling.
// The GEMM between im2col and the transpose is the backend's selected one
// (layers/conv2d.c calls it through the table), so convolution runs on the
// same GEMM ladder as the linear layers.
//
// Every loop writes each output element from one thread, in a fixed order,
// so the results do not depend on the number of threads.
#include <string.h>

#include "core/backend.h"
#include "cpu_conv.h"
#include "gemm.h"

// Loops below this many elements run on one thread: forking costs more.
#define CONV_PARALLEL_MIN 32768

// One k-wide row of every window along a row of the output: for each
// position ox, dst[ox*K + kx] = src[ox*s - p + kx], 0 outside [0, W). The
// windows that lie inside the image take the plain copy; with k a constant
// (the callers below pass 3 and 5 literally) the compiler unrolls it.
static inline void window_rows(float *dst, size_t K, const float *src, int Wo, int W, int s, int p, int k) {
    for (int ox = 0; ox < Wo; ox++, dst += K) {
        const int x0 = ox * s - p;
        if (x0 >= 0 && x0 + k <= W)
            for (int kx = 0; kx < k; kx++) dst[kx] = src[x0 + kx];
        else
            for (int kx = 0; kx < k; kx++) dst[kx] = (x0 + kx >= 0 && x0 + kx < W) ? src[x0 + kx] : 0.0f;
    }
}

// X is (B, C*H*W) NCHW, col is (B*Hout*Wout, C*k*k): row (b,oy,ox) is the
// window at (oy,ox) of image b, laid out (c,ky,kx); zeros where it covers
// padding. Filled one (c,ky) slice at a time across a whole output row, so
// the checks for padding are made per row, not per element.
cnn_status cnn_cpu_im2col(cnn_backend *be, const float *X, float *col, int B, const cnn_window *g) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
    const int C = g->C, H = g->H, W = g->W, k = g->k, s = g->stride, p = g->pad, Ho = g->Hout, Wo = g->Wout;
    const size_t K = (size_t)C * k * k;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) \
    if ((size_t)B * Ho * Wo * K >= CONV_PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < Ho; oy++) {
            float *rows = col + ((size_t)b * Ho + oy) * Wo * K; // the Wo windows of output row oy
            for (int c = 0; c < C; c++)
                for (int ky = 0; ky < k; ky++) {
                    const int y = oy * s - p + ky;
                    float *dst = rows + ((size_t)c * k + ky) * k;
                    if (y < 0 || y >= H) { // this row of every window lies in the padding
                        for (int ox = 0; ox < Wo; ox++)
                            for (int kx = 0; kx < k; kx++) dst[ox * K + kx] = 0.0f;
                        continue;
                    }
                    const float *src = X + (((size_t)b * C + c) * H + y) * W;
                    if (k == 5) window_rows(dst, K, src, Wo, W, s, p, 5);
                    else if (k == 3) window_rows(dst, K, src, Wo, W, s, p, 3);
                    else window_rows(dst, K, src, Wo, W, s, p, k);
                }
        }
    return CNN_OK;
}

// window_rows run backwards: for each position ox, dst[ox*s - p + kx] += src[ox*K + kx] inside [0, W).
static inline void window_rows_add(float *dst, const float *src, size_t K, int Wo, int W, int s, int p, int k) {
    for (int ox = 0; ox < Wo; ox++, src += K) {
        const int x0 = ox * s - p;
        if (x0 >= 0 && x0 + k <= W)
            for (int kx = 0; kx < k; kx++) dst[x0 + kx] += src[kx];
        else
            for (int kx = 0; kx < k; kx++)
                if (x0 + kx >= 0 && x0 + kx < W) dst[x0 + kx] += src[kx];
    }
}

// col is (B*Hout*Wout, C*k*k), dX is (B, C*H*W): im2col run backwards. Each
// col entry is added to the pixel it was copied from (entries over padding
// are dropped). One thread owns each (image, channel) plane, and every pixel
// receives its terms in row-major order of the windows (oy, then ox), so the
// sums are deterministic (the CUDA kernel gathers in the same order).
cnn_status cnn_cpu_col2im(cnn_backend *be, const float *col, float *dX, int B, const cnn_window *g) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
    const int C = g->C, H = g->H, W = g->W, k = g->k, s = g->stride, p = g->pad, Ho = g->Hout, Wo = g->Wout;
    const size_t K = (size_t)C * k * k;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) \
    if ((size_t)B * Ho * Wo * K >= CONV_PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            float *plane = dX + ((size_t)b * C + c) * H * W;
            memset(plane, 0, (size_t)H * W * sizeof *plane);
            for (int oy = 0; oy < Ho; oy++)
                for (int ky = 0; ky < k; ky++) {
                    const int y = oy * s - p + ky;
                    if (y < 0 || y >= H) continue;
                    const float *src = col + ((size_t)b * Ho + oy) * Wo * K + ((size_t)c * k + ky) * k;
                    float *dst = plane + (size_t)y * W;
                    if (k == 5) window_rows_add(dst, src, K, Wo, W, s, p, 5);
                    else if (k == 3) window_rows_add(dst, src, K, Wo, W, s, p, 3);
                    else window_rows_add(dst, src, K, Wo, W, s, p, k);
                }
        }
    return CNN_OK;
}

// src is (n, rows, cols), dst is (n, cols, rows): dst[i][c][r] = src[i][r][c].
cnn_status cnn_cpu_transpose(cnn_backend *be, const float *src, float *dst, int n, int rows, int cols) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
    const size_t plane = (size_t)rows * cols;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) \
    if ((size_t)n * plane >= CONV_PARALLEL_MIN)
    for (int i = 0; i < n; i++)
        for (int c = 0; c < cols; c++) {
            const float *s = src + i * plane + c;
            float *d = dst + i * plane + (size_t)c * rows;
            for (int r = 0; r < rows; r++) d[r] = s[(size_t)r * cols];
        }
    return CNN_OK;
}

// X is (B, C*H*W), Y and argmax are (B, C*Hout*Wout): the maximum of each
// window and its position y*W + x in the plane (the first one on ties).
cnn_status cnn_cpu_maxpool_forward(cnn_backend *be, const float *X, float *Y, int32_t *argmax, int B,
                                   const cnn_window *g) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
    if (g->pad != 0) return cnn_error(CNN_ERR_INVALID_ARG, "maxpool: padding is not supported (got pad %d)", g->pad);
    const int C = g->C, H = g->H, W = g->W, k = g->k, s = g->stride, Ho = g->Hout, Wo = g->Wout;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) \
    if ((size_t)B * C * H * W >= CONV_PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            const float *in = X + ((size_t)b * C + c) * H * W;
            float *out = Y + ((size_t)b * C + c) * Ho * Wo;
            int32_t *am = argmax + ((size_t)b * C + c) * Ho * Wo;
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    int best = oy * s * W + ox * s;
                    float v = in[best];
                    for (int ky = 0; ky < k; ky++) {
                        const int at = (oy * s + ky) * W + ox * s;
                        for (int kx = 0; kx < k; kx++)
                            if (in[at + kx] > v) v = in[at + kx], best = at + kx;
                    }
                    out[oy * Wo + ox] = v;
                    am[oy * Wo + ox] = best;
                }
        }
    return CNN_OK;
}

// dY and argmax are (B, C*Hout*Wout), dX is (B, C*H*W): dX = 0, then each
// window's gradient goes to its argmax, windows in row order (one thread per plane).
cnn_status cnn_cpu_maxpool_backward(cnn_backend *be, const float *dY, const int32_t *argmax, float *dX, int B,
                                    const cnn_window *g) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
    const int C = g->C, H = g->H, W = g->W, Ho = g->Hout, Wo = g->Wout;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) \
    if ((size_t)B * C * H * W >= CONV_PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            float *plane = dX + ((size_t)b * C + c) * H * W;
            const float *d = dY + ((size_t)b * C + c) * Ho * Wo;
            const int32_t *am = argmax + ((size_t)b * C + c) * Ho * Wo;
            memset(plane, 0, (size_t)H * W * sizeof *plane);
            for (int i = 0; i < Ho * Wo; i++) plane[am[i]] += d[i];
        }
    return CNN_OK;
}
