// The CPU backend: host memory, OpenMP element-wise ops, and the GEMM ladder.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "core/backend.h"
#include "core/dist.h"
#include "cpu_conv.h"
#include "gemm.h"

// Element-wise loops below this size run on one thread: waking the OpenMP
// team costs more (measured with cnn-train explain --measure: a 65,536-element
// ReLU gradient took 300 µs across 2 threads, 20 µs on one).
#define CPU_PARALLEL_MIN 262144

static cnn_status cpu_alloc(cnn_backend *be, size_t bytes, void **ptr) {
    (void)be;
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) return cnn_error(CNN_ERR_NOMEM, "out of memory allocating %zu bytes on the CPU", bytes);
    memset(p, 0, rounded ? rounded : 64);
    *ptr = p;
    return CNN_OK;
}

static void cpu_free(cnn_backend *be, void *ptr) {
    (void)be;
    free(ptr);
}

// Upload, download and copy alike: host memory is the device's.
static cnn_status cpu_memcpy(cnn_backend *be, const void *src, void *dst, size_t bytes) {
    (void)be;
    if (bytes) memmove(dst, src, bytes);
    return CNN_OK;
}

// x is (n): x[i] = value.
static cnn_status cpu_fill(cnn_backend *be, float *x, size_t n, float value) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= CPU_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) x[i] = value;
    return CNN_OK;
}

// The ops run synchronously; sync only reports a non-finite training loss flagged by softmax_xent.
static cnn_status cpu_sync(cnn_backend *be) {
    if (be->nonfinite_loss_call > 0 && !cnn_cpu_ctx_of(be)->nonfinite_reported) {
        cnn_cpu_ctx_of(be)->nonfinite_reported = 1;
        return cnn_error(CNN_ERR_DIVERGED, "the training loss became non-finite at loss call %ld",
                         be->nonfinite_loss_call);
    }
    return CNN_OK;
}

// b is (N), Y is (B,N): Y += b, then ReLU when relu.
static cnn_status cpu_bias_add(cnn_backend *be, const float *b, float *Y, int B, int N, bool relu) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
#pragma omp parallel for schedule(static) num_threads(threads) if ((size_t)B * N >= CPU_PARALLEL_MIN)
    for (int i = 0; i < B; i++) {
        float *y = Y + (size_t)i * N;
        if (relu)
            for (int j = 0; j < N; j++) {
                float v = y[j] + b[j];
                y[j] = v > 0.0f ? v : 0.0f;
            }
        else
            for (int j = 0; j < N; j++) y[j] += b[j];
    }
    return CNN_OK;
}

// x, y are (n): y = max(x, 0).
static cnn_status cpu_relu_forward(cnn_backend *be, const float *x, float *y, size_t n) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= CPU_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return CNN_OK;
}

// y, dy, dx are (n): dx = dy where y > 0, else 0.
static cnn_status cpu_relu_backward(cnn_backend *be, const float *y, const float *dy, float *dx, size_t n) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= CPU_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    return CNN_OK;
}

// logits is (B,C), labels is (B), dlogits is (B,C) or NULL, stats is (2).
// Row sums are accumulated in double and added to stats in row order, so the
// result does not depend on the number of threads.
static cnn_status cpu_softmax_xent(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                                   float *stats, int B, int C, float grad_scale) {
    double loss = 0.0, correct = 0.0;
    for (int i = 0; i < B; i++) {
        const float *z = logits + (size_t)i * C;
        int label = labels[i];
        if (label < 0 || label >= C)
            return cnn_error(CNN_ERR_INVALID_ARG, "softmax_xent: label %d of row %d is outside [0, %d)", label, i, C);
        int argmax = 0;
        float zmax = z[0];
        for (int c = 1; c < C; c++)
            if (z[c] > zmax) zmax = z[c], argmax = c;
        double sum = 0.0;
        for (int c = 0; c < C; c++) sum += exp((double)z[c] - zmax);
        loss += log(sum) - ((double)z[label] - zmax);
        correct += argmax == label;
        if (dlogits) {
            float *d = dlogits + (size_t)i * C;
            for (int c = 0; c < C; c++) {
                double p = exp((double)z[c] - zmax) / sum;
                d[c] = grad_scale * (float)(p - (c == label));
            }
        }
    }
    stats[0] += (float)loss;
    stats[1] += (float)correct;
    if (dlogits) { // a training step: flag the first non-finite loss for the next sync
        be->loss_calls++;
        if (!isfinite(loss) && be->nonfinite_loss_call == 0) be->nonfinite_loss_call = be->loss_calls;
    }
    return CNN_OK;
}

