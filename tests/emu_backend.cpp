// A test double: a backend whose ops are the CUDA backend's kernels and
// launch code, run on the CPU by the emulator (cuda_emu_shim.h) over host
// memory. test_backend_ops compares it with the CPU backend like any other
// backend, so every CUDA kernel is checked on machines without a GPU.
//
// The glue mirrors backends/cuda/cuda_backend.cu (the same launch_* calls
// with the same arguments); what it cannot check is that file's CUDA
// runtime and cuBLAS calls, which only a GPU runs (tests/test_cuda_*.c).
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "core/backend.h"
#include "core/dist.h"
#include "test_backend_ops.h"
}

#include "cuda_emu_shim.h"

// The emulated kernels get their own namespace: libcnn may hold the real ones.
#define cnn_cuda cnn_cuda_emulated
#include "backends/cuda/conv_kernels.cuh"
#include "backends/cuda/gemm/dispatch.cuh"
#include "backends/cuda/ops_kernels.cuh"
#include "backends/cuda/fused/mlp_step_launch.cuh"

using namespace cnn_cuda_emulated;

namespace {

struct emu_state {
    float *splitk;        // split-K partial sums
    size_t splitk_floats;
    double partial[LOSS_MAX_BLOCKS * 2];
    int err[ERRW_WORDS];  // the error word the kernels write (DEVERR_* code, loss counters)
    long mlp_evals;       // mlp_eval calls (test_emu_backend_mlp_evals)
};

emu_state *st(cnn_backend *be) { return (emu_state *)be->ctx; }

cnn_status launched(cudaError_t e, const char *what) {
    return e == cudaSuccess ? CNN_OK : cnn_error(CNN_ERR_DEVICE, "emulator: %s failed to launch", what);
}

cnn_status emu_alloc(cnn_backend *, size_t bytes, void **ptr) {
    const size_t rounded = (bytes + 63) / 64 * 64 + 64;
    *ptr = aligned_alloc(64, rounded);
    if (!*ptr) return cnn_error(CNN_ERR_NOMEM, "emulator: out of memory allocating %zu bytes", bytes);
    memset(*ptr, 0, rounded);
    return CNN_OK;
}

void emu_free(cnn_backend *, void *ptr) { free(ptr); }

cnn_status emu_memcpy(cnn_backend *, const void *src, void *dst, size_t bytes) {
    if (bytes) memmove(dst, src, bytes);
    return CNN_OK;
}

cnn_status emu_fill(cnn_backend *, float *x, size_t n, float value) {
    return launched(launch_fill(x, n, value, NULL), "fill");
}

// As cuda_sync: reports (once) an error a kernel flagged.
cnn_status emu_sync(cnn_backend *be) {
    const int code = st(be)->err[ERRW_CODE];
    st(be)->err[ERRW_CODE] = DEVERR_NONE;
    be->loss_calls = st(be)->err[ERRW_LOSS_CALLS];
    if (code == DEVERR_NONE && st(be)->err[ERRW_NONFINITE] > 0 && be->nonfinite_loss_call == 0) {
        be->nonfinite_loss_call = st(be)->err[ERRW_NONFINITE];
        return cnn_error(CNN_ERR_DIVERGED, "the training loss became non-finite at loss call %ld (emulated)",
                         be->nonfinite_loss_call);
    }
    if (code == DEVERR_LABEL) return cnn_error(CNN_ERR_INVALID_ARG, "softmax_xent: a label is outside [0, C) (emulated)");
    if (code == DEVERR_GATHER_RANGE) return cnn_error(CNN_ERR_INVALID_ARG, "gather: a batch ran past the end (emulated)");
    if (code != DEVERR_NONE) return cnn_error(CNN_ERR_INTERNAL, "emulator: unknown error code %d", code);
    return CNN_OK;
}

cnn_status emu_bias_add(cnn_backend *, const float *b, float *Y, int B, int N, bool relu) {
    return launched(launch_bias_add(Y, b, B, N, relu, NULL), "bias_add");
}

cnn_status emu_relu_forward(cnn_backend *, const float *x, float *y, size_t n) {
    return launched(launch_relu_forward(x, y, n, NULL), "relu_forward");
}

cnn_status emu_relu_backward(cnn_backend *, const float *y, const float *dy, float *dx, size_t n) {
    return launched(launch_relu_backward(y, dy, dx, n, NULL), "relu_backward");
}

cnn_status emu_softmax_xent(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits, float *stats,
                            int B, int C, float grad_scale) {
    return launched(launch_softmax_xent(logits, labels, B, C, grad_scale, dlogits, stats, st(be)->partial,
                                        st(be)->err, NULL),
                    "softmax_xent");
}

cnn_status emu_mse(cnn_backend *be, const float *pred, const float *target, float *dpred, float *stats, int B, int C,
                   float grad_scale) {
    return launched(launch_mse(pred, target, B, C, grad_scale, dpred, stats, st(be)->partial, NULL), "mse");
}

cnn_status emu_colsum(cnn_backend *, const float *X, float *y, int B, int N, float beta) {
    return launched(launch_colsum(X, B, N, beta, y, NULL), "colsum");
}

cnn_status emu_sgd(cnn_backend *, const float *g, float *w, float *v, size_t n, float lr, float momentum, float wd) {
    return launched(launch_sgd(w, g, v, n, lr, momentum, wd, NULL), "sgd");
}

cnn_status emu_gather(cnn_backend *be, const uint8_t *images, const uint8_t *labels, cnn_batch_cursor *cursor, float *X,
                      int32_t *y, int B, int D, float scale, float shift, bool advance) {
    return launched(launch_gather(images, labels, D, cursor, B, scale, shift, X, y, advance, st(be)->err, NULL),
                    "gather");
}

cnn_status emu_im2col(cnn_backend *, const float *X, float *col, int B, const cnn_window *g) {
    return launched(launch_im2col(X, B, *g, col, NULL), "im2col");
}

cnn_status emu_col2im(cnn_backend *, const float *col, float *dX, int B, const cnn_window *g) {
    return launched(launch_col2im(col, B, *g, dX, NULL), "col2im");
}

cnn_status emu_transpose(cnn_backend *, const float *src, float *dst, int n, int rows, int cols) {
    return launched(launch_transpose(src, n, rows, cols, dst, NULL), "transpose");
}

cnn_status emu_maxpool_forward(cnn_backend *, const float *X, float *Y, int32_t *argmax, int B, const cnn_window *g) {
    return launched(launch_maxpool_forward(X, B, *g, Y, argmax, NULL), "maxpool_forward");
}

cnn_status emu_maxpool_backward(cnn_backend *, const float *dY, const int32_t *argmax, float *dX, int B,
                                const cnn_window *g) {
    return launched(launch_maxpool_backward(dY, argmax, B, *g, dX, NULL), "maxpool_backward");
}

// a->steps fused MLP steps (core/mlp_step.h): the CUDA backend's kernel on an emulated cooperative grid.
cnn_status emu_mlp_steps(cnn_backend *be, const cnn_mlp_fused_args *a) {
    cnn_mlp_fused_args args = *a;
    args.err = st(be)->err; // the fused kernel writes the code word (ERRW_CODE)
    return launched(launch_mlp_step_fused(&args, NULL), "the fused MLP step");
}

// The fused evaluation pass (core/mlp_step.h): the CUDA backend's kernel on an emulated cooperative grid.
cnn_status emu_mlp_eval(cnn_backend *be, const cnn_mlp_fused_args *a) {
    cnn_mlp_fused_args args = *a;
    args.err = st(be)->err;
    st(be)->mlp_evals++;
    return launched(launch_mlp_eval_fused(&args, NULL), "the fused MLP evaluation");
}

// The emulated GPU runs cooperative launches, unless $CNN_TEST_EMU_NO_COOP is set (a GPU that refuses them,
// for the step's fallback: models/train.c).
cnn_status emu_mlp_fused_ready(cnn_backend *) {
    if (getenv("CNN_TEST_EMU_NO_COOP"))
        return cnn_error(CNN_ERR_UNSUPPORTED, "this GPU cannot run the fused step's cooperative launch (the emulator "
                                              "refuses it: CNN_TEST_EMU_NO_COOP)");
    return CNN_OK;
}

// x is (n), the gradient arena in (host) memory: summed over the ranks of be->dist on the host (core/dist.h),
// so that the CUDA loop's logic (the fused step's gradient-only launches) runs under mpirun without a GPU.
cnn_status emu_allreduce(cnn_backend *be, float *x, size_t n) { return cnn_dist_sum_floats(be->dist, x, n); }

// C (M,N) = alpha op(A) (M,K) op(B) (K,N) + beta C: the CUDA backend's "auto" dispatch (132 SMs, as an H200).
cnn_status emu_gemm_auto(cnn_backend *be, bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc) {
    GemmScratch ws = {st(be)->splitk, st(be)->splitk_floats, 132};
    return launched(launch_gemm(GEMM_AUTO, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, NULL), "gemm");
}

void emu_destroy(cnn_backend *be) {
    free(st(be)->splitk);
    delete st(be);
    delete be;
}

cnn_backend_ops make_ops() {
    cnn_backend_ops o = {};
    o.destroy = emu_destroy;
    o.alloc = emu_alloc;
    o.free = emu_free;
    o.upload = emu_memcpy;
    o.download = emu_memcpy;
    o.copy = emu_memcpy;
    o.fill = emu_fill;
    o.sync = emu_sync;
    o.bias_add = emu_bias_add;
    o.relu_forward = emu_relu_forward;
    o.relu_backward = emu_relu_backward;
    o.softmax_xent = emu_softmax_xent;
    o.mse = emu_mse;
    o.colsum = emu_colsum;
    o.sgd = emu_sgd;
    o.gather = emu_gather;
    o.im2col = emu_im2col;
    o.col2im = emu_col2im;
    o.transpose = emu_transpose;
    o.maxpool_forward = emu_maxpool_forward;
    o.maxpool_backward = emu_maxpool_backward;
    o.mlp_steps = emu_mlp_steps;
    o.mlp_eval = emu_mlp_eval;
    o.mlp_fused_ready = emu_mlp_fused_ready;
    o.allreduce = emu_allreduce;
    return o;
}

const cnn_backend_ops emu_ops = make_ops();
const cnn_gemm_variant emu_gemms[] = {
    {"auto", emu_gemm_auto, "the CUDA backend's default dispatch, emulated", CNN_PRECISION_FP32}};

} // namespace

extern "C" long test_emu_backend_mlp_evals(const cnn_backend *be) { return ((const emu_state *)be->ctx)->mlp_evals; }

extern "C" cnn_status test_emu_backend_create(cnn_backend **out) {
    *out = NULL;
    emu_state *s = new emu_state();
    s->splitk_floats = (size_t)1 << 20;
    s->splitk = (float *)calloc(s->splitk_floats, sizeof(float));
    cnn_backend *be = new cnn_backend();
    be->ops = &emu_ops;
    be->name = "cuda-emulated";
    be->device = CNN_DEVICE_CUDA; // the CUDA backend's kernels (over host memory)
    be->ctx = s;
    be->gemm_variants = emu_gemms;
    be->n_gemm_variants = 1;
    be->default_gemm = "auto";
    be->gemm = &emu_gemms[0];
    snprintf(be->device_desc, sizeof be->device_desc, "CUDA kernels on the CPU emulator");
    *out = be;
    return CNN_OK;
}
