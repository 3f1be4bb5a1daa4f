// Every op of the backend table, on every backend this machine has, against
// the CPU backend: one table of cases (a row: op, shapes, tolerance and why),
// one loop. Each case draws its inputs from its own seed, so every backend
// gets the same numbers; the CPU backend's outputs are the reference.
//
// Backends compared with the reference (those present here):
//   - a second CPU backend with 1 thread: bitwise (every CPU op writes each
//     output element from one thread in a fixed order, so the thread count
//     cannot change a bit);
//   - the CUDA backend on GPU 0 and a second CUDA backend on the same GPU
//     (two instances in one process: no state is shared), with the row's
//     tolerance;
//   - the CUDA kernels run by the CPU emulator (tests/emu_backend.cpp, built
//     where a C++ compiler is), with the row's tolerance.
// A backend that lacks an optional op is skipped for that row with a printed
// reason. Adding an op is one runner and its rows; adding a backend is one
// line in main().
#include <math.h>
#include <string.h>

#include "core/backend.h"
#include "core/mlp_step.h"
#include "layers/layers.h"
#include "models/model.h"
#include "test_backend_ops.h"
#include "test_util.h"

// ---- device buffers of one case ---------------------------------------------------

#define MAX_BUFS 12
#define MAX_OUTS 4

typedef struct {
    cnn_backend *be;
    void *dev[MAX_BUFS];
    int n_dev;
    bool failed;
} dev_bufs;

// bytes of device memory holding host (zeros when host is NULL); NULL after a failure.
static void *dev_put(dev_bufs *d, const void *host, size_t bytes) {
    void *p = NULL;
    if (d->failed || d->n_dev == MAX_BUFS || d->be->ops->alloc(d->be, bytes, &p) != CNN_OK) {
        d->failed = true;
        return NULL;
    }
    d->dev[d->n_dev++] = p;
    if (host && d->be->ops->upload(d->be, host, p, bytes) != CNN_OK) d->failed = true;
    return p;
}

static void dev_free_all(dev_bufs *d) {
    for (int i = 0; i < d->n_dev; i++) d->be->ops->free(d->be, d->dev[i]);
    d->n_dev = 0;
}

// One output of a case, downloaded to the host.
typedef struct {
    const char *name;
    void *host;
    size_t bytes;
    bool exact; // compared bit for bit whatever the row's tolerance (integers, counts, positions)
} case_out;

typedef struct {
    int n;
    case_out out[MAX_OUTS];
} case_result;

static cnn_status take(dev_bufs *d, case_result *r, const char *name, const void *dev, size_t bytes, bool exact) {
    void *host = malloc(bytes ? bytes : 1);
    if (!host || r->n == MAX_OUTS) {
        free(host);
        return cnn_error(CNN_ERR_NOMEM, "test: no room for output %s", name);
    }
    cnn_status s = d->be->ops->download(d->be, dev, host, bytes);
    r->out[r->n++] = (case_out){name, host, bytes, exact};
    return s;
}

static void result_free(case_result *r) {
    for (int i = 0; i < r->n; i++) free(r->out[i].host);
    r->n = 0;
}

// ---- the cases ----------------------------------------------------------------------

typedef struct op_case op_case;
// Runs case c on be with inputs drawn from rng, leaving its outputs in r.
typedef cnn_status (*case_runner)(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r);

struct op_case {
    int op;            // the cnn_op it needs, or -1 for the mandatory memory entries
    const char *label;
    case_runner run;
    int p[7];          // shape parameters, as each runner reads them
    float x;           // a scalar parameter (beta, a flag)
    double atol, rtol; // |other - cpu| <= atol + rtol |cpu|; both 0: bitwise
    const char *why;   // the reason for the tolerance
    bool bad_input;    // the case feeds invalid input: every backend must refuse it (by the next sync)
    bool gpu_only;     // too long for the emulator: run (and its CPU reference computed) only where a GPU is
};

static float *rand_floats(cnn_rng *rng, size_t n, float lo, float hi) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    test_fill_uniform(rng, x, n, lo, hi);
    return x;
}

#define F(n) ((size_t)(n) * sizeof(float))

// p: n. upload, copy (to an offset), fill part of it, download.
static cnn_status run_memory(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const size_t n = (size_t)c->p[0];
    float *x = rand_floats(rng, n, -1, 1);
    float *a = dev_put(d, x, F(n)), *b = dev_put(d, NULL, F(n));
    free(x);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "memory: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(take(d, r, "alloc zeroes", b, F(n), true));
    CNN_TRY(d->be->ops->copy(d->be, a, b, F(n)));
    CNN_TRY(d->be->ops->fill(d->be, b + 1, n - 2, -2.5f));
    return take(d, r, "copy+fill", b, F(n), true);
}

// p: M, N, K, transa, transb, extra leading-dimension padding; x: beta. C = 0.75 op(A) op(B) + beta C.
static cnn_status run_gemm(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int M = c->p[0], N = c->p[1], K = c->p[2], ta = c->p[3], tb = c->p[4], pad = c->p[5];
    const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    const size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = rand_floats(rng, na, -1, 1), *B = rand_floats(rng, nb, -1, 1), *C = rand_floats(rng, nc, -1, 1);
    float *dA = dev_put(d, A, F(na)), *dB = dev_put(d, B, F(nb)), *dC = dev_put(d, C, F(nc));
    free(A), free(B), free(C);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "gemm: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(cnn_gemm(d->be, ta, tb, M, N, K, 0.75f, dA, lda, dB, ldb, c->x, dC, ldc));
    return take(d, r, "C", dC, F(nc), false);
}

