// The CUDA backend: device memory, the ops of core/backend.h as kernels
// queued on one non-blocking stream, and CUDA-graph capture of a training
// step. No op synchronises the host or allocates, so a whole step (gather,
// forward, loss, backward, SGD) can be captured once and replayed; the host
// waits only in sync() and download(), which is also where errors found by
// kernels in the data (a bad label, a batch past the end) are reported.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "cuda_common.h"
#include "cuda_devices.h"
#include "launch.cuh"
#include "conv_kernels.cuh"
#include "ops_kernels.cuh"
#include "fused/mlp_step_launch.cuh" // after ops_kernels.cuh, whose kernels it uses (one .cu includes them)

using namespace cnn_cuda;

// Fixed sizes of the backend's scratch buffers.
static const size_t CUBLAS_WS_BYTES = (size_t)32 << 20;  // cuBLAS's recommended workspace on Hopper
static const size_t SPLITK_FLOATS = (size_t)4 << 20;     // 16 MiB of split-K partial sums
static const size_t BF16_WS_ELEMS = (size_t)4 << 20;     // 8 MiB of bf16 copies for cublas-bf16 (grows outside captures)

// ---- the checking helper ----------------------------------------------------

static const char *cuda_hint(cudaError_t e) {
    switch (e) {
    case cudaErrorMemoryAllocation:
        return "the GPU is out of memory: use a smaller --batch or model, or stop other processes on the GPU "
               "(nvidia-smi lists them)";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInitializationError:
    case cudaErrorDevicesUnavailable:
        return "no usable GPU: run on a machine with an NVIDIA GPU and a driver recent enough for this CUDA "
               "runtime, or use --backend=cpu";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorInvalidPtx:
        return "this build has no code for this GPU: rebuild with -DCMAKE_CUDA_ARCHITECTURES=native (or the "
               "GPU's sm_XX)";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorMisalignedAddress:
    case cudaErrorIllegalInstruction:
    case cudaErrorHardwareStackError:
        return "a kernel faulted and the CUDA context is no longer usable: rerun the failing command under "
               "compute-sanitizer to find the kernel, and report it";
    case cudaErrorLaunchTimeout:
        return "a kernel ran too long (display watchdog): use a GPU without a display attached";
    case cudaErrorInvalidConfiguration:
    case cudaErrorInvalidValue:
    case cudaErrorInvalidDevicePointer:
        return "an invalid argument reached the CUDA runtime: this is a bug in cnn-train, please report it with "
               "the command line";
    case cudaErrorStreamCaptureUnsupported:
    case cudaErrorStreamCaptureInvalidated:
    case cudaErrorStreamCaptureImplicit:
    case cudaErrorStreamCaptureUnmatched:
    case cudaErrorStreamCaptureWrongThread:
        return "an operation that cannot be recorded in a CUDA graph ran during capture: run with graphs off "
               "and report it";
    default:
        return "check the GPU and driver with nvidia-smi and rerun; report it if it persists";
    }
}

cnn_status cnn_cuda_check(cudaError_t e, const char *call, const char *file, int line) {
    if (e == cudaSuccess) return CNN_OK;
    return cnn_error(CNN_ERR_DEVICE, "%s:%d: %s failed: %s (%s): %s", file, line, call, cudaGetErrorName(e),
                     cudaGetErrorString(e), cuda_hint(e));
}

cnn_status cnn_cuda_check(cublasStatus_t s, const char *call, const char *file, int line) {
    if (s == CUBLAS_STATUS_SUCCESS) return CNN_OK;
    const char *hint;
    switch (s) {
    case CUBLAS_STATUS_ALLOC_FAILED: hint = "the GPU is out of memory: use a smaller --batch or free the GPU"; break;
    case CUBLAS_STATUS_NOT_INITIALIZED:
        hint = "cuBLAS could not start: check the GPU and driver with nvidia-smi, or use --backend=cpu";
        break;
    case CUBLAS_STATUS_ARCH_MISMATCH: hint = "this GPU lacks a feature the call needs: use --gemm=cublas"; break;
    case CUBLAS_STATUS_INVALID_VALUE: hint = "invalid GEMM arguments: this is a bug in cnn-train, please report it"; break;
    case CUBLAS_STATUS_EXECUTION_FAILED:
        hint = "the cuBLAS kernel failed to run: rerun under compute-sanitizer and report it";
        break;
    default: hint = "check the GPU and driver with nvidia-smi and rerun; report it if it persists"; break;
    }
    return cnn_error(CNN_ERR_DEVICE, "%s:%d: %s failed: %s (%s): %s", file, line, call, cublasGetStatusName(s),
                     cublasGetStatusString(s), hint);
}

