// The backend interface: a table of function pointers that the CPU and CUDA
// backends each fill. Layers, models and the training loop call only this
// table, with pointers into the backend's own memory, so they never see
// the device. An entry a backend lacks is NULL: cnn_backend_supports()
// tells, and callers fail with a clear message rather than silently.
//
// Conventions: row-major; a matrix is (rows, cols) with a leading
// dimension; all pointers are device pointers of this backend unless named
// host_*. Functions queue work and may return before it finishes (CUDA):
// only sync() and download() wait.
#ifndef CNN_BACKEND_H
#define CNN_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perm.h"
#include "precision.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnn_backend cnn_backend;

// C (M,N) = alpha * op(A) (M,K) * op(B) (K,N) + beta * C, all row-major, on
// backend be (its stream, handles, scratch and thread count). op(A) = A
// stored (M,K) with lda >= K, or, with transa, A stored (K,M) with lda >= M;
// likewise B. When beta == 0, C is only written, never read (so NaN in C
// does not propagate). M, N, K >= 1. The BLAS argument order (darknet's
// gemm) is kept so that every implementation swaps for any other.
typedef cnn_status (*cnn_sgemm_fn)(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha,
                                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

// One GEMM implementation a backend offers (--gemm=NAME).
typedef struct {
    const char *name;    // "naive", "openblas", ...
    cnn_sgemm_fn fn;
    const char *summary; // one line for --help and gemm-bench
    // What it does with its inputs (last, so that an initialiser without it
    // is FP32). The first variant of a precision other than FP32 in a
    // backend's table is that precision's default (--precision).
    cnn_precision precision;
} cnn_gemm_variant;

typedef enum {
    CNN_OP_GEMM,
    CNN_OP_BIAS_ADD,
    CNN_OP_RELU,
    CNN_OP_SOFTMAX_XENT,
    CNN_OP_MSE,
    CNN_OP_COLSUM,
    CNN_OP_SGD,
    CNN_OP_GATHER,
    CNN_OP_IM2COL,    // im2col and col2im (conv2d)
    CNN_OP_TRANSPOSE, // batched transpose (conv2d: NHWC <-> NCHW)
    CNN_OP_MAXPOOL,   // maxpool forward and backward
    CNN_OP_MLP_STEP,  // whole fused SGD steps of an MLP (mlp_steps)
    CNN_OP_MLP_EVAL,  // a fused evaluation pass of an MLP (mlp_eval)
    CNN_OP_COUNT
} cnn_op;

const char *cnn_op_name(cnn_op op);

typedef enum { CNN_DEVICE_CPU = 0, CNN_DEVICE_CUDA = 1 } cnn_device;

// A k x k window sliding over images of C channels, H rows and W columns,
// stored NCHW: a batch of B images is (B, C*H*W), element (b,c,y,x) at
// ((b*C + c)*H + y)*W + x. The window moves by stride over the image padded
// with pad zeros on every side, and stops at Hout x Wout positions:
// Hout = (H + 2 pad - k) / stride + 1, likewise Wout. Window (oy,ox) covers
// input rows oy*stride - pad + ky for ky in [0, k), likewise columns.
// Conv2d and maxpool share it; cnn_window_init fills and checks one.
typedef struct {
    int C, H, W;
    int k, stride, pad;
    int Hout, Wout;
} cnn_window;

// Fills *g and checks it: C, H, W, k, stride >= 1, 0 <= pad < k, the window fits the padded image.
cnn_status cnn_window_init(cnn_window *g, int C, int H, int W, int k, int stride, int pad);

// Where the next mini-batch starts: kept in the backend's memory (see gather).
typedef struct {
    cnn_perm perm;   // the epoch's shuffle of [0, n) (key 0: in order)
    uint32_t start;  // index into the permuted order of the batch's first row
    uint32_t stride; // how far start moves on after a batch (0: by the batch's rows). A rank of a data-parallel
                     // run starts at its shard of the global batch and moves on by the global batch.
} cnn_batch_cursor;

// The operations of one backend: each backend fills one `static const`
// table (designated initialisers; NULL for an optional entry it lacks) and
// every entry takes the backend instance. Argument order, everywhere in this
// table and in layers/layers.h: the backend, input tensors, output tensors
// (an in-out tensor counts as an output), sizes, then scalar parameters and
// flags. Memory copies are no exception: source, then destination.
struct cnn_mlp_fused_args; // core/mlp_step.h
struct cnn_dist;           // core/dist.h

typedef struct cnn_backend_ops {
    void (*destroy)(cnn_backend *be);

    // Memory. alloc returns zeroed memory aligned to at least 64 bytes.
    cnn_status (*alloc)(cnn_backend *be, size_t bytes, void **ptr);
    void (*free)(cnn_backend *be, void *ptr);
    cnn_status (*upload)(cnn_backend *be, const void *host_src, void *dst, size_t bytes);
    cnn_status (*download)(cnn_backend *be, const void *src, void *host_dst, size_t bytes);
    cnn_status (*copy)(cnn_backend *be, const void *src, void *dst, size_t bytes);
    // x is (n): x[i] = value.
    cnn_status (*fill)(cnn_backend *be, float *x, size_t n, float value);
    cnn_status (*sync)(cnn_backend *be); // waits for all queued work

    // b is (N), Y is (B,N): Y += b broadcast over rows, then max(Y,0) when relu.
    cnn_status (*bias_add)(cnn_backend *be, const float *b, float *Y, int B, int N, bool relu);
    // x, y are (n): y = max(x, 0). In place (x == y) is allowed.
    cnn_status (*relu_forward)(cnn_backend *be, const float *x, float *y, size_t n);
    // y, dy, dx are (n): dx = dy where y > 0, else 0. In place (dx == dy) allowed.
    cnn_status (*relu_backward)(cnn_backend *be, const float *y, const float *dy, float *dx, size_t n);
    // logits is (B,C), labels is (B), dlogits is (B,C) or NULL, stats is (2):
    // dlogits = grad_scale * (softmax(logits) - onehot(labels));
    // stats[0] += sum over rows of -log softmax[label]; stats[1] += rows whose argmax is the label.
    cnn_status (*softmax_xent)(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                               float *stats, int B, int C, float grad_scale);
    // pred, target, dpred are (B,C) (dpred may be NULL), stats is (2):
    // per row loss = sum_c (pred - target)^2 / C; dpred = grad_scale * 2 (pred - target) / C;
    // stats[0] += sum of row losses; stats[1] += rows whose argmax(pred) == argmax(target).
    cnn_status (*mse)(cnn_backend *be, const float *pred, const float *target, float *dpred, float *stats, int B,
                      int C, float grad_scale);
    // X is (B,N), y is (N): y = beta * y + sum over rows of X (the bias gradient when beta = 0).
    cnn_status (*colsum)(cnn_backend *be, const float *X, float *y, int B, int N, float beta);
    // g, w, v are (n): g' = g + wd * w; v = momentum * v + g'; w -= lr * v (PyTorch's SGD).
    cnn_status (*sgd)(cnn_backend *be, const float *g, float *w, float *v, size_t n, float lr, float momentum,
                      float wd);
    // images is (n_total, D) uint8, labels is (n_total) uint8, cursor is one
    // cnn_batch_cursor in this backend's memory, X is (B,D), y is (B):
    // row i of the batch is example j = perm(cursor->start + i);
    // X[i] = images[j] * scale + shift, y[i] = labels[j]. Then, when advance,
    // cursor->start += cursor->stride (0: += B). Reading the position from device memory lets a
    // captured training step (CUDA graph) be replayed unchanged.
    cnn_status (*gather)(cnn_backend *be, const uint8_t *images, const uint8_t *labels, cnn_batch_cursor *cursor,
                         float *X, int32_t *y, int B, int D, float scale, float shift, bool advance);

    // Optional (NULL on the CPU): record the work queued between capture_begin
    // and capture_end (recorded, not run) as a graph that graph_launch replays.
    cnn_status (*capture_begin)(cnn_backend *be);
    cnn_status (*capture_end)(cnn_backend *be, void **graph);
    cnn_status (*graph_launch)(cnn_backend *be, void *graph);
    void (*graph_destroy)(cnn_backend *be, void *graph);

    // Optional: convolution and pooling (layers/conv2d.c, layers/maxpool.c).
    // With g's window and P = Hout*Wout positions per image, K = C*k*k:
    // X is (B, C*H*W) NCHW, col is (B*P, K): row (b*Hout + oy)*Wout + ox holds
    // the window at (oy,ox) of image b, column (c*k + ky)*k + kx its element
    // (c,ky,kx), 0 where it covers padding. Then conv2d is col·Wᵀ, one GEMM.
    cnn_status (*im2col)(cnn_backend *be, const float *X, float *col, int B, const cnn_window *g);
    // col is (B*P, K), dX is (B, C*H*W): the adjoint of im2col, dX[pixel] = the
    // sum of the col entries im2col copied from that pixel (dX is overwritten).
    cnn_status (*col2im)(cnn_backend *be, const float *col, float *dX, int B, const cnn_window *g);
    // src is (n, rows, cols), dst is (n, cols, rows): dst[i][c][r] = src[i][r][c]
    // (NHWC <-> NCHW with rows = H*W, cols = C, or back). Not in place.
    cnn_status (*transpose)(cnn_backend *be, const float *src, float *dst, int n, int rows, int cols);
    // X is (B, C*H*W), Y and argmax are (B, C*Hout*Wout) (pad must be 0):
    // Y = the maximum of each window of each channel, argmax = its position
    // y*W + x in the channel's plane (the first one in row-major order on ties).
    cnn_status (*maxpool_forward)(cnn_backend *be, const float *X, float *Y, int32_t *argmax, int B,
                                  const cnn_window *g);
    // dY and argmax are (B, C*Hout*Wout), dX is (B, C*H*W): dX = 0, then every
    // window's dY is added at its argmax (overlapping windows add up).
    cnn_status (*maxpool_backward)(cnn_backend *be, const float *dY, const int32_t *argmax, float *dX, int B,
                                   const cnn_window *g);

    // Optional (NULL on the CPU): a->steps whole SGD steps of the MLP that a
    // describes (core/mlp_step.h), queued at once: gather, forward, softmax
    // cross-entropy, backward and SGD fused (on CUDA one persistent kernel
    // with grid-wide barriers). The result equals a->steps op-by-op training
    // steps within float rounding (docs/cuda.md says where the sums' order differs).
    cnn_status (*mlp_steps)(cnn_backend *be, const struct cnn_mlp_fused_args *a);
    // Optional (NULL on the CPU): the loss and hits of a->eval_rows rows of
    // the MLP a describes, queued at once: chunks of a->B rows, each gathered
    // through a->cursor (start += its rows, as gather with advance) and run
    // forward; then a->stats[0] += the summed loss, a->stats[1] += the rows
    // whose argmax is the label. Equals, within float rounding, the chunks'
    // gather, forward and softmax_xent (no gradient) op by op.
    cnn_status (*mlp_eval)(cnn_backend *be, const struct cnn_mlp_fused_args *a);
    // Optional: whether this device runs the fused kernels' cooperative launch (every block resident at once):
    // CNN_OK, or CNN_ERR_UNSUPPORTED with a message saying why (a GPU or driver without cooperative launches,
    // a kernel too large for one block per SM). A backend with mlp_steps and without this entry runs them.
    cnn_status (*mlp_fused_ready)(cnn_backend *be);

    // Optional (NULL on the CPU, whose work is done when a call returns):
    // time queued work on the device (CUDA: a pair of events). timer_start
    // marks the queue and gives a timer; timer_stop marks it again, waits
    // for the mark, sets *seconds to the device time between the marks and
    // frees the timer. Benchmarks use these where present, else sync and
    // the host clock (cnn_backend_timer_*).
    cnn_status (*timer_start)(cnn_backend *be, void **timer);
    cnn_status (*timer_stop)(cnn_backend *be, void *timer, double *seconds);

    // Data-parallel training (core/dist.h, docs/distributed.md). Optional: NULL where the backend cannot
    // train on several ranks. x is (n), the gradient arena in this backend's memory: x = its sum over the
    // ranks of be->dist, in place, the same bits on every rank run after run. Queued like the other ops
    // (CUDA: ncclAllReduce on the backend's stream, so that a graph captures it; the CPU: core/dist.h's
    // fixed-order sum over MPI, done when it returns).
    cnn_status (*allreduce)(cnn_backend *be, float *x, size_t n);
    // Optional: prepares be for the world d before training (CUDA: one NCCL communicator over d's ranks,
    // its id broadcast through d). NULL: nothing to prepare. Called by cnn_backend_attach_dist.
    cnn_status (*dist_attach)(cnn_backend *be, struct cnn_dist *d);
} cnn_backend_ops;

// One backend instance: its operations table and its own state. Two
// instances (two CUDA devices, two CPU backends with different thread
// counts) live side by side: nothing is process-wide.
struct cnn_backend {
    const cnn_backend_ops *ops;
    const char *name;  // "cpu" or "cuda"
    cnn_device device;
    int device_index;  // the CUDA device ordinal (0 on the CPU)
    const cnn_gemm_variant *gemm; // the selected GEMM (set by cnn_backend_create)
    const cnn_gemm_variant *gemm_variants; // all of this backend's GEMMs
    int n_gemm_variants;
    const char *default_gemm;
    void *ctx;         // the backend's private state (stream, handles, scratch, threads)
    char device_desc[128]; // e.g. "2 OpenMP threads" or "NVIDIA H100 80GB HBM3 (sm_90)"
    // Divergence, flagged on the device by softmax_xent and read at sync: training loss calls
    // (those with dlogits) so far, and the 1-based index of the first whose loss was not finite
    // (0: none). Current after each sync; sync then returns CNN_ERR_DIVERGED once.
    long loss_calls, nonfinite_loss_call;
    struct cnn_dist *dist; // the world this backend trains in (cnn_backend_attach_dist); NULL: one process
};

// Creates a backend by name ("cpu" or "cuda") with the named GEMM (NULL:
// the backend's default), for the CPU the number of threads (0: all cores),
// for CUDA the device ordinal. Fails with a clear message for an unknown
// name, a CUDA backend in a build without CUDA, or a machine without that GPU.
cnn_status cnn_backend_create(const char *name, const char *gemm, int threads, int device_index, cnn_backend **out);
void cnn_backend_destroy(cnn_backend *be);
// Makes be train as one rank of d (NULL or a world of one: a single process): checks that be has an
// allreduce entry when d has several ranks (else a message saying which backend lacks it) and calls its
// dist_attach. Collective: every rank of d calls it.
cnn_status cnn_backend_attach_dist(cnn_backend *be, struct cnn_dist *d);

bool cnn_backend_supports(const cnn_backend *be, cnn_op op);
// Selects a GEMM variant by name; the error lists the valid names.
cnn_status cnn_backend_select_gemm(cnn_backend *be, const char *name);
const cnn_gemm_variant *cnn_backend_find_gemm(const cnn_backend *be, const char *name);
// The GEMM a backend uses for precision p when none is named: default_gemm
// for FP32, else the first variant of that precision in its table (NULL
// when it has none).
const cnn_gemm_variant *cnn_backend_default_gemm(const cnn_backend *be, cnn_precision p);
// Selects the GEMM for --precision=p and --gemm=name (NULL: p's default).
// A named GEMM of another precision, or a backend without p, is an
// CNN_ERR_INVALID_ARG whose message lists the GEMMs of precision p.
cnn_status cnn_backend_select_precision(cnn_backend *be, const char *name, cnn_precision p);

// Times queued work on be: the device's timer where it has one, else sync
// and the host clock (monotonic). *timer is the backend's or a small host
// record; stop frees it. For benchmarks (tools/), never in the training loop.
cnn_status cnn_backend_timer_start(cnn_backend *be, void **timer);
cnn_status cnn_backend_timer_stop(cnn_backend *be, void *timer, double *seconds);

// The selected GEMM, with its arguments validated first.
cnn_status cnn_gemm(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                    int lda, const float *B, int ldb, float beta, float *C, int ldc);
// Checks a GEMM call's shapes and leading dimensions (shared by every variant's caller).
cnn_status cnn_gemm_check_args(bool transa, bool transb, int M, int N, int K, const float *A, int lda,
                               const float *B, int ldb, const float *C, int ldc);

// Backend constructors (backends/cpu, backends/cuda).
#define CNN_CPU_MAX_THREADS 1024
// threads in [0, CNN_CPU_MAX_THREADS]; 0: OMP_NUM_THREADS, else every core.
// The count is the backend's own: nothing process-wide is set.
cnn_status cnn_cpu_backend_create(int threads, cnn_backend **out);
// The OpenMP threads a CPU backend's ops and GEMMs use (0 for another backend).
int cnn_cpu_backend_threads(const cnn_backend *be);
// Defined in every build: without CUDA it fails with a message saying so.
cnn_status cnn_cuda_backend_create(int device_index, cnn_backend **out);
// A backend's description without a device or context (no ctx: nothing may run on it): its operations
// table and GEMM variants, the default GEMM selected. For checking the options (GEMM, precision, step)
// before anything is opened or measured. The CUDA one fails, as create does, in a build without CUDA.
void cnn_cpu_backend_describe(cnn_backend *out);
cnn_status cnn_cuda_backend_describe(cnn_backend *out);
cnn_status cnn_backend_describe(const char *name, cnn_backend *out);

#ifdef __cplusplus
}
#endif
#endif