// p: B, N; x: relu (0 or 1). Y += b, then ReLU.
static cnn_status run_bias_add(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int B = c->p[0], N = c->p[1];
    float *Y = rand_floats(rng, (size_t)B * N, -1, 1), *b = rand_floats(rng, N, -1, 1);
    float *dY = dev_put(d, Y, F((size_t)B * N)), *db = dev_put(d, b, F(N));
    free(Y), free(b);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "bias_add: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->bias_add(d->be, db, dY, B, N, c->x != 0.0f));
    return take(d, r, "Y", dY, F((size_t)B * N), false);
}

// p: n. y = relu(x) out of place, then dx = dy [y > 0] in place over dy.
static cnn_status run_relu(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const size_t n = (size_t)c->p[0];
    float *x = rand_floats(rng, n, -1, 1), *dy = rand_floats(rng, n, -1, 1);
    float *dx_ = dev_put(d, x, F(n)), *dyd = dev_put(d, dy, F(n)), *y = dev_put(d, NULL, F(n));
    free(x), free(dy);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "relu: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->relu_forward(d->be, dx_, y, n));
    CNN_TRY(take(d, r, "y", y, F(n), false));
    CNN_TRY(d->be->ops->relu_backward(d->be, y, dyd, dyd, n));
    return take(d, r, "dx (in place)", dyd, F(n), false);
}

// p: B, C; x: 1 with the gradient. Random logits with a constant row and a tie; stats start at (3, 4).
static cnn_status run_softmax_xent(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int B = c->p[0], C = c->p[1];
    const size_t n = (size_t)B * C;
    float *z = rand_floats(rng, n, -5, 5), stats[2] = {3.0f, 4.0f};
    int32_t *labels = malloc((size_t)B * sizeof *labels);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)(cnn_rng_u64(rng) % (uint64_t)C);
    for (int j = 0; j < C; j++) z[j] = 0.25f;
    if (B > 1 && C > 2) z[C + 1] = z[C + C - 1] = 7.0f, labels[1] = 1;
    float *dz = dev_put(d, z, F(n)), *ds = dev_put(d, stats, sizeof stats);
    int32_t *dl = dev_put(d, labels, (size_t)B * sizeof(int32_t));
    float *dd = c->x != 0.0f ? dev_put(d, NULL, F(n)) : NULL;
    free(z), free(labels);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "softmax_xent: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->softmax_xent(d->be, dz, dl, dd, ds, B, C, 1.0f / (float)B));
    CNN_TRY(take(d, r, "loss sum", ds, sizeof(float), false));
    CNN_TRY(take(d, r, "hits", ds + 1, sizeof(float), true));
    return dd ? take(d, r, "dlogits", dd, F(n), false) : CNN_OK;
}

// p: B, C. One-hot targets, every other row made a hit.
static cnn_status run_mse(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int B = c->p[0], C = c->p[1];
    const size_t n = (size_t)B * C;
    float *p = rand_floats(rng, n, -1, 1), *t = calloc(n, sizeof *t), stats[2] = {0, 0};
    for (int i = 0; i < B; i++) {
        const size_t at = (size_t)i * C + (size_t)(cnn_rng_u64(rng) % (uint64_t)C);
        t[at] = 1.0f;
        if (i % 2 == 0) p[at] = 3.0f;
    }
    float *dp = dev_put(d, p, F(n)), *dt = dev_put(d, t, F(n)), *dd = dev_put(d, NULL, F(n)),
          *ds = dev_put(d, stats, sizeof stats);
    free(p), free(t);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "mse: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->mse(d->be, dp, dt, dd, ds, B, C, 1.0f / (float)B));
    CNN_TRY(take(d, r, "loss sum", ds, sizeof(float), false));
    CNN_TRY(take(d, r, "hits", ds + 1, sizeof(float), true));
    return take(d, r, "dpred", dd, F(n), false);
}

// p: B, N; x: beta. y = beta y + column sums of X.
static cnn_status run_colsum(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int B = c->p[0], N = c->p[1];
    float *X = rand_floats(rng, (size_t)B * N, -1, 1), *y = rand_floats(rng, N, -1, 1);
    float *dX = dev_put(d, X, F((size_t)B * N)), *dy = dev_put(d, y, F(N));
    free(X), free(y);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "colsum: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->colsum(d->be, dX, dy, B, N, c->x));
    return take(d, r, "y", dy, F(N), false);
}

// p: n. Two SGD steps (lr 0.05, momentum 0.9, weight decay 5e-4).
static cnn_status run_sgd(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const size_t n = (size_t)c->p[0];
    float *w = rand_floats(rng, n, -1, 1), *g = rand_floats(rng, n, -1, 1), *v = rand_floats(rng, n, -1, 1);
    float *dw = dev_put(d, w, F(n)), *dg = dev_put(d, g, F(n)), *dv = dev_put(d, v, F(n));
    free(w), free(g), free(v);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "sgd: alloc/upload failed: %s", cnn_last_error());
    for (int step = 0; step < 2; step++) CNN_TRY(d->be->ops->sgd(d->be, dg, dw, dv, n, 0.05f, 0.9f, 5e-4f));
    CNN_TRY(take(d, r, "w", dw, F(n), false));
    return take(d, r, "v", dv, F(n), false);
}