#ifdef CNN_HAVE_NCCL
cnn_status cnn_cuda_check(ncclResult_t r, const char *call, const char *file, int line) {
    if (r == ncclSuccess) return CNN_OK;
    const char *hint = r == ncclSystemError || r == ncclRemoteError
                           ? "a rank or its network failed: check that every rank runs and that the nodes reach "
                             "each other (NCCL_DEBUG=WARN says more)"
                           : "rerun with NCCL_DEBUG=WARN to see why, and report it if it persists";
    const cnn_nccl_api *nccl = cnn_nccl_api_loaded(); // a result comes from a loaded NCCL
    return cnn_error(CNN_ERR_DEVICE, "%s:%d: %s failed: %s (%s): %s", file, line, call,
                     nccl ? nccl->GetErrorString(r) : "NCCL error", nccl ? nccl->GetLastError(NULL) : "", hint);
}
#endif

// ---- state ------------------------------------------------------------------

static cnn_cuda_state *state(cnn_backend *be) { return cnn_cuda_state_of(be); }

// Reports (once) an error a kernel recorded in the mapped flag. Call after a stream synchronisation.
static cnn_status take_device_error(cnn_backend *be, cnn_cuda_state *st) {
    volatile int *flag = st->err_host;
    const int code = flag[ERRW_CODE];
    const long nonfinite = flag[ERRW_NONFINITE];
    be->loss_calls = flag[ERRW_LOSS_CALLS];
    if (code == DEVERR_NONE && nonfinite > 0 && be->nonfinite_loss_call == 0) {
        be->nonfinite_loss_call = nonfinite;
        return cnn_error(CNN_ERR_DIVERGED, "the training loss became non-finite at loss call %ld", nonfinite);
    }
    if (code == DEVERR_NONE) return CNN_OK;
    *flag = DEVERR_NONE;
    switch (code) {
    case DEVERR_LABEL:
        return cnn_error(CNN_ERR_INVALID_ARG, "softmax_xent: a label is outside [0, C) (found on the GPU; the "
                                              "batch's loss and gradient skip that row): check the dataset's labels");
    case DEVERR_GATHER_RANGE:
        return cnn_error(CNN_ERR_INVALID_ARG, "gather: a batch ran past the end of the data (cursor start + B > n): "
                                              "this is a bug in the caller's batch loop");
    default: return cnn_error(CNN_ERR_INTERNAL, "the GPU reported unknown error code %d", code);
    }
}

static cnn_status not_while_capturing(cnn_cuda_state *st, const char *what) {
    if (!st->capturing) return CNN_OK;
    return cnn_error(CNN_ERR_INVALID_ARG, "%s cannot run while a CUDA graph is being captured (between "
                                          "capture_begin and capture_end): move it out of the captured step",
                     what);
}

static void release_state(cnn_cuda_state *st) {
    if (!st) return;
    // Errors are ignored here: this is cleanup, possibly after a device fault.
    if (st->stream) cudaStreamSynchronize(st->stream);
    if (st->cublas) cublasDestroy(st->cublas);
    if (st->cublas_ws) cudaFree(st->cublas_ws);
    if (st->splitk_ws) cudaFree(st->splitk_ws);
    if (st->bf16_ws) cudaFree(st->bf16_ws);
#ifdef CNN_HAVE_NCCL
    if (st->nccl) cnn_nccl_api_loaded()->CommDestroy(st->nccl); // a communicator exists: NCCL is loaded
#endif
    if (st->loss_partials) cudaFree(st->loss_partials);
    if (st->err_host) cudaFreeHost(st->err_host);
    if (st->stream) cudaStreamDestroy(st->stream);
    free(st);
}

// ---- memory -------------------------------------------------------------------

