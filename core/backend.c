#include "backend.h"
#include "clock.h"
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cnn_op_name(cnn_op op) {
    static const char *names[CNN_OP_COUNT] = {"gemm", "bias_add", "relu",   "softmax_xent",
                                              "mse",  "colsum",   "sgd",    "gather",
                                              "im2col", "transpose", "maxpool", "mlp_step",
                                              "mlp_eval"};
    return (op >= 0 && op < CNN_OP_COUNT) ? names[op] : "unknown op";
}

bool cnn_backend_supports(const cnn_backend *be, cnn_op op) {
    switch (op) {
    case CNN_OP_GEMM: return be->gemm != NULL && be->gemm->fn != NULL;
    case CNN_OP_BIAS_ADD: return be->ops->bias_add != NULL;
    case CNN_OP_RELU: return be->ops->relu_forward != NULL && be->ops->relu_backward != NULL;
    case CNN_OP_SOFTMAX_XENT: return be->ops->softmax_xent != NULL;
    case CNN_OP_MSE: return be->ops->mse != NULL;
    case CNN_OP_COLSUM: return be->ops->colsum != NULL;
    case CNN_OP_SGD: return be->ops->sgd != NULL;
    case CNN_OP_GATHER: return be->ops->gather != NULL;
    case CNN_OP_IM2COL: return be->ops->im2col != NULL && be->ops->col2im != NULL;
    case CNN_OP_TRANSPOSE: return be->ops->transpose != NULL;
    case CNN_OP_MAXPOOL: return be->ops->maxpool_forward != NULL && be->ops->maxpool_backward != NULL;
    case CNN_OP_MLP_STEP: return be->ops->mlp_steps != NULL;
    case CNN_OP_MLP_EVAL: return be->ops->mlp_eval != NULL;
    case CNN_OP_COUNT: break;
    }
    return false;
}

cnn_status cnn_window_init(cnn_window *g, int C, int H, int W, int k, int stride, int pad) {
    memset(g, 0, sizeof *g);
    if (C < 1 || H < 1 || W < 1)
        return cnn_error(CNN_ERR_INVALID_ARG, "window: the input (C,H,W) = (%d,%d,%d) must have every size >= 1", C, H,
                         W);
    if (k < 1 || stride < 1 || pad < 0 || pad >= k)
        return cnn_error(CNN_ERR_INVALID_ARG,
                         "window: kernel %d, stride %d, pad %d: need kernel >= 1, stride >= 1 and 0 <= pad < kernel", k,
                         stride, pad);
    if (H + 2 * pad < k || W + 2 * pad < k)
        return cnn_error(CNN_ERR_INVALID_ARG,
                         "window: a %dx%d kernel does not fit a %dx%d input padded by %d: use a smaller kernel or more "
                         "padding",
                         k, k, H, W, pad);
    *g = (cnn_window){C, H, W, k, stride, pad, (H + 2 * pad - k) / stride + 1, (W + 2 * pad - k) / stride + 1};
    return CNN_OK;
}

const cnn_gemm_variant *cnn_backend_find_gemm(const cnn_backend *be, const char *name) {
    for (int i = 0; i < be->n_gemm_variants; i++)
        if (strcmp(be->gemm_variants[i].name, name) == 0) return &be->gemm_variants[i];
    return NULL;
}

cnn_status cnn_backend_select_gemm(cnn_backend *be, const char *name) {
    const cnn_gemm_variant *v = cnn_backend_find_gemm(be, name);
    if (v) {
        be->gemm = v;
        return CNN_OK;
    }
    char list[512] = "";
    for (int i = 0; i < be->n_gemm_variants; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, be->gemm_variants[i].name, sizeof list - strlen(list) - 1);
    }
    return cnn_error(CNN_ERR_INVALID_ARG, "unknown GEMM '%s' for the %s backend; choose one of: %s", name, be->name,
                     list);
}

const cnn_gemm_variant *cnn_backend_default_gemm(const cnn_backend *be, cnn_precision p) {
    if (p == CNN_PRECISION_FP32) return cnn_backend_find_gemm(be, be->default_gemm);
    for (int i = 0; i < be->n_gemm_variants; i++)
        if (be->gemm_variants[i].precision == p) return &be->gemm_variants[i];
    return NULL;
}

cnn_status cnn_backend_select_precision(cnn_backend *be, const char *name, cnn_precision p) {
    const cnn_gemm_variant *v = name ? cnn_backend_find_gemm(be, name) : cnn_backend_default_gemm(be, p);
    if (name && !v) return cnn_backend_select_gemm(be, name); // its message lists the names
    if (v && v->precision == p) {
        be->gemm = v;
        return CNN_OK;
    }
    char list[512] = "";
    for (int i = 0; i < be->n_gemm_variants; i++) {
        if (be->gemm_variants[i].precision != p) continue;
        if (list[0]) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, be->gemm_variants[i].name, sizeof list - strlen(list) - 1);
    }
    if (!list[0])
        return cnn_error(CNN_ERR_INVALID_ARG, "the %s backend has no %s GEMM; choose another --precision", be->name,
                         cnn_precision_name(p));
    return cnn_error(CNN_ERR_INVALID_ARG,
                     "--gemm=%s computes in %s, not in the %s asked by --precision; choose one of: %s (or leave --gemm "
                     "unset)",
                     name, cnn_precision_name(v->precision), cnn_precision_name(p), list);
}