// p: examples, D, B, first start. Three gathers through a keyed permutation (the middle one does not advance).
static cnn_status run_gather(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int n = c->p[0], D = c->p[1], B = c->p[2];
    uint8_t *images = malloc((size_t)n * D), *labels = malloc((size_t)n);
    for (size_t i = 0; i < (size_t)n * D; i++) images[i] = (uint8_t)(cnn_rng_u64(rng) & 255);
    for (int i = 0; i < n; i++) labels[i] = (uint8_t)(cnn_rng_u64(rng) % 10);
    cnn_batch_cursor cur = {cnn_perm_make((uint32_t)n, 0xC0FFEEull), (uint32_t)c->p[3], 0};
    uint8_t *di = dev_put(d, images, (size_t)n * D), *dl = dev_put(d, labels, (size_t)n);
    cnn_batch_cursor *dc = dev_put(d, &cur, sizeof cur);
    float *dX = dev_put(d, NULL, F((size_t)B * D));
    int32_t *dy = dev_put(d, NULL, (size_t)B * sizeof(int32_t));
    free(images), free(labels);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "gather: alloc/upload failed: %s", cnn_last_error());
    const float scale = 1.0f / (255.0f * 0.3081f), shift = -0.1307f / 0.3081f;
    for (int round = 0; round < 3; round++)
        CNN_TRY(d->be->ops->gather(d->be, di, dl, dc, dX, dy, B, D, scale, shift, round != 1));
    CNN_TRY(take(d, r, "X (last batch)", dX, F((size_t)B * D), false));
    CNN_TRY(take(d, r, "labels", dy, (size_t)B * sizeof(int32_t), true));
    return take(d, r, "cursor", dc, sizeof cur, true);
}

// p: B, C, H, W, k, stride, pad. im2col of random X, then col2im of random columns.
static cnn_status run_im2col(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    cnn_window g;
    CNN_TRY(cnn_window_init(&g, c->p[1], c->p[2], c->p[3], c->p[4], c->p[5], c->p[6]));
    const int B = c->p[0];
    const size_t nx = (size_t)B * g.C * g.H * g.W, ncol = (size_t)B * g.Hout * g.Wout * g.C * g.k * g.k;
    float *X = rand_floats(rng, nx, -1, 1), *col = rand_floats(rng, ncol, -1, 1);
    float *dX = dev_put(d, X, F(nx)), *dcol = dev_put(d, NULL, F(ncol)), *dcol2 = dev_put(d, col, F(ncol));
    free(X), free(col);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "im2col: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->im2col(d->be, dX, dcol, B, &g));
    CNN_TRY(take(d, r, "col", dcol, F(ncol), false));
    CNN_TRY(d->be->ops->col2im(d->be, dcol2, dX, B, &g));
    return take(d, r, "dX (col2im)", dX, F(nx), false);
}

// p: n, rows, cols.
static cnn_status run_transpose(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const size_t total = (size_t)c->p[0] * c->p[1] * c->p[2];
    float *src = rand_floats(rng, total, -1, 1);
    float *ds = dev_put(d, src, F(total)), *dd = dev_put(d, NULL, F(total));
    free(src);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "transpose: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->transpose(d->be, ds, dd, c->p[0], c->p[1], c->p[2]));
    return take(d, r, "dst", dd, F(total), false);
}

// p: B, C, H, W, k, stride. Inputs in {0,1,2,3} (many ties: the first maximum must win).
static cnn_status run_maxpool(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    cnn_window g;
    CNN_TRY(cnn_window_init(&g, c->p[1], c->p[2], c->p[3], c->p[4], c->p[5], 0));
    const int B = c->p[0];
    const size_t nx = (size_t)B * g.C * g.H * g.W, ny = (size_t)B * g.C * g.Hout * g.Wout;
    float *X = malloc(F(nx)), *dY = rand_floats(rng, ny, -1, 1);
    for (size_t j = 0; j < nx; j++) X[j] = (float)(cnn_rng_u64(rng) % 4);
    float *dX = dev_put(d, X, F(nx)), *dYd = dev_put(d, dY, F(ny)), *dYo = dev_put(d, NULL, F(ny));
    int32_t *dam = dev_put(d, NULL, ny * sizeof(int32_t));
    free(X), free(dY);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "maxpool: alloc/upload failed: %s", cnn_last_error());
    CNN_TRY(d->be->ops->maxpool_forward(d->be, dX, dYo, dam, B, &g));
    CNN_TRY(take(d, r, "Y", dYo, F(ny), false));
    CNN_TRY(take(d, r, "argmax", dam, ny * sizeof(int32_t), true));
    CNN_TRY(d->be->ops->maxpool_backward(d->be, dYd, dam, dX, B, &g));
    return take(d, r, "dX", dX, F(nx), false);
}

// The MLP's data, model and the loop's scratch for run_mlp_step.
typedef struct {
    cnn_model m;
    uint8_t *images, *labels;
    cnn_batch_cursor *cursor;
    float *X, *stats;
    int32_t *y;
    double *row_stats;
} mlp_case;

#define MLP_SCALE (1.0f / 255.0f)
#define MLP_SHIFT (-0.5f)

// p[0..4]: hidden 1, hidden 2 (0: one hidden layer), D, B, examples. The
// model (seed 42, 10 classes) with buffers for B rows; then (mlp_case_data)
// random data, the cursor (start 0, key), X and y for B rows, stats (stats0)
// and row_stats for stat_rows rows; with bad_label, label 10 at example n/2.
static cnn_status mlp_case_model(cnn_backend *be, const op_case *c, mlp_case *k) {
    const int hidden[2] = {c->p[0], c->p[1]};
    memset(k, 0, sizeof *k);
    return cnn_model_create(be, "mlp", c->p[2], 1, 1, hidden, c->p[1] ? 2 : 1, 10, 42, &k->m);
}