// Allocates bytes of zeroed device memory (cudaMalloc aligns to 256 bytes).
static cnn_status cuda_alloc(cnn_backend *be, size_t bytes, void **ptr) {
    cnn_cuda_state *st = state(be);
    *ptr = NULL;
    CNN_TRY(not_while_capturing(st, "alloc"));
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 64);
    if (e == cudaErrorMemoryAllocation) {
        size_t free_b = 0, total_b = 0;
        cudaGetLastError();
        cudaMemGetInfo(&free_b, &total_b);
        return cnn_error(CNN_ERR_NOMEM, "out of GPU memory allocating %zu bytes (%zu of %zu MiB free): use a smaller "
                                        "--batch or model, or stop other processes on the GPU",
                         bytes, free_b >> 20, total_b >> 20);
    }
    CUDA_CHECK(e);
    cnn_status s = cnn_cuda_check(cudaMemsetAsync(p, 0, bytes ? bytes : 64, st->stream), "cudaMemsetAsync", __FILE__,
                                  __LINE__);
    if (s != CNN_OK) {
        cudaFree(p);
        return s;
    }
    *ptr = p;
    return CNN_OK;
}

// Frees device memory from alloc (NULL is ignored).
static void cuda_free(cnn_backend *be, void *ptr) {
    (void)be;
    if (ptr) cudaFree(ptr); // synchronises the device first; an error here has nobody to report to
}

// Copies bytes from host_src to device dst and waits (the host buffer may be reused at once).
static cnn_status cuda_upload(cnn_backend *be, const void *host_src, void *dst, size_t bytes) {
    cnn_cuda_state *st = state(be);
    CNN_TRY(not_while_capturing(st, "upload"));
    if (!bytes) return CNN_OK;
    CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, st->stream));
    CUDA_CHECK(cudaStreamSynchronize(st->stream));
    return take_device_error(be, st);
}

// Copies bytes from device src to host_dst after all queued work, and waits.
static cnn_status cuda_download(cnn_backend *be, const void *src, void *host_dst, size_t bytes) {
    cnn_cuda_state *st = state(be);
    CNN_TRY(not_while_capturing(st, "download"));
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, st->stream));
    CUDA_CHECK(cudaStreamSynchronize(st->stream));
    return take_device_error(be, st);
}

// src, dst are (bytes) of device memory: queued copy.
static cnn_status cuda_copy(cnn_backend *be, const void *src, void *dst, size_t bytes) {
    if (!bytes || dst == src) return CNN_OK;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, state(be)->stream));
    return CNN_OK;
}

// x is (n): x[i] = value.
static cnn_status cuda_fill(cnn_backend *be, float *x, size_t n, float value) {
    CUDA_CHECK(launch_fill(x, n, value, state(be)->stream));
    return CNN_OK;
}

// Waits for all queued work, then reports any error a kernel recorded.
static cnn_status cuda_sync(cnn_backend *be) {
    cnn_cuda_state *st = state(be);
    CNN_TRY(not_while_capturing(st, "sync"));
    CUDA_CHECK(cudaStreamSynchronize(st->stream));
    return take_device_error(be, st);
}

// ---- ops ------------------------------------------------------------------------

// b is (N), Y is (B,N): Y += b broadcast over rows, then max(Y, 0) when relu (one fused kernel).
static cnn_status cuda_bias_add(cnn_backend *be, const float *b, float *Y, int B, int N, bool relu) {
    CUDA_CHECK(launch_bias_add(Y, b, B, N, relu, state(be)->stream));
    return CNN_OK;
}

// x, y are (n): y = max(x, 0).
static cnn_status cuda_relu_forward(cnn_backend *be, const float *x, float *y, size_t n) {
    CUDA_CHECK(launch_relu_forward(x, y, n, state(be)->stream));
    return CNN_OK;
}

// y, dy, dx are (n): dx = dy where y > 0, else 0.
static cnn_status cuda_relu_backward(cnn_backend *be, const float *y, const float *dy, float *dx, size_t n) {
    CUDA_CHECK(launch_relu_backward(y, dy, dx, n, state(be)->stream));
    return CNN_OK;
}

// logits is (B,C), labels is (B), dlogits is (B,C) or NULL, stats is (2): softmax, loss, gradient and
// hits in one kernel, then one thread adds the per-block sums to stats in order.
static cnn_status cuda_softmax_xent(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                                    float *stats, int B, int C, float grad_scale) {
    cnn_cuda_state *st = state(be);
    if (B < 0 || C < 1) return cnn_error(CNN_ERR_INVALID_ARG, "softmax_xent: bad shape (%d, %d)", B, C);
    CUDA_CHECK(launch_softmax_xent(logits, labels, B, C, grad_scale, dlogits, stats, st->loss_partials, st->err_dev,
                                   st->stream));
    return CNN_OK;
}