cnn_status cnn_backend_create(const char *name, const char *gemm, int threads, int device_index, cnn_backend **out) {
    *out = NULL;
    cnn_backend *be = NULL;
    if (strcmp(name, "cpu") == 0) {
        CNN_TRY(cnn_cpu_backend_create(threads, &be));
    } else if (strcmp(name, "cuda") == 0) {
        CNN_TRY(cnn_cuda_backend_create(device_index, &be));
    } else {
        return cnn_error(CNN_ERR_INVALID_ARG, "unknown backend '%s'; choose cpu or cuda", name);
    }
    cnn_status s = cnn_backend_select_gemm(be, gemm ? gemm : be->default_gemm);
    if (s != CNN_OK) {
        cnn_backend_destroy(be);
        return s;
    }
    *out = be;
    return CNN_OK;
}

cnn_status cnn_backend_describe(const char *name, cnn_backend *out) {
    memset(out, 0, sizeof *out);
    if (strcmp(name, "cpu") == 0) cnn_cpu_backend_describe(out);
    else if (strcmp(name, "cuda") == 0) CNN_TRY(cnn_cuda_backend_describe(out));
    else return cnn_error(CNN_ERR_INVALID_ARG, "unknown backend '%s'; choose cpu or cuda", name);
    return cnn_backend_select_gemm(out, out->default_gemm);
}

void cnn_backend_destroy(cnn_backend *be) {
    if (be && be->ops->destroy) be->ops->destroy(be);
}

cnn_status cnn_backend_attach_dist(cnn_backend *be, struct cnn_dist *d) {
    be->dist = NULL;
    if (cnn_dist_size(d) == 1) return CNN_OK; // one process: no world to attach
    if (!be->ops->allreduce)
        return cnn_error(CNN_ERR_UNSUPPORTED, "the %s backend has no gradient all-reduce, so it cannot train on %d "
                         "ranks: run it without mpirun, or use --backend=cpu", be->name, cnn_dist_size(d));
    be->dist = d;
    return be->ops->dist_attach ? be->ops->dist_attach(be, d) : CNN_OK;
}

cnn_status cnn_gemm_check_args(bool transa, bool transb, int M, int N, int K, const float *A, int lda,
                               const float *B, int ldb, const float *C, int ldc) {
    if (M < 1 || N < 1 || K < 1)
        return cnn_error(CNN_ERR_INVALID_ARG, "gemm: M, N, K must be >= 1 (got %d, %d, %d)", M, N, K);
    if (!A || !B || !C) return cnn_error(CNN_ERR_INVALID_ARG, "gemm: NULL matrix pointer");
    int a_cols = transa ? M : K, b_cols = transb ? K : N;
    if (lda < a_cols) return cnn_error(CNN_ERR_INVALID_ARG, "gemm: lda %d < %d", lda, a_cols);
    if (ldb < b_cols) return cnn_error(CNN_ERR_INVALID_ARG, "gemm: ldb %d < %d", ldb, b_cols);
    if (ldc < N) return cnn_error(CNN_ERR_INVALID_ARG, "gemm: ldc %d < %d", ldc, N);
    return CNN_OK;
}

cnn_status cnn_gemm(cnn_backend *be, bool transa, bool transb, int M, int N, int K, float alpha, const float *A,
                    int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (!cnn_backend_supports(be, CNN_OP_GEMM))
        return cnn_error(CNN_ERR_UNSUPPORTED, "the %s backend has no GEMM selected", be->name);
    CNN_TRY(cnn_gemm_check_args(transa, transb, M, N, K, A, lda, B, ldb, C, ldc));
    return be->gemm->fn(be, transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// The host clock's timer: the start time, after the queue drained.
typedef struct {
    double t0;
} host_timer;

cnn_status cnn_backend_timer_start(cnn_backend *be, void **timer) {
    *timer = NULL;
    if (be->ops->timer_start) return be->ops->timer_start(be, timer);
    host_timer *t = malloc(sizeof *t);
    if (!t) return cnn_error(CNN_ERR_NOMEM, "out of memory starting a timer");
    cnn_status s = be->ops->sync(be);
    t->t0 = cnn_now_s();
    if (s != CNN_OK) free(t);
    else *timer = t;
    return s;
}

cnn_status cnn_backend_timer_stop(cnn_backend *be, void *timer, double *seconds) {
    if (be->ops->timer_stop) return be->ops->timer_stop(be, timer, seconds);
    host_timer *t = timer;
    cnn_status s = be->ops->sync(be);
    *seconds = cnn_now_s() - t->t0;
    free(t);
    return s;
}