static cnn_status mlp_case_data(dev_bufs *d, const op_case *c, cnn_rng *rng, uint64_t key, int stat_rows,
                                const float stats0[2], bool bad_label, mlp_case *k) {
    const int D = c->p[2], B = c->p[3], n = c->p[4];
    cnn_status s = cnn_model_reserve(&k->m, d->be, B);
    uint8_t *images = malloc((size_t)n * D), *labels = malloc((size_t)n);
    for (size_t i = 0; i < (size_t)n * D; i++) images[i] = (uint8_t)(cnn_rng_u64(rng) & 255);
    for (int i = 0; i < n; i++) labels[i] = (uint8_t)(cnn_rng_u64(rng) % 10);
    if (bad_label) labels[n / 2] = 10;
    cnn_batch_cursor cur = {cnn_perm_make((uint32_t)n, key), 0, 0};
    k->images = dev_put(d, images, (size_t)n * D);
    k->labels = dev_put(d, labels, (size_t)n);
    k->cursor = dev_put(d, &cur, sizeof cur);
    k->X = dev_put(d, NULL, F((size_t)B * D));
    k->y = dev_put(d, NULL, (size_t)B * sizeof(int32_t));
    k->stats = dev_put(d, stats0, 2 * sizeof(float));
    k->row_stats = dev_put(d, NULL, (size_t)stat_rows * 2 * sizeof(double));
    free(images), free(labels);
    if (s == CNN_OK && d->failed) s = cnn_error(CNN_ERR_DEVICE, "mlp case: alloc/upload failed: %s", cnn_last_error());
    return s;
}

// The fused kernels' arguments for k: the model, the data and scratch (steps and eval_rows left 0).
static cnn_status mlp_case_args(mlp_case *k, int B, cnn_mlp_fused_args *a) {
    memset(a, 0, sizeof *a);
    cnn_status s = cnn_mlp_fused_args_fill(&k->m, B, a);
    a->images = k->images, a->labels = k->labels, a->cursor = k->cursor, a->scale = MLP_SCALE, a->shift = MLP_SHIFT;
    a->X = k->X, a->y = k->y, a->row_stats = k->row_stats, a->stats = k->stats;
    return s;
}

// p: hidden 1, hidden 2 (0: one hidden layer), D, B, examples, steps. SGD steps
// (lr 0.05, momentum 0.9, weight decay 5e-4) from the same initial model:
// fused in one call where the backend has mlp_steps, else op by op exactly
// as models/train.c's train_step does.
static cnn_status run_mlp_step(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int D = c->p[2], B = c->p[3], steps = c->p[5];
    const float scale = MLP_SCALE, shift = MLP_SHIFT, lr = 0.05f, momentum = 0.9f, wd = 5e-4f;
    const float zero2[2] = {0, 0};
    cnn_backend *be = d->be;
    mlp_case k;
    CNN_TRY(mlp_case_model(be, c, &k));
    cnn_status s = mlp_case_data(d, c, rng, 99, B, zero2, false, &k);
    if (s == CNN_OK && cnn_backend_supports(be, CNN_OP_MLP_STEP)) {
        cnn_mlp_fused_args a;
        s = mlp_case_args(&k, B, &a);
        a.lr = lr, a.momentum = momentum, a.wd = wd, a.steps = steps;
        if (s == CNN_OK) s = be->ops->mlp_steps(be, &a);
    } else {
        for (int step = 0; step < steps && s == CNN_OK; step++) {
            s = be->ops->gather(be, k.images, k.labels, k.cursor, k.X, k.y, B, D, scale, shift, true);
            if (s == CNN_OK) s = cnn_model_forward(&k.m, be, k.X, B);
            if (s == CNN_OK)
                s = cnn_softmax_xent_backward(be, cnn_model_logits(&k.m), k.y, cnn_model_dlogits(&k.m), k.stats, B, 10);
            if (s == CNN_OK) s = cnn_model_backward(&k.m, be, k.X, B);
            if (s == CNN_OK) s = cnn_sgd_step(be, &k.m.arena, lr, momentum, wd);
        }
    }
    if (s == CNN_OK) s = take(d, r, "params | grads | momentum", k.m.arena.base, F(3 * k.m.arena.n), false);
    if (s == CNN_OK) s = take(d, r, "loss sum", k.stats, sizeof(float), false);
    if (s == CNN_OK) s = take(d, r, "hits", k.stats + 1, sizeof(float), true);
    if (s == CNN_OK) s = take(d, r, "cursor", k.cursor, sizeof(cnn_batch_cursor), true);
    cnn_model_free(&k.m, be);
    return s;
}

// p: hidden 1, hidden 2 (0: one hidden layer), D, B, examples, rows, bad label (0 or 1). The loss and hits of
// `rows` examples in order (key 0, as models/train.c's evaluate), stats starting at (3, 4): fused in one call
// where the backend has mlp_eval, else chunks of B rows op by op (gather, forward, softmax_xent without gradient).
static cnn_status run_mlp_eval(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    const int D = c->p[2], B = c->p[3], rows = c->p[5];
    const float stats0[2] = {3.0f, 4.0f};
    cnn_backend *be = d->be;
    mlp_case k;
    CNN_TRY(mlp_case_model(be, c, &k));
    cnn_status s = mlp_case_data(d, c, rng, 0, rows, stats0, c->p[6] != 0, &k);
    if (s == CNN_OK && cnn_backend_supports(be, CNN_OP_MLP_EVAL)) {
        cnn_mlp_fused_args a;
        s = mlp_case_args(&k, B, &a);
        a.eval_rows = rows;
        if (s == CNN_OK) s = be->ops->mlp_eval(be, &a);
    } else {
        for (int start = 0; start < rows && s == CNN_OK; start += B) {
            const int chunk = rows - start < B ? rows - start : B;
            s = be->ops->gather(be, k.images, k.labels, k.cursor, k.X, k.y, chunk, D, MLP_SCALE, MLP_SHIFT, true);
            if (s == CNN_OK) s = cnn_model_forward(&k.m, be, k.X, chunk);
            if (s == CNN_OK) s = cnn_softmax_xent_forward(be, cnn_model_logits(&k.m), k.y, k.stats, chunk, 10);
        }
    }
    if (s == CNN_OK && !c->bad_input) { // a refused case has no outputs (the CPU stops at the label)
        s = take(d, r, "loss sum", k.stats, sizeof(float), false);
        if (s == CNN_OK) s = take(d, r, "hits", k.stats + 1, sizeof(float), true);
        if (s == CNN_OK) s = take(d, r, "cursor", k.cursor, sizeof(cnn_batch_cursor), true);
    }
    cnn_model_free(&k.m, be);
    return s;
}