// pred, target, dpred are (B,C), stats is (2): mean squared error over classes.
static cnn_status cuda_mse(cnn_backend *be, const float *pred, const float *target, float *dpred, float *stats,
                           int B, int C, float grad_scale) {
    cnn_cuda_state *st = state(be);
    if (B < 0 || C < 1) return cnn_error(CNN_ERR_INVALID_ARG, "mse: bad shape (%d, %d)", B, C);
    CUDA_CHECK(launch_mse(pred, target, B, C, grad_scale, dpred, stats, st->loss_partials, st->stream));
    return CNN_OK;
}

// X is (B,N), y is (N): y = beta y + column sums of X.
static cnn_status cuda_colsum(cnn_backend *be, const float *X, float *y, int B, int N, float beta) {
    CUDA_CHECK(launch_colsum(X, B, N, beta, y, state(be)->stream));
    return CNN_OK;
}

// g, w, v are (n): SGD with momentum and weight decay over the whole arena in one kernel.
static cnn_status cuda_sgd(cnn_backend *be, const float *g, float *w, float *v, size_t n, float lr, float momentum,
                           float wd) {
    CUDA_CHECK(launch_sgd(w, g, v, n, lr, momentum, wd, state(be)->stream));
    return CNN_OK;
}

// images is (n,D) uint8, labels is (n) uint8, cursor is one device cnn_batch_cursor, X is (B,D), y is (B):
// one kernel gathers and normalises the batch, a second (queued after it) advances the cursor.
static cnn_status cuda_gather(cnn_backend *be, const uint8_t *images, const uint8_t *labels,
                              cnn_batch_cursor *cursor, float *X, int32_t *y, int B, int D, float scale, float shift,
                              bool advance) {
    cnn_cuda_state *st = state(be);
    if (B < 0 || D < 1) return cnn_error(CNN_ERR_INVALID_ARG, "gather: bad shape (B %d, D %d)", B, D);
    CUDA_CHECK(launch_gather(images, labels, D, cursor, B, scale, shift, X, y, advance, st->err_dev, st->stream));
    return CNN_OK;
}

// ---- convolution and pooling (optional entries) ------------------------------------

// X is (B, C*H*W) NCHW, col is (B*Hout*Wout, C*k*k): the windows of g as rows, 0 over padding.
static cnn_status cuda_im2col(cnn_backend *be, const float *X, float *col, int B, const cnn_window *g) {
    CUDA_CHECK(launch_im2col(X, B, *g, col, state(be)->stream));
    return CNN_OK;
}

// col is (B*Hout*Wout, C*k*k), dX is (B, C*H*W): the adjoint of im2col (dX overwritten).
static cnn_status cuda_col2im(cnn_backend *be, const float *col, float *dX, int B, const cnn_window *g) {
    CUDA_CHECK(launch_col2im(col, B, *g, dX, state(be)->stream));
    return CNN_OK;
}

// src is (n, rows, cols), dst is (n, cols, rows): dst[i][c][r] = src[i][r][c].
static cnn_status cuda_transpose(cnn_backend *be, const float *src, float *dst, int n, int rows, int cols) {
    if (n > 65535)
        return cnn_error(CNN_ERR_INVALID_ARG, "transpose: %d matrices at once, the CUDA backend takes at most 65535 "
                                              "(a grid dimension): use a smaller --batch", n);
    CUDA_CHECK(launch_transpose(src, n, rows, cols, dst, state(be)->stream));
    return CNN_OK;
}

// X is (B, C*H*W), Y and argmax are (B, C*Hout*Wout): window maxima and their positions y*W + x.
static cnn_status cuda_maxpool_forward(cnn_backend *be, const float *X, float *Y, int32_t *argmax, int B,
                                       const cnn_window *g) {
    if (g->pad != 0) return cnn_error(CNN_ERR_INVALID_ARG, "maxpool: padding is not supported (got pad %d)", g->pad);
    CUDA_CHECK(launch_maxpool_forward(X, B, *g, Y, argmax, state(be)->stream));
    return CNN_OK;
}

