// Timing wrappers for the backend table: each wrapper syncs the device, calls
// the backend's own function, syncs again and logs the elapsed time under
// the op's name. The GEMM is wrapped through a stand-in variant, since GEMM
// variants take no backend argument.
#include "profile.h"

#include <string.h>

#include "core/clock.h"

static cnn_backend saved;          // the backend's own entries
static cnn_backend *current;       // the wrapped backend (NULL: none)
static cnn_gemm_variant gemm_wrap; // stands in for the selected GEMM
static profile_event events[PROFILE_MAX_EVENTS];
static int n_events;

static double start(void) {
    saved.sync(current);
    return cnn_now_s();
}

static void stop(const char *op, double t0) {
    saved.sync(current);
    double t = cnn_now_s() - t0;
    if (n_events < PROFILE_MAX_EVENTS) events[n_events++] = (profile_event){op, t};
}

static cnn_status w_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                         int ldb, float beta, float *C, int ldc) {
    double t0 = start();
    cnn_status s = saved.gemm->fn(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    stop("gemm", t0);
    return s;
}

static cnn_status w_bias_add(cnn_backend *be, float *Y, const float *b, int B, int N, bool relu) {
    double t0 = start();
    cnn_status s = saved.bias_add(be, Y, b, B, N, relu);
    stop(relu ? "bias_add+relu" : "bias_add", t0);
    return s;
}

static cnn_status w_relu_forward(cnn_backend *be, const float *x, float *y, size_t n) {
    double t0 = start();
    cnn_status s = saved.relu_forward(be, x, y, n);
    stop("relu", t0);
    return s;
}

static cnn_status w_relu_backward(cnn_backend *be, const float *y, const float *dy, float *dx, size_t n) {
    double t0 = start();
    cnn_status s = saved.relu_backward(be, y, dy, dx, n);
    stop("relu_backward", t0);
    return s;
}

static cnn_status w_softmax_xent(cnn_backend *be, const float *logits, const int32_t *labels, int B, int C,
                                 float grad_scale, float *dlogits, float *stats) {
    double t0 = start();
    cnn_status s = saved.softmax_xent(be, logits, labels, B, C, grad_scale, dlogits, stats);
    stop("softmax_xent", t0);
    return s;
}

static cnn_status w_colsum(cnn_backend *be, const float *X, int B, int N, float beta, float *y) {
    double t0 = start();
    cnn_status s = saved.colsum(be, X, B, N, beta, y);
    stop("colsum", t0);
    return s;
}

static cnn_status w_sgd(cnn_backend *be, float *w, const float *g, float *v, size_t n, float lr, float momentum,
                        float wd) {
    double t0 = start();
    cnn_status s = saved.sgd(be, w, g, v, n, lr, momentum, wd);
    stop("sgd", t0);
    return s;
}

static cnn_status w_gather(cnn_backend *be, const uint8_t *images, const uint8_t *labels, int D,
                           cnn_batch_cursor *cursor, int B, float scale, float shift, float *X, int32_t *y,
                           bool advance) {
    double t0 = start();
    cnn_status s = saved.gather(be, images, labels, D, cursor, B, scale, shift, X, y, advance);
    stop("gather", t0);
    return s;
}

static cnn_status w_im2col(cnn_backend *be, const float *X, int B, const cnn_window *g, float *col) {
    double t0 = start();
    cnn_status s = saved.im2col(be, X, B, g, col);
    stop("im2col", t0);
    return s;
}

static cnn_status w_col2im(cnn_backend *be, const float *col, int B, const cnn_window *g, float *dX) {
    double t0 = start();
    cnn_status s = saved.col2im(be, col, B, g, dX);
    stop("col2im", t0);
    return s;
}

static cnn_status w_transpose(cnn_backend *be, const float *src, int n, int rows, int cols, float *dst) {
    double t0 = start();
    cnn_status s = saved.transpose(be, src, n, rows, cols, dst);
    stop("transpose", t0);
    return s;
}

static cnn_status w_maxpool_forward(cnn_backend *be, const float *X, int B, const cnn_window *g, float *Y,
                                    int32_t *argmax) {
    double t0 = start();
    cnn_status s = saved.maxpool_forward(be, X, B, g, Y, argmax);
    stop("maxpool", t0);
    return s;
}

static cnn_status w_maxpool_backward(cnn_backend *be, const float *dY, const int32_t *argmax, int B,
                                     const cnn_window *g, float *dX) {
    double t0 = start();
    cnn_status s = saved.maxpool_backward(be, dY, argmax, B, g, dX);
    stop("maxpool_backward", t0);
    return s;
}

cnn_status profile_attach(cnn_backend *be) {
    if (current) return cnn_error(CNN_ERR_INTERNAL, "profile: a backend is already being profiled");
    if (!be->gemm || !be->sync) return cnn_error(CNN_ERR_UNSUPPORTED, "profile: the backend has no GEMM or sync");
    saved = *be;
    current = be;
    gemm_wrap = (cnn_gemm_variant){be->gemm->name, w_gemm, be->gemm->summary};
    be->gemm = &gemm_wrap;
// Wraps an entry the backend has (a NULL one stays NULL, so supports() still tells).
#define WRAP(field) if (be->field) be->field = w_##field
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
    profile_reset();
    return CNN_OK;
}

void profile_detach(cnn_backend *be) {
    if (be != current) return;
    *be = saved;
    current = NULL;
}

void profile_reset(void) { n_events = 0; }
int profile_count(void) { return n_events; }
const profile_event *profile_events(void) { return events; }