// p: B, C. A label equal to C (outside [0, C)).
static cnn_status run_bad_label(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    (void)r;
    const int B = c->p[0], C = c->p[1];
    float *z = rand_floats(rng, (size_t)B * C, -1, 1), stats[2] = {0, 0};
    int32_t *labels = calloc((size_t)B, sizeof *labels);
    labels[B / 2] = C;
    float *dz = dev_put(d, z, F((size_t)B * C)), *ds = dev_put(d, stats, sizeof stats);
    int32_t *dl = dev_put(d, labels, (size_t)B * sizeof(int32_t));
    free(z), free(labels);
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "bad label: alloc/upload failed: %s", cnn_last_error());
    return d->be->ops->softmax_xent(d->be, dz, dl, NULL, ds, B, C, 1.0f);
}

// p: examples, D, B. A batch that starts 5 examples before the end.
static cnn_status run_gather_past_end(dev_bufs *d, const op_case *c, cnn_rng *rng, case_result *r) {
    (void)rng, (void)r;
    const int n = c->p[0], D = c->p[1], B = c->p[2];
    cnn_batch_cursor cur = {cnn_perm_make((uint32_t)n, 7), (uint32_t)(n - 5), 0};
    uint8_t *di = dev_put(d, NULL, (size_t)n * D), *dl = dev_put(d, NULL, (size_t)n);
    cnn_batch_cursor *dc = dev_put(d, &cur, sizeof cur);
    float *dX = dev_put(d, NULL, F((size_t)B * D));
    int32_t *dy = dev_put(d, NULL, (size_t)B * sizeof(int32_t));
    if (d->failed) return cnn_error(CNN_ERR_DEVICE, "gather: alloc/upload failed: %s", cnn_last_error());
    return d->be->ops->gather(d->be, di, dl, dc, dX, dy, B, D, 1.0f, 0.0f, true);
}

#define BITWISE 0.0, 0.0