// dY and argmax are (B, C*Hout*Wout), dX is (B, C*H*W): each window's gradient to its argmax.
static cnn_status cuda_maxpool_backward(cnn_backend *be, const float *dY, const int32_t *argmax, float *dX, int B,
                                        const cnn_window *g) {
    if (g->pad != 0) return cnn_error(CNN_ERR_INVALID_ARG, "maxpool: padding is not supported (got pad %d)", g->pad);
    CUDA_CHECK(launch_maxpool_backward(dY, argmax, B, *g, dX, state(be)->stream));
    return CNN_OK;
}

// ---- device timers (optional entries) -------------------------------------------------

struct cuda_timer {
    cudaEvent_t start, stop;
};

// Records a start event on the backend's stream.
static cnn_status cuda_timer_start(cnn_backend *be, void **timer) {
    *timer = NULL;
    cuda_timer *t = (cuda_timer *)calloc(1, sizeof *t);
    if (!t) return cnn_error(CNN_ERR_NOMEM, "out of host memory starting a timer");
    cnn_status s = cnn_cuda_check(cudaEventCreate(&t->start), "cudaEventCreate", __FILE__, __LINE__);
    if (s == CNN_OK) s = cnn_cuda_check(cudaEventCreate(&t->stop), "cudaEventCreate", __FILE__, __LINE__);
    if (s == CNN_OK)
        s = cnn_cuda_check(cudaEventRecord(t->start, state(be)->stream), "cudaEventRecord", __FILE__, __LINE__);
    if (s != CNN_OK) {
        if (t->start) cudaEventDestroy(t->start);
        if (t->stop) cudaEventDestroy(t->stop);
        free(t);
        return s;
    }
    *timer = t;
    return CNN_OK;
}

// Records the stop event, waits for it, and gives the device time since the start event.
static cnn_status cuda_timer_stop(cnn_backend *be, void *timer, double *seconds) {
    cuda_timer *t = (cuda_timer *)timer;
    float ms = 0.0f;
    cnn_status s = cnn_cuda_check(cudaEventRecord(t->stop, state(be)->stream), "cudaEventRecord", __FILE__, __LINE__);
    if (s == CNN_OK) s = cnn_cuda_check(cudaEventSynchronize(t->stop), "cudaEventSynchronize", __FILE__, __LINE__);
    if (s == CNN_OK)
        s = cnn_cuda_check(cudaEventElapsedTime(&ms, t->start, t->stop), "cudaEventElapsedTime", __FILE__, __LINE__);
    cudaEventDestroy(t->start);
    cudaEventDestroy(t->stop);
    free(t);
    *seconds = ms * 1e-3;
    if (s == CNN_OK) s = take_device_error(be, state(be));
    return s;
}

// ---- the fused MLP step and evaluation pass (optional entries) ---------------------

// One of the fused kernels (launch: launch_mlp_step_fused or launch_mlp_eval_fused, ok: its argument check),
// queued as one cooperative launch with the backend's error flag; a bad label or a batch past the data is
// reported at the next sync, as for the ops.
static cnn_status cuda_mlp_fused(cnn_backend *be, const cnn_mlp_fused_args *a, const char *what,
                                 bool (*ok)(const cnn_mlp_fused_args *),
                                 cudaError_t (*launch)(const cnn_mlp_fused_args *, cudaStream_t)) {
    cnn_cuda_state *st = state(be);
    cnn_mlp_fused_args args = *a;
    args.err = st->err_dev;
    if (!ok(&args))
        return cnn_error(CNN_ERR_INVALID_ARG, "fused MLP %s: the model or its buffers do not fit the fused kernel "
                                              "(1 or 2 hidden layers, 2 to %d classes): use --step=graph",
                         what, CNN_FUSED_MAX_CLASSES);
    cudaError_t e = launch(&args, st->stream);
    if (e == cudaErrorCooperativeLaunchTooLarge || e == cudaErrorNotSupported) {
        cudaGetLastError(); // clear it
        return cnn_error(CNN_ERR_UNSUPPORTED, "this GPU cannot run the fused %s's cooperative launch (%s): use "
                                              "--step=graph",
                         what, cudaGetErrorString(e));
    }
    CUDA_CHECK(e);
    return CNN_OK;
}

