// Timing wrappers for the backend table: each wrapper syncs the device, calls
// the backend's own function, syncs again and logs the elapsed time under
// the op's name. The backend's operations table is swapped for a copy whose
// entries are the wrappers, and the selected GEMM for a stand-in variant.
#include "profile.h"

#include <string.h>

#include "core/clock.h"

static const cnn_backend_ops *saved;  // the backend's own table
static const cnn_gemm_variant *saved_gemm; // and its selected GEMM
static cnn_backend_ops wrapped;       // the table of wrappers that replaces it
static cnn_backend *current;          // the wrapped backend (NULL: none)
static cnn_gemm_variant gemm_wrap;    // stands in for the selected GEMM
static profile_event events[PROFILE_MAX_EVENTS];
static int n_events;

static double start(void) {
    saved->sync(current);
    return cnn_now_s();
}

static void stop(const char *op, double t0) {
    saved->sync(current);
    double t = cnn_now_s() - t0;
    if (n_events < PROFILE_MAX_EVENTS) events[n_events++] = (profile_event){op, t};
}

static cnn_status w_gemm(cnn_backend *be, bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc) {
    double t0 = start();
    cnn_status s = saved_gemm->fn(be, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    stop("gemm", t0);
    return s;
}

static cnn_status w_bias_add(cnn_backend *be, const float *b, float *Y, int B, int N, bool relu) {
    double t0 = start();
    cnn_status s = saved->bias_add(be, b, Y, B, N, relu);
    stop(relu ? "bias_add+relu" : "bias_add", t0);
    return s;
}

static cnn_status w_relu_forward(cnn_backend *be, const float *x, float *y, size_t n) {
    double t0 = start();
    cnn_status s = saved->relu_forward(be, x, y, n);
    stop("relu", t0);
    return s;
}

static cnn_status w_relu_backward(cnn_backend *be, const float *y, const float *dy, float *dx, size_t n) {
    double t0 = start();
    cnn_status s = saved->relu_backward(be, y, dy, dx, n);
    stop("relu_backward", t0);
    return s;
}

static cnn_status w_softmax_xent(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                                 float *stats, int B, int C, float grad_scale) {
    double t0 = start();
    cnn_status s = saved->softmax_xent(be, logits, labels, dlogits, stats, B, C, grad_scale);
    stop("softmax_xent", t0);
    return s;
}

static cnn_status w_colsum(cnn_backend *be, const float *X, float *y, int B, int N, float beta) {
    double t0 = start();
    cnn_status s = saved->colsum(be, X, y, B, N, beta);
    stop("colsum", t0);
    return s;
}

static cnn_status w_sgd(cnn_backend *be, const float *g, float *w, float *v, size_t n, float lr, float momentum,
                        float wd) {
    double t0 = start();
    cnn_status s = saved->sgd(be, g, w, v, n, lr, momentum, wd);
    stop("sgd", t0);
    return s;
}

static cnn_status w_gather(cnn_backend *be, const uint8_t *images, const uint8_t *labels, cnn_batch_cursor *cursor,
                           float *X, int32_t *y, int B, int D, float scale, float shift, bool advance) {
    double t0 = start();
    cnn_status s = saved->gather(be, images, labels, cursor, X, y, B, D, scale, shift, advance);
    stop("gather", t0);
    return s;
}

static cnn_status w_im2col(cnn_backend *be, const float *X, float *col, int B, const cnn_window *g) {
    double t0 = start();
    cnn_status s = saved->im2col(be, X, col, B, g);
    stop("im2col", t0);
    return s;
}

static cnn_status w_col2im(cnn_backend *be, const float *col, float *dX, int B, const cnn_window *g) {
    double t0 = start();
    cnn_status s = saved->col2im(be, col, dX, B, g);
    stop("col2im", t0);
    return s;
}

static cnn_status w_transpose(cnn_backend *be, const float *src, float *dst, int n, int rows, int cols) {
    double t0 = start();
    cnn_status s = saved->transpose(be, src, dst, n, rows, cols);
    stop("transpose", t0);
    return s;
}

static cnn_status w_maxpool_forward(cnn_backend *be, const float *X, float *Y, int32_t *argmax, int B,
                                    const cnn_window *g) {
    double t0 = start();
    cnn_status s = saved->maxpool_forward(be, X, Y, argmax, B, g);
    stop("maxpool", t0);
    return s;
}

static cnn_status w_maxpool_backward(cnn_backend *be, const float *dY, const int32_t *argmax, float *dX, int B,
                                     const cnn_window *g) {
    double t0 = start();
    cnn_status s = saved->maxpool_backward(be, dY, argmax, dX, B, g);
    stop("maxpool_backward", t0);
    return s;
}

cnn_status profile_attach(cnn_backend *be) {
    if (current) return cnn_error(CNN_ERR_INTERNAL, "profile: a backend is already being profiled");
    if (!be->gemm || !be->ops->sync) return cnn_error(CNN_ERR_UNSUPPORTED, "profile: the backend has no GEMM or sync");
    saved = be->ops;
    saved_gemm = be->gemm;
    current = be;
    gemm_wrap = (cnn_gemm_variant){be->gemm->name, w_gemm, be->gemm->summary, be->gemm->precision};
    be->gemm = &gemm_wrap;
    wrapped = *be->ops;
// Wraps an entry the backend has (a NULL one stays NULL, so supports() still tells).
#define WRAP(field) if (wrapped.field) wrapped.field = w_##field
    WRAP(bias_add);
    WRAP(relu_forward);
    WRAP(relu_backward);
    WRAP(softmax_xent);
    WRAP(colsum);
    WRAP(sgd);
    WRAP(gather);
    WRAP(im2col);
    WRAP(col2im);
    WRAP(transpose);
    WRAP(maxpool_forward);
    WRAP(maxpool_backward);
#undef WRAP
    be->ops = &wrapped;
    profile_reset();
    return CNN_OK;
}

void profile_detach(cnn_backend *be) {
    if (be != current) return;
    be->ops = saved;
    be->gemm = saved_gemm;
    current = NULL;
}

void profile_reset(void) { n_events = 0; }
int profile_count(void) { return n_events; }
const profile_event *profile_events(void) { return events; }