// The table. Tolerances are for the CUDA kernels (on a GPU or emulated); a
// second CPU backend is always compared bitwise.
static const op_case cases[] = {
    {-1, "memory 10007", run_memory, {10007}, 0, BITWISE, "copies", false},
    {CNN_OP_GEMM, "gemm NN 37x45x33", run_gemm, {37, 45, 33, 0, 0, 0}, 0.0f, 1e-5, 1e-4,
     "fixed but different summation orders: error <= K 2^-24 sum|a||b| (K <= 130, |a|,|b| <= 1)", false},
    {CNN_OP_GEMM, "gemm TN 64x130x100 beta", run_gemm, {64, 130, 100, 1, 0, 3}, 0.5f, 1e-5, 1e-4, "as above", false},
    {CNN_OP_GEMM, "gemm NT 128x10x130 padded", run_gemm, {128, 10, 130, 0, 1, 5}, 0.0f, 1e-5, 1e-4, "as above", false},
    {CNN_OP_GEMM, "gemm TT 17x33x65", run_gemm, {17, 33, 65, 1, 1, 0}, -1.0f, 1e-5, 1e-4, "as above", false},
    {CNN_OP_BIAS_ADD, "bias_add 128x512", run_bias_add, {128, 512}, 0.0f, BITWISE, "one add per element", false},
    {CNN_OP_BIAS_ADD, "bias_add+relu 37x45", run_bias_add, {37, 45}, 1.0f, BITWISE, "one add and a max", false},
    {CNN_OP_RELU, "relu 65539", run_relu, {65539}, 0, BITWISE, "a comparison", false},
    {CNN_OP_SOFTMAX_XENT, "softmax_xent 128x10", run_softmax_xent, {128, 10}, 1.0f, 1e-6, 1e-4,
     "fast-math expf and division on the GPU against the CPU's double precision; hits exact", false},
    {CNN_OP_SOFTMAX_XENT, "softmax_xent 33x7 no grad", run_softmax_xent, {33, 7}, 0.0f, 1e-6, 1e-4, "as above", false},
    {CNN_OP_SOFTMAX_XENT, "softmax_xent 1000x10 no grad", run_softmax_xent, {1000, 10}, 0.0f, 1e-6, 1e-4,
     "as above (an evaluation chunk: many blocks of partial sums)", false},
    {CNN_OP_SOFTMAX_XENT, "softmax_xent 77x100", run_softmax_xent, {77, 100}, 1.0f, 1e-6, 1e-4,
     "as above (more classes than lanes)", false},
    {CNN_OP_SOFTMAX_XENT, "softmax_xent 1x1", run_softmax_xent, {1, 1}, 1.0f, 1e-6, 1e-4, "as above", false},
    {CNN_OP_MSE, "mse 64x10", run_mse, {64, 10}, 0, 1e-7, 1e-5, "float against double row sums; hits exact", false},
    {CNN_OP_MSE, "mse 33x70", run_mse, {33, 70}, 0, 1e-7, 1e-5, "as above", false},
    {CNN_OP_COLSUM, "colsum 128x512", run_colsum, {128, 512}, 0.0f, 1e-5, 1e-5,
     "a different but fixed summation order", false},
    {CNN_OP_COLSUM, "colsum 128x10", run_colsum, {128, 10}, 0.0f, 1e-5, 1e-5, "as above", false},
    {CNN_OP_COLSUM, "colsum 1000x33 beta", run_colsum, {1000, 33}, 0.5f, 2e-5, 1e-5,
     "as above (1000 terms of magnitude <= 1: |error| <~ 1000 * 2^-24 * 1000)", false},
    {CNN_OP_SGD, "sgd 407050", run_sgd, {407050}, 0, BITWISE, "round-to-nearest intrinsics: no FMA contraction", false},
    {CNN_OP_GATHER, "gather 1000x784 B=128", run_gather, {1000, 784, 128, 3}, 0, BITWISE,
     "the same multiply-add per byte", false},
    {CNN_OP_IM2COL, "im2col 3x11x9 k3 s2 p1", run_im2col, {2, 3, 11, 9, 3, 2, 1}, 0, BITWISE, "copies; adds in order", false},
    {CNN_OP_IM2COL, "im2col 1x28x28 k5", run_im2col, {2, 1, 28, 28, 5, 1, 0}, 0, BITWISE, "as above", false},
    {CNN_OP_IM2COL, "im2col 6x12x12 k5 p2", run_im2col, {2, 6, 12, 12, 5, 1, 2}, 0, BITWISE, "as above", false},
    {CNN_OP_TRANSPOSE, "transpose 16x576x6", run_transpose, {16, 576, 6}, 0, BITWISE, "copies", false},
    {CNN_OP_MAXPOOL, "maxpool 6x24x24 k2", run_maxpool, {3, 6, 24, 24, 2, 2}, 0, BITWISE, "comparisons; adds in order", false},
    {CNN_OP_MAXPOOL, "maxpool 3x9x9 k3 s2 (overlap)", run_maxpool, {3, 3, 9, 9, 3, 2}, 0, BITWISE, "as above", false},
    {CNN_OP_MAXPOOL, "maxpool 2x7x8 k2", run_maxpool, {3, 2, 7, 8, 2, 2}, 0, BITWISE, "as above", false},
    {CNN_OP_GEMM, "mlp step 784-64-10 B=16 x3", run_mlp_step, {64, 0, 784, 16, 200, 3}, 0, 2e-5, 1e-3,
     "fused against op by op: the GEMMs' sums in another order, the softmax in float (docs/cuda.md)", false},
    {CNN_OP_GEMM, "mlp step 97-48-33-10 B=13 x3", run_mlp_step, {48, 33, 97, 13, 100, 3}, 0, 2e-5, 1e-3, "as above",
     false},
    // On a GPU, the sizes at batch 128 after 1, 3 and 100 steps (differences grow with the steps).
    {CNN_OP_GEMM, "mlp step 784-512-10 x1", run_mlp_step, {512, 0, 784, 128, 2000, 1}, 0, 1e-6, 1e-3,
     "as above; one step", false, true},
    {CNN_OP_GEMM, "mlp step 784-512-10 x3", run_mlp_step, {512, 0, 784, 128, 2000, 3}, 0, 1e-5, 1e-3,
     "as above", false, true},
    {CNN_OP_GEMM, "mlp step 784-512-10 x100", run_mlp_step, {512, 0, 784, 128, 2000, 100}, 0, 1e-3, 1e-2,
     "as above; 100 steps let rounding differences grow (not yet measured on a GPU)", false, true},
    {CNN_OP_GEMM, "mlp step 784-1000-10 x3", run_mlp_step, {1000, 0, 784, 128, 2000, 3}, 0, 1e-5, 1e-3,
     "as above", false, true},
    {CNN_OP_GEMM, "mlp step 784-1000-10 x100", run_mlp_step, {1000, 0, 784, 128, 2000, 100}, 0, 1e-3, 1e-2,
     "as above", false, true},
    {CNN_OP_GEMM, "mlp step 784-64-10 x100", run_mlp_step, {64, 0, 784, 128, 2000, 100}, 0, 1e-3, 1e-2,
     "as above", false, true},
    {CNN_OP_GEMM, "mlp step 784-256-128-10 x100", run_mlp_step, {256, 128, 784, 128, 2000, 100}, 0, 1e-3, 1e-2,
     "as above", false, true},
    // The fused evaluation pass against gather, forward and softmax_xent per chunk (ragged last chunks).
    {CNN_OP_GEMM, "mlp eval 784-64-10 B=64 150 rows", run_mlp_eval, {64, 0, 784, 64, 150, 150, 0}, 0, 1e-4, 1e-5,
     "loss sum: the forward GEMMs add in another order, the softmax in float, the rows in one double sum "
     "(the CPU: per chunk, then added in float); hits exact",
     false},
    {CNN_OP_GEMM, "mlp eval 97-48-33-10 B=13 100 of 120", run_mlp_eval, {48, 33, 97, 13, 120, 100, 0}, 0, 1e-4,
     1e-5, "as above", false},
    // On a GPU, the sizes: the whole MNIST-sized test set in chunks of 1000 (as models/train.c).
    {CNN_OP_GEMM, "mlp eval 784-512-10 B=1000 10000 rows", run_mlp_eval, {512, 0, 784, 1000, 10000, 10000, 0}, 0,
     1e-3, 1e-5, "as above (10000 rows: a loss sum near 2e4, whose float ulp is 2e-3)", false, true},
    {CNN_OP_GEMM, "mlp eval 784-256-128-10 B=1000 10000 rows", run_mlp_eval,
     {256, 128, 784, 1000, 10000, 10000, 0}, 0, 1e-3, 1e-5, "as above", false, true},
    {CNN_OP_GEMM, "mlp eval bad label", run_mlp_eval, {16, 0, 20, 8, 30, 30, 1}, 0, BITWISE, "refused", true},
    {CNN_OP_SOFTMAX_XENT, "softmax_xent bad label", run_bad_label, {8, 10}, 0, BITWISE, "refused", true},
    {CNN_OP_GATHER, "gather past the end", run_gather_past_end, {100, 7, 16}, 0, BITWISE, "refused", true},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

// Whether some row exercises op (the fused step's rows run it where the backend has it).
static bool covers(int op) {
    for (int i = 0; i < N_CASES; i++)
        if (cases[i].op == op || (op == CNN_OP_MLP_STEP && cases[i].run == run_mlp_step) ||
            (op == CNN_OP_MLP_EVAL && cases[i].run == run_mlp_eval))
            return true;
    return false;
}

// Runs c on be; then sync (where errors found by kernels are reported) must
// report a bad input once, and a second sync must be clean.
static cnn_status run_case(cnn_backend *be, const op_case *c, case_result *r) {
    cnn_rng rng;
    uint64_t seed = 1469598103934665603ull; // FNV-1a of the label: the same inputs on every backend
    for (const char *p = c->label; *p; p++) seed = (seed ^ (uint8_t)*p) * 1099511628211ull;
    cnn_rng_seed(&rng, seed);
    dev_bufs d = {.be = be};
    r->n = 0;
    cnn_status s = c->run(&d, c, &rng, r);
    if (s == CNN_OK) s = be->ops->sync(be);
    if (c->bad_input) {
        if (s != CNN_ERR_INVALID_ARG) {
            fprintf(stderr, "  %s: %s: accepted (%s), expected CNN_ERR_INVALID_ARG\n", be->name, c->label,
                    cnn_status_name(s));
            test_failures++;
        } else {
            printf("  %s: %s refused: %s\n", be->name, c->label, cnn_last_error());
        }
        s = be->ops->sync(be); // reported once
        if (s != CNN_OK) fprintf(stderr, "  %s: %s: reported twice\n", be->name, c->label);
    }
    dev_free_all(&d);
    return s;
}

static bool compare(const char *who, const op_case *c, const case_result *ref, const case_result *got, bool bitwise) {
    if (ref->n != got->n) {
        fprintf(stderr, "  %s: %s: %d outputs, the CPU gave %d\n", who, c->label, got->n, ref->n);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < ref->n; i++) {
        const case_out *a = &ref->out[i], *b = &got->out[i];
        char what[200];
        snprintf(what, sizeof what, "%s: %s: %s", who, c->label, a->name);
        if (bitwise || a->exact || (c->atol == 0.0 && c->rtol == 0.0)) {
            if (memcmp(a->host, b->host, a->bytes) != 0) {
                const size_t n = a->bytes / 4;
                size_t j = 0;
                while (j < n && memcmp((const char *)a->host + 4 * j, (const char *)b->host + 4 * j, 4) == 0) j++;
                fprintf(stderr, "  %s differs at element %zu of %zu (bitwise expected)\n", what, j, n);
                ok = false;
            }
            continue;
        }
        const size_t n = a->bytes / sizeof(float);
        double *want = malloc((n ? n : 1) * sizeof *want);
        for (size_t j = 0; j < n; j++) want[j] = ((const float *)a->host)[j];
        ok = test_close(what, b->host, want, n, c->atol, c->rtol) && ok;
        free(want);
    }
    return ok;
}

// Runs every case on be and compares with the reference results.
// Runs every case on be and compares with the reference results (bitwise,
// or with the row's tolerance); with same_as, also bit for bit with an
// earlier run's results (determinism); with keep, keeps be's results.
static void run_backend(const char *who, cnn_backend *be, case_result *ref, bool bitwise, const case_result *same_as,
                        case_result *keep) {
    int compared = 0, skipped = 0;
    for (int i = 0; i < N_CASES; i++) {
        const op_case *c = &cases[i];
        if (ref[i].n == 0 && !c->bad_input) continue; // the reference failed or was not computed (gpu_only)
        if (c->gpu_only && be->device != CNN_DEVICE_CUDA) continue;
        if (c->gpu_only && strcmp(be->name, "cuda") != 0) {
            printf("  %s: skip %s: too long for the emulator\n", who, c->label);
            skipped++;
            continue;
        }
        if (c->op >= 0 && !cnn_backend_supports(be, (cnn_op)c->op)) {
            printf("  %s: skip %s: this backend has no %s\n", who, c->label, cnn_op_name((cnn_op)c->op));
            skipped++;
            continue;
        }
        case_result got = {0};
        cnn_status s = run_case(be, c, &got);
        if (s != CNN_OK) {
            fprintf(stderr, "  %s: %s failed: %s: %s\n", who, c->label, cnn_status_name(s), cnn_last_error());
            test_failures++;
        } else if (!compare(who, c, &ref[i], &got, bitwise)) {
            test_failures++;
        } else if (same_as && same_as[i].n && !compare(who, c, &same_as[i], &got, true)) {
            fprintf(stderr, "  %s: %s: not the same bits as the first run\n", who, c->label);
            test_failures++;
        } else {
            compared++;
        }
        if (keep) {
            keep[i] = got;
            continue;
        }
        result_free(&got);
    }
    printf("%s: %d cases agree with the CPU%s, %d skipped\n", who, compared, bitwise ? " bit for bit" : "", skipped);
}

// Divergence: softmax_xent flags the first training call (one with dlogits) whose loss is not
// finite; sync reports it once as CNN_ERR_DIVERGED with its index. A forward-only call with a
// non-finite loss (an evaluation) neither counts nor flags.
static void check_divergence_flag(const char *who, cnn_backend *be) {
    enum { B = 8, C = 10 };
    float z[B * C], stats[2] = {0, 0};
    int32_t labels[B] = {0};
    for (int i = 0; i < B * C; i++) z[i] = (float)(i % 7) * 0.1f;
    dev_bufs d = {.be = be};
    float *good = dev_put(&d, z, sizeof z);
    z[3 * C + 4] = NAN;
    float *bad = dev_put(&d, z, sizeof z), *dz = dev_put(&d, NULL, sizeof z), *ds = dev_put(&d, stats, sizeof stats);
    int32_t *dl = dev_put(&d, labels, sizeof labels);
    if (d.failed || be->ops->sync(be) != CNN_OK) {
        fprintf(stderr, "  %s: divergence flag: setup failed: %s\n", who, cnn_last_error());
        test_failures++;
        dev_free_all(&d);
        return;
    }
    const long base = be->loss_calls;
    CHECK_OK(be->ops->softmax_xent(be, bad, dl, NULL, ds, B, C, 0.0f)); // an evaluation: not flagged
    CHECK_OK(be->ops->softmax_xent(be, good, dl, dz, ds, B, C, 1.0f / B));
    CHECK_OK(be->ops->softmax_xent(be, bad, dl, dz, ds, B, C, 1.0f / B));
    CHECK_OK(be->ops->softmax_xent(be, good, dl, dz, ds, B, C, 1.0f / B));
    cnn_status s = be->ops->sync(be);
    if (s != CNN_ERR_DIVERGED || be->nonfinite_loss_call != base + 2 || be->loss_calls != base + 3) {
        fprintf(stderr, "  %s: divergence flag: sync gave %s, call %ld of %ld (expected DIVERGED at %ld of %ld)\n",
                who, cnn_status_name(s), be->nonfinite_loss_call, be->loss_calls, base + 2, base + 3);
        test_failures++;
    } else {
        printf("  %s: a non-finite training loss is flagged at its call: %s\n", who, cnn_last_error());
    }
    CHECK(be->ops->sync(be) == CNN_OK); // reported once
    dev_free_all(&d);
}

int main(void) {
    // Every op of the table has rows (mse, colsum, ... and the optional conv entries).
    for (int op = 0; op < CNN_OP_COUNT; op++)
        if (!covers(op)) {
            fprintf(stderr, "no case covers op %s: add a row\n", cnn_op_name((cnn_op)op));
            test_failures++;
        }

    cnn_backend *cpu = NULL;
    CHECK_OK(cnn_backend_create("cpu", NULL, 0, 0, &cpu));
    if (!cpu) return test_finish("test_backend_ops");
    printf("reference: cpu (%s, gemm %s)\n", cpu->device_desc, cpu->gemm->name);
    static case_result ref[N_CASES];
    for (int i = 0; i < N_CASES; i++) {
        if (cases[i].gpu_only) continue; // computed below where a GPU is
        cnn_status s = run_case(cpu, &cases[i], &ref[i]);
        if (s != CNN_OK) {
            fprintf(stderr, "cpu: %s failed: %s: %s\n", cases[i].label, cnn_status_name(s), cnn_last_error());
            test_failures++;
            result_free(&ref[i]);
        }
    }

    cnn_backend *cpu1 = NULL;
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &cpu1));
    if (cpu1) run_backend("cpu, 1 thread", cpu1, ref, true, NULL, NULL);
    if (cpu1) check_divergence_flag("cpu", cpu1);
    cnn_backend_destroy(cpu1);

    cnn_backend *gpu = NULL, *gpu2 = NULL;
    cnn_status s = cnn_backend_create("cuda", NULL, 0, 0, &gpu);
    if (s == CNN_OK) s = cnn_backend_create("cuda", NULL, 0, 0, &gpu2);
    if (s == CNN_OK) {
        CHECK(gpu->ctx != gpu2->ctx);
        CHECK(cnn_backend_supports(gpu, CNN_OP_MLP_STEP) && cnn_backend_supports(gpu, CNN_OP_MLP_EVAL));
        for (int i = 0; i < N_CASES; i++) // the long rows' CPU references, now that a GPU will use them
            if (cases[i].gpu_only && run_case(cpu, &cases[i], &ref[i]) != CNN_OK) {
                fprintf(stderr, "cpu: %s failed: %s\n", cases[i].label, cnn_last_error());
                test_failures++;
            }
        static case_result first[N_CASES];
        run_backend("cuda", gpu, ref, false, NULL, first);
        run_backend("cuda, second instance", gpu2, ref, false, first, NULL);
        run_backend("cuda, first again", gpu, ref, false, first, NULL);
        for (int i = 0; i < N_CASES; i++) result_free(&first[i]);
        check_divergence_flag("cuda", gpu);
    } else if (s == CNN_ERR_UNSUPPORTED) {
        printf("cuda: not compared: %s\n", cnn_last_error());
    } else {
        fprintf(stderr, "creating a CUDA backend failed: %s\n", cnn_last_error());
        test_failures++;
    }
    cnn_backend_destroy(gpu2);
    cnn_backend_destroy(gpu);

    cnn_backend *emu = NULL;
    s = test_emu_backend_create(&emu);
    if (s == CNN_OK) {
        // The fused rows run op by op on a backend without the entries: these two must have them.
        CHECK(cnn_backend_supports(emu, CNN_OP_MLP_STEP) && cnn_backend_supports(emu, CNN_OP_MLP_EVAL));
        run_backend("cuda kernels, emulated", emu, ref, false, NULL, NULL);
        check_divergence_flag("cuda kernels, emulated", emu);
        cnn_backend_destroy(emu);
    } else {
        printf("emulator: not compared: %s\n", cnn_last_error());
    }

    for (int i = 0; i < N_CASES; i++) result_free(&ref[i]);
    cnn_backend_destroy(cpu);
    return test_finish("test_backend_ops");
}