// a->steps whole SGD steps of the MLP a describes (core/mlp_step.h).
static cnn_status cuda_mlp_steps(cnn_backend *be, const cnn_mlp_fused_args *a) {
    return cuda_mlp_fused(be, a, "step", mlp_fused_args_ok, launch_mlp_step_fused);
}

// Whether this GPU keeps one block of each fused kernel per SM resident for a cooperative launch.
static cnn_status cuda_mlp_fused_ready(cnn_backend *be) {
    (void)state(be); // this backend's device current
    int blocks = 0;
    cudaError_t e = cnn_cooperative_blocks(k_mlp_step_fused, FUSED_THREADS, FUSED_SMEM_BYTES, &blocks);
    if (e == cudaSuccess) e = cnn_cooperative_blocks(k_mlp_eval_fused, FUSED_THREADS, FUSED_SMEM_BYTES, &blocks);
    if (e == cudaErrorCooperativeLaunchTooLarge || e == cudaErrorNotSupported) {
        cudaGetLastError(); // clear it
        return cnn_error(CNN_ERR_UNSUPPORTED, "this GPU cannot run the fused step's cooperative launch (%s)",
                         cudaGetErrorString(e));
    }
    CUDA_CHECK(e);
    return CNN_OK;
}

// The loss and hits of a->eval_rows rows of the MLP a describes, chunks of a->B rows (fused/mlp_eval.cuh).
static cnn_status cuda_mlp_eval(cnn_backend *be, const cnn_mlp_fused_args *a) {
    return cuda_mlp_fused(be, a, "evaluation", mlp_eval_args_ok, launch_mlp_eval_fused);
}

// ---- data-parallel training (optional entries) -------------------------------------

// Joins the ranks of d with one NCCL communicator on this backend's GPU: rank 0 makes the id, d broadcasts it.
static cnn_status cuda_dist_attach(cnn_backend *be, cnn_dist *d) {
#ifdef CNN_HAVE_NCCL
    cnn_cuda_state *st = state(be);
    if (st->nccl) return CNN_OK; // attached already (--repeat: one communicator for all the runs)
    char why[384];
    const cnn_nccl_api *nccl = cnn_nccl_api_load(why, sizeof why); // every rank needs it
    CNN_TRY(cnn_dist_agree(d, nccl ? CNN_OK : cnn_error(CNN_ERR_UNSUPPORTED, "%s", why)));
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    cnn_status s = d->rank == 0 ? cnn_cuda_check(nccl->GetUniqueId(&id), "ncclGetUniqueId", __FILE__, __LINE__)
                                : CNN_OK;
    CNN_TRY(cnn_dist_agree(d, s));
    CNN_TRY(cnn_dist_broadcast(d, &id, sizeof id, 0));
    s = cnn_cuda_check(nccl->CommInitRank(&st->nccl, d->size, id, d->rank), "ncclCommInitRank", __FILE__, __LINE__);
    return cnn_dist_agree(d, s);
#else
    (void)be;
    return cnn_error(CNN_ERR_UNSUPPORTED, "this cnn-train's CUDA backend was built without NCCL, so it cannot train "
                     "on %d ranks: install NCCL (libnccl-dev) and rebuild, or use --backend=cpu", d->size);
#endif
}

// x is (n) device floats, the gradient arena: summed over the ranks by ncclAllReduce, queued on the stream (a
// graph captures it). Its order is NCCL's, which is fixed for a fixed world, topology, NCCL version and
// algorithm (NCCL_ALGO=Ring pins the algorithm): docs/distributed.md.
static cnn_status cuda_allreduce(cnn_backend *be, float *x, size_t n) {
#ifdef CNN_HAVE_NCCL
    cnn_cuda_state *st = state(be);
    if (!st->nccl) return cnn_error(CNN_ERR_INVALID_ARG, "allreduce before dist_attach: a bug in the caller");
    CUDA_CHECK(cnn_nccl_api_loaded()->AllReduce(x, x, n, ncclFloat, ncclSum, st->nccl, st->stream));
    return CNN_OK;
#else
    (void)be, (void)x, (void)n;
    return cnn_error(CNN_ERR_UNSUPPORTED, "this cnn-train's CUDA backend was built without NCCL: rebuild with NCCL");
#endif
}