static int row_argmax(const float *x, int C) {
    int best = 0;
    for (int c = 1; c < C; c++)
        if (x[c] > x[best]) best = c;
    return best;
}

// pred, target, dpred are (B,C), stats is (2): mean squared error over classes.
static cnn_status cpu_mse(cnn_backend *be, const float *pred, const float *target, float *dpred, float *stats,
                          int B, int C, float grad_scale) {
    (void)be;
    double loss = 0.0, correct = 0.0;
    for (int i = 0; i < B; i++) {
        const float *p = pred + (size_t)i * C, *t = target + (size_t)i * C;
        double row = 0.0;
        for (int c = 0; c < C; c++) {
            double d = (double)p[c] - t[c];
            row += d * d;
            if (dpred) dpred[(size_t)i * C + c] = grad_scale * 2.0f * (p[c] - t[c]) / (float)C;
        }
        loss += row / C;
        correct += row_argmax(p, C) == row_argmax(t, C);
    }
    stats[0] += (float)loss;
    stats[1] += (float)correct;
    return CNN_OK;
}

// X is (B,N), y is (N): y = beta y + column sums of X. Rows are walked in
// order (stride-1 inner loop); each column is still summed in row order, so
// the result does not depend on the number of threads.
static cnn_status cpu_colsum(cnn_backend *be, const float *X, float *y, int B, int N, float beta) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
    enum { CHUNK = 256 };
    const int n_chunks = (N + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) num_threads(threads) if ((size_t)B * N >= CPU_PARALLEL_MIN && n_chunks > 1)
    for (int c = 0; c < n_chunks; c++) {
        const int j0 = c * CHUNK, j1 = j0 + CHUNK < N ? j0 + CHUNK : N;
        float acc[CHUNK];
        for (int j = j0; j < j1; j++) acc[j - j0] = 0.0f;
        for (int i = 0; i < B; i++) {
            const float *x = X + (size_t)i * N;
            for (int j = j0; j < j1; j++) acc[j - j0] += x[j];
        }
        for (int j = j0; j < j1; j++) y[j] = beta == 0.0f ? acc[j - j0] : beta * y[j] + acc[j - j0];
    }
    return CNN_OK;
}

// g, w, v are (n): SGD with momentum and weight decay, PyTorch's formulation.
static cnn_status cpu_sgd(cnn_backend *be, const float *g, float *w, float *v, size_t n, float lr, float momentum,
                          float wd) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= CPU_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) {
        float grad = g[i] + wd * w[i];
        float vel = momentum * v[i] + grad;
        v[i] = vel;
        w[i] -= lr * vel;
    }
    return CNN_OK;
}