// ---- CUDA graphs ------------------------------------------------------------------

struct cuda_graph {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
};

// Starts recording the work queued on the backend's stream (it is recorded, not run).
static cnn_status cuda_capture_begin(cnn_backend *be) {
    cnn_cuda_state *st = state(be);
    if (st->capturing) return cnn_error(CNN_ERR_INVALID_ARG, "capture_begin: a capture is already in progress");
    CUDA_CHECK(cudaStreamBeginCapture(st->stream, cudaStreamCaptureModeThreadLocal));
    st->capturing = true;
    return CNN_OK;
}

// Ends the recording (always, even after a failed op) and instantiates it as *graph.
static cnn_status cuda_capture_end(cnn_backend *be, void **graph) {
    cnn_cuda_state *st = state(be);
    *graph = NULL;
    if (!st->capturing) return cnn_error(CNN_ERR_INVALID_ARG, "capture_end without capture_begin");
    st->capturing = false;
    cudaGraph_t g = NULL;
    CUDA_CHECK(cudaStreamEndCapture(st->stream, &g));
    cudaGraphExec_t exec = NULL;
    cnn_status s = cnn_cuda_check(cudaGraphInstantiate(&exec, g, 0), "cudaGraphInstantiate", __FILE__, __LINE__);
    if (s != CNN_OK) {
        cudaGraphDestroy(g);
        return s;
    }
    cuda_graph *cg = (cuda_graph *)malloc(sizeof *cg);
    if (!cg) {
        cudaGraphExecDestroy(exec);
        cudaGraphDestroy(g);
        return cnn_error(CNN_ERR_NOMEM, "out of host memory recording a CUDA graph");
    }
    cg->graph = g;
    cg->exec = exec;
    *graph = cg;
    return CNN_OK;
}

// Queues one replay of a captured graph on the backend's stream.
static cnn_status cuda_graph_launch(cnn_backend *be, void *graph) {
    if (!graph) return cnn_error(CNN_ERR_INVALID_ARG, "graph_launch: NULL graph");
    CUDA_CHECK(cudaGraphLaunch(((cuda_graph *)graph)->exec, state(be)->stream));
    return CNN_OK;
}

// Frees a graph from capture_end (after any replay still running).
static void cuda_graph_destroy(cnn_backend *be, void *graph) {
    if (!graph) return;
    cuda_graph *cg = (cuda_graph *)graph;
    cudaStreamSynchronize(state(be)->stream); // a replay may still be running
    cudaGraphExecDestroy(cg->exec);
    cudaGraphDestroy(cg->graph);
    free(cg);
}

// ---- creation -----------------------------------------------------------------------

static void cuda_destroy(cnn_backend *be) {
    if (!be) return;
    release_state(state(be));
    free(be);
}

#define INIT_CHECK(expr)                                                                                               \
    do {                                                                                                               \
        cnn_status init_s_ = cnn_cuda_check((expr), #expr, __FILE__, __LINE__);                                        \
        if (init_s_ != CNN_OK) {                                                                                       \
            release_state(st);                                                                                         \
            return init_s_;                                                                                            \
        }                                                                                                              \
    } while (0)

// Creates the stream, cuBLAS handle and scratch buffers on device `device`.
static cnn_status init_state(int device, cnn_cuda_state **out) {
    *out = NULL;
    cnn_cuda_state *st = (cnn_cuda_state *)calloc(1, sizeof *st);
    if (!st) return cnn_error(CNN_ERR_NOMEM, "out of host memory creating the CUDA backend");
    st->device = device;
    INIT_CHECK(cudaSetDevice(device));
    INIT_CHECK(cudaGetDeviceProperties(&st->prop, st->device));
    INIT_CHECK(cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking));
    INIT_CHECK(cublasCreate(&st->cublas));
    INIT_CHECK(cublasSetStream(st->cublas, st->stream));
    st->cublas_ws_bytes = CUBLAS_WS_BYTES;
    INIT_CHECK(cudaMalloc(&st->cublas_ws, st->cublas_ws_bytes));
    INIT_CHECK(cublasSetWorkspace(st->cublas, st->cublas_ws, st->cublas_ws_bytes));
    INIT_CHECK(cublasSetMathMode(st->cublas, CUBLAS_DEFAULT_MATH));
    st->splitk_floats = SPLITK_FLOATS;
    INIT_CHECK(cudaMalloc(&st->splitk_ws, st->splitk_floats * sizeof(float)));
    st->bf16_elems = BF16_WS_ELEMS;
    INIT_CHECK(cudaMalloc((void **)&st->bf16_ws, st->bf16_elems * sizeof(uint16_t)));
    INIT_CHECK(cudaMalloc(&st->loss_partials, (size_t)LOSS_MAX_BLOCKS * 2 * sizeof(double)));
    INIT_CHECK(cudaHostAlloc(&st->err_host, ERRW_WORDS * sizeof(int), cudaHostAllocMapped));
    memset(st->err_host, 0, ERRW_WORDS * sizeof(int));
    INIT_CHECK(cudaHostGetDevicePointer((void **)&st->err_dev, st->err_host, 0));
    *out = st;
    return CNN_OK;
}