// images is (n,D) uint8, labels is (n) uint8, cursor is one cnn_batch_cursor,
// X is (B,D), y is (B): gathers examples perm(start + i), normalises them,
// then moves the cursor on by B when advance.
static cnn_status cpu_gather(cnn_backend *be, const uint8_t *images, const uint8_t *labels,
                             cnn_batch_cursor *cursor, float *X, int32_t *y, int B, int D, float scale, float shift,
                             bool advance) {
    const int threads = cnn_cpu_ctx_of(be)->threads;
    const cnn_perm perm = cursor->perm;
    const uint32_t start = cursor->start;
    if ((uint64_t)start + (uint64_t)B > perm.n)
        return cnn_error(CNN_ERR_INVALID_ARG, "gather: batch [%u, %u) runs past the %u examples", start,
                         start + (uint32_t)B, perm.n);
#pragma omp parallel for schedule(static) num_threads(threads) if ((size_t)B * D >= CPU_PARALLEL_MIN)
    for (int i = 0; i < B; i++) {
        uint32_t j = cnn_perm_apply(&perm, start + (uint32_t)i);
        const uint8_t *src = images + (size_t)j * D;
        float *dst = X + (size_t)i * D;
        for (int d = 0; d < D; d++) dst[d] = (float)src[d] * scale + shift;
        y[i] = labels[j];
    }
    if (advance) cursor->start = start + (cursor->stride ? cursor->stride : (uint32_t)B);
    return CNN_OK;
}

// x is (n) host floats, the gradient arena: summed over the ranks of be->dist in core/dist.h's fixed order.
static cnn_status cpu_allreduce(cnn_backend *be, float *x, size_t n) { return cnn_dist_sum_floats(be->dist, x, n); }

static void cpu_destroy(cnn_backend *be) {
    free(be->ctx);
    free(be);
}

static const cnn_backend_ops cpu_ops = {
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_memcpy,
    .download = cpu_memcpy,
    .copy = cpu_memcpy,
    .fill = cpu_fill,
    .sync = cpu_sync,
    .bias_add = cpu_bias_add,
    .relu_forward = cpu_relu_forward,
    .relu_backward = cpu_relu_backward,
    .softmax_xent = cpu_softmax_xent,
    .mse = cpu_mse,
    .colsum = cpu_colsum,
    .sgd = cpu_sgd,
    .gather = cpu_gather,
    // no graphs: capture_begin, capture_end, graph_launch, graph_destroy stay NULL
    .im2col = cnn_cpu_im2col, // convolution and pooling: cpu_conv.c
    .col2im = cnn_cpu_col2im,
    .transpose = cnn_cpu_transpose,
    .maxpool_forward = cnn_cpu_maxpool_forward,
    .maxpool_backward = cnn_cpu_maxpool_backward,
    .allreduce = cpu_allreduce,
};

void cnn_cpu_backend_describe(cnn_backend *out) {
    memset(out, 0, sizeof *out);
    out->ops = &cpu_ops;
    out->name = "cpu";
    out->device = CNN_DEVICE_CPU;
    out->gemm_variants = cnn_cpu_gemm_variants;
    out->n_gemm_variants = cnn_cpu_gemm_variant_count;
    out->default_gemm = cnn_cpu_gemm_default;
}

cnn_status cnn_cpu_backend_create(int threads, cnn_backend **out) {
    *out = NULL;
    if (threads < 0 || threads > CNN_CPU_MAX_THREADS)
        return cnn_error(CNN_ERR_INVALID_ARG, "--threads must be in [0, %d] (0 means all cores), got %d",
                         CNN_CPU_MAX_THREADS, threads);
    const gemm_ukernel *kernel = NULL;
    CNN_TRY(gemm_default_kernel(&kernel));
    cnn_backend *be = calloc(1, sizeof *be);
    cnn_cpu_ctx *ctx = calloc(1, sizeof *ctx);
    if (!be || !ctx) {
        free(be);
        free(ctx);
        return cnn_error(CNN_ERR_NOMEM, "out of memory creating the CPU backend");
    }
    ctx->threads = threads > 0 ? threads : omp_get_max_threads(); // OMP_NUM_THREADS, else the cores
    ctx->kernel = kernel;
    cnn_cpu_backend_describe(be);
    be->ctx = ctx;
    snprintf(be->device_desc, sizeof be->device_desc, "CPU, %d thread%s", ctx->threads,
             ctx->threads == 1 ? "" : "s");
    *out = be;
    return CNN_OK;
}

int cnn_cpu_backend_threads(const cnn_backend *be) {
    return be->device == CNN_DEVICE_CPU ? cnn_cpu_ctx_of(be)->threads : 0;
}