extern "C" int cnn_cuda_device_count(char *why, size_t why_len) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError(); // clear it
        count = 0;
    }
    if (count == 0 && why && why_len)
        snprintf(why, why_len, "no usable GPU (cudaGetDeviceCount: %s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return count;
}

static const cnn_backend_ops cuda_ops = {
    .destroy = cuda_destroy,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .copy = cuda_copy,
    .fill = cuda_fill,
    .sync = cuda_sync,
    .bias_add = cuda_bias_add,
    .relu_forward = cuda_relu_forward,
    .relu_backward = cuda_relu_backward,
    .softmax_xent = cuda_softmax_xent,
    .mse = cuda_mse,
    .colsum = cuda_colsum,
    .sgd = cuda_sgd,
    .gather = cuda_gather,
    .capture_begin = cuda_capture_begin,
    .capture_end = cuda_capture_end,
    .graph_launch = cuda_graph_launch,
    .graph_destroy = cuda_graph_destroy,
    .im2col = cuda_im2col,
    .col2im = cuda_col2im,
    .transpose = cuda_transpose,
    .maxpool_forward = cuda_maxpool_forward,
    .maxpool_backward = cuda_maxpool_backward,
    .mlp_steps = cuda_mlp_steps,
    .mlp_eval = cuda_mlp_eval,
    .mlp_fused_ready = cuda_mlp_fused_ready,
    .timer_start = cuda_timer_start,
    .timer_stop = cuda_timer_stop,
    .allreduce = cuda_allreduce,
    .dist_attach = cuda_dist_attach,
};

extern "C" cnn_status cnn_cuda_backend_describe(cnn_backend *out) {
    memset(out, 0, sizeof *out);
    out->ops = &cuda_ops;
    out->name = "cuda";
    out->device = CNN_DEVICE_CUDA;
    out->gemm_variants = cnn_cuda_gemm_variants;
    out->n_gemm_variants = cnn_cuda_gemm_variant_count;
    out->default_gemm = cnn_cuda_gemm_default;
    return CNN_OK;
}

extern "C" cnn_status cnn_cuda_backend_create(int device_index, cnn_backend **out) {
    *out = NULL;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (e != cudaSuccess) cudaGetLastError(); // clear it
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "no CUDA-capable GPU is visible (cudaGetDeviceCount: %s): run on a machine with an NVIDIA "
                         "GPU and driver, or use --backend=cpu",
                         e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    }
    if (device_index < 0 || device_index >= count)
        return cnn_error(CNN_ERR_INVALID_ARG, "GPU %d does not exist: this machine has %d (0 to %d); choose one of "
                                              "them with --gpu",
                         device_index, count, count - 1);
    cnn_cuda_state *st = NULL;
    CNN_TRY(init_state(device_index, &st));
    cnn_backend *be = (cnn_backend *)calloc(1, sizeof *be);
    if (!be) {
        release_state(st);
        return cnn_error(CNN_ERR_NOMEM, "out of host memory creating the CUDA backend");
    }
    cnn_cuda_backend_describe(be);
    be->device_index = device_index;
    be->ctx = st;
    snprintf(be->device_desc, sizeof be->device_desc, "%.80s (GPU %d, sm_%d%d, %d SMs)", st->prop.name,
             device_index, st->prop.major, st->prop.minor, st->prop.multiProcessorCount);
    *out = be;
    return CNN_OK;
}
