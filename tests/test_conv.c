// conv2d, maxpool, their backend ops and whole convolutional models on the
// CPU backend: forward passes against a direct double-precision reference
// (the convolution sum written out, no im2col), backward passes against
// central finite differences of that reference.
//
// Tolerances. Inputs, weights and upstream gradients are uniform in [-1, 1],
// so every product in a sum has |a·b| <= 1, and a float32 sum of n terms is
// within n·u·Σ|a·b| <= n²·u of the exact one (u = 2^-24). Each case computes
// n as its longest sum: K = C·k·k (forward), B·Hout·Wout (dW, db) or
// Cout·k·k (dX) terms, and uses atol = rtol = max(2e-4, n²·u) (2e-4 as in
// test_layers.c up to n = 57, 2.9e-4 for the largest case, n = 70). The finite differences are
// taken in double with h = 1e-5: truncation O(h²) ≈ 1e-10, rounding ≈ 1e-11.
// A wrong gradient (a transposed operand, a dropped window, a padding
// off by one) is off by O(0.1) or more and fails. Data movement (im2col,
// transpose, maxpool forward) must be exact: tolerance 0.
#include <math.h>
#include <string.h>

#include "layers/layers.h"
#include "models/model.h"
#include "test_util.h"

#define FD_H 1e-5
#define U 0x1p-24

static cnn_backend *be;
static cnn_rng rng;
static double tol_for(long n) { return fmax(2e-4, (double)n * (double)n * U); }

// ---- double-precision references ----------------------------------------------

// X is (B, C*H*W), Wt is (Cout, C*k*k), b is (Cout), Y is (B, Cout*Hout*Wout): the convolution sum itself.
static void conv_ref(const double *X, const double *Wt, const double *b, double *Y, int B, const cnn_window *g,
                     int Cout) {
    const int C = g->C, H = g->H, W = g->W, k = g->k, s = g->stride, p = g->pad, Ho = g->Hout, Wo = g->Wout;
    for (int n = 0; n < B; n++)
        for (int co = 0; co < Cout; co++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double acc = b[co];
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int y = oy * s - p + ky, x = ox * s - p + kx;
                                if (y < 0 || y >= H || x < 0 || x >= W) continue;
                                acc += X[((size_t)(n * C + c) * H + y) * W + x] * Wt[((co * C + c) * k + ky) * k + kx];
                            }
                    Y[((size_t)(n * Cout + co) * Ho + oy) * Wo + ox] = acc;
                }
}

// X is (B, C*H*W), Y is (B, C*Hout*Wout): the maximum of each window.
static void maxpool_ref(const double *X, double *Y, int B, const cnn_window *g) {
    const int C = g->C, H = g->H, W = g->W, k = g->k, s = g->stride, Ho = g->Hout, Wo = g->Wout;
    for (int n = 0; n < B * C; n++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                double m = -INFINITY;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) m = fmax(m, X[((size_t)n * H + oy * s + ky) * W + ox * s + kx]);
                Y[((size_t)n * Ho + oy) * Wo + ox] = m;
            }
}



// ---- the ops ------------------------------------------------------------------------

// im2col against its definition, exactly; col2im as its adjoint: <im2col(x), y> = <x, col2im(y)>.
static void test_im2col(int B, int C, int H, int W, int k, int s, int p) {
    cnn_window g;
    CHECK_OK(cnn_window_init(&g, C, H, W, k, s, p));
    const int K = C * k * k, P = g.Hout * g.Wout;
    const size_t nx = (size_t)B * C * H * W, ncol = (size_t)B * P * K;
    float *X = test_falloc(nx), *col = test_falloc(ncol), *Yc = test_falloc(ncol), *dX = test_falloc(nx);
    double *want = test_dalloc(ncol);
    test_fill_uniform(&rng, X, nx, -1, 1);
    test_fill_uniform(&rng, Yc, ncol, -1, 1);
    for (int n = 0; n < B; n++)
        for (int oy = 0; oy < g.Hout; oy++)
            for (int ox = 0; ox < g.Wout; ox++)
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int y = oy * s - p + ky, x = ox * s - p + kx;
                            bool in = y >= 0 && y < H && x >= 0 && x < W;
                            size_t row = ((size_t)n * g.Hout + oy) * g.Wout + ox;
                            want[row * K + (c * k + ky) * k + kx] = in ? X[((size_t)(n * C + c) * H + y) * W + x] : 0;
                        }
    char what[96];
    snprintf(what, sizeof what, "im2col B=%d C=%d %dx%d k=%d s=%d p=%d", B, C, H, W, k, s, p);
    CHECK_OK(be->ops->im2col(be, X, col, B, &g));
    CHECK(test_close(what, col, want, ncol, 0, 0));
    memset(dX, 0xff, nx * sizeof *dX); // NaN: col2im must overwrite, not accumulate
    CHECK_OK(be->ops->col2im(be, Yc, dX, B, &g));
    double lhs = 0, rhs = 0, scale = 0;
    for (size_t i = 0; i < ncol; i++) lhs += (double)col[i] * Yc[i], scale += fabs((double)col[i] * Yc[i]);
    for (size_t i = 0; i < nx; i++) rhs += (double)X[i] * dX[i];
    // col2im's float sums: each pixel gets at most k*k terms, so the error is within k²·u·scale
    if (!(fabs(lhs - rhs) <= (double)k * k * U * scale + 1e-12)) {
        fprintf(stderr, "  %s: <im2col(x),y> = %.12g but <x,col2im(y)> = %.12g\n", what, lhs, rhs);
        test_failures++;
    }
    free(X), free(col), free(Yc), free(dX), free(want);
}

static void test_transpose(int n, int rows, int cols) {
    size_t total = (size_t)n * rows * cols;
    float *src = test_falloc(total), *dst = test_falloc(total), *back = test_falloc(total);
    double *want = test_dalloc(total);
    test_fill_uniform(&rng, src, total, -1, 1);
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                want[((size_t)i * cols + c) * rows + r] = src[((size_t)i * rows + r) * cols + c];
    CHECK_OK(be->ops->transpose(be, src, dst, n, rows, cols));
    CHECK(test_close("transpose", dst, want, total, 0, 0));
    CHECK_OK(be->ops->transpose(be, dst, back, n, cols, rows));
    CHECK(memcmp(back, src, total * sizeof *src) == 0);
    free(src), free(dst), free(back), free(want);
}

// ---- conv2d ---------------------------------------------------------------------------

typedef struct {
    const double *X, *Wt, *b, *G;
    int B, Cout;
    const cnn_window *g;
} conv_obj;

// L = Σ G ⊙ conv(X, W, b): the upstream gradient G makes dL/dY = G.
static double conv_objective(const void *ctx) {
    const conv_obj *o = ctx;
    size_t ny = (size_t)o->B * o->Cout * o->g->Hout * o->g->Wout;
    double *Y = test_dalloc(ny), L = 0;
    conv_ref(o->X, o->Wt, o->b, Y, o->B, o->g, o->Cout);
    for (size_t i = 0; i < ny; i++) L += o->G[i] * Y[i];
    free(Y);
    return L;
}

static void test_conv2d(int B, int C, int H, int W, int Cout, int k, int s, int p) {
    cnn_window g;
    CHECK_OK(cnn_window_init(&g, C, H, W, k, s, p));
    const int K = C * k * k, P = g.Hout * g.Wout;
    const size_t nx = (size_t)B * C * H * W, nw = (size_t)Cout * K, ny = (size_t)B * Cout * P;
    float *X = test_falloc(nx), *Wt = test_falloc(nw), *b = test_falloc(Cout), *Y = test_falloc(ny), *G = test_falloc(ny);
    float *col = test_falloc((size_t)B * P * K), *Z = test_falloc(ny), *dW = test_falloc(nw), *db = test_falloc(Cout), *dX = test_falloc(nx);
    test_fill_uniform(&rng, X, nx, -1, 1);
    test_fill_uniform(&rng, Wt, nw, -1, 1);
    test_fill_uniform(&rng, b, Cout, -1, 1);
    test_fill_uniform(&rng, G, ny, -1, 1);
    double *Xd = test_dalloc(nx), *Wd = test_dalloc(nw), *bd = test_dalloc(Cout), *Gd = test_dalloc(ny), *ref = test_dalloc(nx + nw + ny);
    test_to_double(X, Xd, nx);
    test_to_double(Wt, Wd, nw);
    test_to_double(b, bd, Cout);
    test_to_double(G, Gd, ny);
    long longest = K;
    if ((long)B * P > longest) longest = (long)B * P;
    if ((long)Cout * k * k > longest) longest = (long)Cout * k * k;
    const double tol = tol_for(longest);
    char what[128], tag[80];
    snprintf(tag, sizeof tag, "B=%d C=%d %dx%d Cout=%d k=%d s=%d p=%d", B, C, H, W, Cout, k, s, p);

    CHECK_OK(cnn_conv2d_forward(be, X, Wt, b, col, Z, Y, B, &g, Cout, false));
    conv_ref(Xd, Wd, bd, ref, B, &g, Cout);
    snprintf(what, sizeof what, "conv2d forward %s", tag);
    CHECK(test_close(what, Y, ref, ny, tol, tol));
    CHECK_OK(cnn_conv2d_forward(be, X, Wt, b, col, Z, Y, B, &g, Cout, true));
    for (size_t i = 0; i < ny; i++) ref[i] = ref[i] > 0 ? ref[i] : 0;
    snprintf(what, sizeof what, "conv2d forward+relu %s", tag);
    CHECK(test_close(what, Y, ref, ny, tol, tol));

    CHECK_OK(cnn_conv2d_forward(be, X, Wt, b, col, Z, Y, B, &g, Cout, false)); // col as the backward pass expects it
    CHECK_OK(cnn_conv2d_backward(be, Wt, G, col, Z, dW, db, dX, B, &g, Cout));
    conv_obj o = {Xd, Wd, bd, Gd, B, Cout, &g};
    TEST_FD_GRAD(Wd, nw, FD_H, ref, conv_objective(&o));
    snprintf(what, sizeof what, "conv2d dW %s", tag);
    CHECK(test_close(what, dW, ref, nw, tol, tol));
    TEST_FD_GRAD(bd, Cout, FD_H, ref, conv_objective(&o));
    snprintf(what, sizeof what, "conv2d db %s", tag);
    CHECK(test_close(what, db, ref, Cout, tol, tol));
    TEST_FD_GRAD(Xd, nx, FD_H, ref, conv_objective(&o));
    snprintf(what, sizeof what, "conv2d dX %s", tag);
    CHECK(test_close(what, dX, ref, nx, tol, tol));

    // dX == NULL (a first layer): dW still right, and col is left as the forward pass wrote it
    CHECK_OK(cnn_conv2d_forward(be, X, Wt, b, col, Z, Y, B, &g, Cout, false));
    memset(dW, 0, nw * sizeof *dW);
    float *col_copy = test_falloc((size_t)B * P * K);
    memcpy(col_copy, col, (size_t)B * P * K * sizeof *col);
    CHECK_OK(cnn_conv2d_backward(be, Wt, G, col, Z, dW, db, NULL, B, &g, Cout));
    TEST_FD_GRAD(Wd, nw, FD_H, ref, conv_objective(&o));
    snprintf(what, sizeof what, "conv2d dW without dX %s", tag);
    CHECK(test_close(what, dW, ref, nw, tol, tol));
    CHECK(memcmp(col_copy, col, (size_t)B * P * K * sizeof *col) == 0);

    free(col_copy);
    free(X), free(Wt), free(b), free(Y), free(G), free(col), free(Z), free(dW), free(db), free(dX);
    free(Xd), free(Wd), free(bd), free(Gd), free(ref);
}

// ---- maxpool ---------------------------------------------------------------------------

typedef struct {
    const double *X, *G;
    int B;
    const cnn_window *g;
} pool_obj;

static double pool_objective(const void *ctx) {
    const pool_obj *o = ctx;
    size_t ny = (size_t)o->B * o->g->C * o->g->Hout * o->g->Wout;
    double *Y = test_dalloc(ny), L = 0;
    maxpool_ref(o->X, Y, o->B, o->g);
    for (size_t i = 0; i < ny; i++) L += o->G[i] * Y[i];
    free(Y);
    return L;
}

static void test_maxpool(int B, int C, int H, int W, int k, int s) {
    cnn_window g;
    CHECK_OK(cnn_window_init(&g, C, H, W, k, s, 0));
    const size_t nx = (size_t)B * C * H * W, ny = (size_t)B * C * g.Hout * g.Wout;
    float *X = test_falloc(nx), *Y = test_falloc(ny), *G = test_falloc(ny), *dX = test_falloc(nx);
    int32_t *am = calloc(ny, sizeof *am);
    double *Xd = test_dalloc(nx), *Gd = test_dalloc(ny), *ref = test_dalloc(nx);
    // distinct values 0.01 apart in random order: no ties, and the finite
    // difference step (1e-5) never changes which element is the maximum
    for (size_t i = 0; i < nx; i++) X[i] = 0.01f * (float)i - 0.005f * (float)nx;
    for (size_t i = nx; i > 1; i--) {
        size_t j = cnn_rng_u64(&rng) % i;
        float t = X[i - 1];
        X[i - 1] = X[j], X[j] = t;
    }
    test_fill_uniform(&rng, G, ny, -1, 1);
    test_to_double(X, Xd, nx);
    test_to_double(G, Gd, ny);
    char what[96], tag[64];
    snprintf(tag, sizeof tag, "B=%d C=%d %dx%d k=%d s=%d", B, C, H, W, k, s);
    CHECK_OK(cnn_maxpool_forward(be, X, Y, am, B, &g));
    maxpool_ref(Xd, ref, B, &g);
    snprintf(what, sizeof what, "maxpool forward %s", tag);
    CHECK(test_close(what, Y, ref, ny, 0, 0));
    for (size_t i = 0; i < ny; i++) { // argmax points at the maximum inside its plane
        size_t plane = i / ((size_t)g.Hout * g.Wout);
        CHECK(am[i] >= 0 && am[i] < H * W && X[plane * H * W + am[i]] == Y[i]);
    }
    memset(dX, 0xff, nx * sizeof *dX); // NaN: the backward pass must overwrite every element
    CHECK_OK(cnn_maxpool_backward(be, G, am, dX, B, &g));
    pool_obj o = {Xd, Gd, B, &g};
    TEST_FD_GRAD(Xd, nx, FD_H, ref, pool_objective(&o));
    snprintf(what, sizeof what, "maxpool dX %s", tag);
    CHECK(test_close(what, dX, ref, nx, 2e-4, 2e-4));
    // ties: the first maximum in row-major order wins
    if (k >= 2) {
        for (size_t i = 0; i < nx; i++) X[i] = 1.0f;
        CHECK_OK(cnn_maxpool_forward(be, X, Y, am, B, &g));
        CHECK(am[0] == 0);
    }
    free(X), free(Y), free(G), free(dX), free(am), free(Xd), free(Gd), free(ref);
}

// ---- whole models ---------------------------------------------------------------------

// A model's loss in double, from a copy of its arena's parameters, walking its layer table.
typedef struct {
    const cnn_model *m;
    double *params;
    const double *X;
    const int32_t *labels;
    int B;
} model_ref;

static double model_ref_loss(const void *ctx) {
    const model_ref *r = ctx;
    const cnn_model *m = r->m;
    double *cur = test_dalloc((size_t)r->B * m->in_dim);
    memcpy(cur, r->X, (size_t)r->B * m->in_dim * sizeof *cur);
    for (int li = 0; li < m->n_layers; li++) {
        const cnn_layer *l = &m->layers[li];
        const double *W = NULL, *b = NULL;
        if (l->kind == CNN_LAYER_LINEAR || l->kind == CNN_LAYER_CONV2D) {
            W = r->params + m->arena.slots[l->w_slot].offset;
            b = r->params + m->arena.slots[l->b_slot].offset;
        }
        double *next = test_dalloc((size_t)r->B * l->out);
        switch (l->kind) {
        case CNN_LAYER_LINEAR: test_linear_ref(cur, W, b, next, r->B, l->in, l->out); break;
        case CNN_LAYER_CONV2D: conv_ref(cur, W, b, next, r->B, &l->win, l->out_c); break;
        case CNN_LAYER_MAXPOOL: maxpool_ref(cur, next, r->B, &l->win); break;
        case CNN_LAYER_RELU:
            for (size_t i = 0; i < (size_t)r->B * l->out; i++) next[i] = cur[i] > 0 ? cur[i] : 0;
            break;
        case CNN_LAYER_FLATTEN: memcpy(next, cur, (size_t)r->B * l->out * sizeof *next); break;
        }
        free(cur);
        cur = next;
    }
    double L = test_xent_ref(cur, r->labels, r->B, m->n_classes);
    free(cur);
    return L;
}

// One training step's gradient (forward, softmax cross-entropy, backward) against finite differences of
// model_ref_loss, for every parameter or, when n_check > 0, for n_check of them drawn at random.
static void check_model_gradient(cnn_model *m, int B, int n_check, double atol, double rtol, const char *what) {
    const int D = m->in_dim, C = m->n_classes;
    CHECK_OK(cnn_model_reserve(m, be, B));
    float *X = test_falloc((size_t)B * D), stats[2] = {0, 0};
    int32_t *labels = calloc(B, sizeof *labels);
    test_fill_uniform(&rng, X, (size_t)B * D, -1, 1);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)(cnn_rng_u64(&rng) % C);
    for (size_t i = 0; i < m->arena.n; i++) // nonzero biases so every gradient path is exercised
        if (m->arena.base[i] == 0) m->arena.base[i] = 0.1f * (float)(cnn_rng_uniform(&rng) - 0.5);
    CHECK_OK(cnn_model_forward(m, be, X, B));
    CHECK_OK(cnn_softmax_xent_backward(be, cnn_model_logits(m), labels, cnn_model_dlogits(m), stats, B, C));
    CHECK_OK(cnn_model_backward(m, be, X, B));

    double *Xd = test_dalloc((size_t)B * D);
    test_to_double(X, Xd, (size_t)B * D);
    model_ref r = {m, test_dalloc(m->arena.n), Xd, labels, B};
    test_to_double(m->arena.base, r.params, m->arena.n);
    double Lref = model_ref_loss(&r);
    if (!(fabs(stats[0] / B - Lref) < 1e-4 * (1 + fabs(Lref)))) {
        fprintf(stderr, "  %s: loss %.9g, reference %.9g\n", what, stats[0] / B, Lref);
        test_failures++;
    }
    const float *grad = m->arena.base + m->arena.n;
    if (n_check <= 0) {
        double *ref = test_dalloc(m->arena.n);
        TEST_FD_GRAD(r.params, m->arena.n, FD_H, ref, model_ref_loss(&r));
        CHECK(test_close(what, grad, ref, m->arena.n, atol, rtol));
        free(ref);
    } else {
        // a sample: the first and last element of every tensor, then random ones
        float *got = test_falloc(n_check);
        double *ref = test_dalloc(n_check);
        for (int c = 0; c < n_check; c++) {
            size_t i;
            int s = c / 2;
            if (s < m->arena.n_slots)
                i = m->arena.slots[s].offset + (c % 2 ? cnn_arena_numel(&m->arena, s) - 1 : 0);
            else
                i = cnn_rng_u64(&rng) % m->arena.n;
            got[c] = grad[i];
            TEST_FD_GRAD(r.params + i, 1, FD_H, ref + c, model_ref_loss(&r));
        }
        CHECK(test_close(what, got, ref, n_check, atol, rtol));
        free(got), free(ref);
    }
    free(X), free(labels), free(Xd), free(r.params);
}

// A small LeNet-like table on (2,9,8) inputs: odd sizes, stride 2 with padding, overlapping pooling, both
// kinds of ReLU (fused after conv2d and linear; separate after maxpool).
static void test_small_cnn_gradient(int B) {
    static const cnn_layer_spec table[] = {
        {.kind = CNN_LAYER_CONV2D, .out = 3, .k = 3, .stride = 2, .pad = 1}, // (3,5,4)
        {.kind = CNN_LAYER_RELU},
        {.kind = CNN_LAYER_MAXPOOL, .k = 3, .stride = 1}, // (3,3,2)
        {.kind = CNN_LAYER_CONV2D, .out = 4, .k = 2, .stride = 1, .pad = 1}, // (4,4,3)
        {.kind = CNN_LAYER_MAXPOOL, .k = 2, .stride = 2}, // (4,2,1)
        {.kind = CNN_LAYER_RELU},
        {.kind = CNN_LAYER_FLATTEN}, // 8
        {.kind = CNN_LAYER_LINEAR, .out = 6},
        {.kind = CNN_LAYER_RELU},
        {.kind = CNN_LAYER_LINEAR, .out = 0},
    };
    cnn_model m;
    CHECK_OK(cnn_model_build(be, "small cnn", 2, 9, 8, table, (int)(sizeof table / sizeof table[0]), 5,
                             CNN_INIT_HE_NORMAL, 11, &m));
    if (test_failures) return;
    CHECK(m.layers[0].out_c == 3 && m.layers[0].out_h == 5 && m.layers[0].out_w == 4);
    CHECK(m.layers[2].out == 3 * 3 * 2 && m.layers[4].out == 8 && m.layers[6].out == 8);
    CHECK(m.layers[1].fused && !m.layers[5].fused && m.layers[6].fused && m.layers[8].fused);
    char what[64];
    snprintf(what, sizeof what, "small cnn gradient B=%d", B);
    // longest sum: conv1's dW, B·20 terms (B <= 2: 40), so n²u <= 1e-4 and 2e-4 holds
    check_model_gradient(&m, B, 0, 2e-4, 2e-4, what);
    cnn_model_free(&m, be);
}

// LeNet itself: shapes, parameter count, and a sample of its gradient.
static void test_lenet(void) {
    cnn_model m;
    CHECK_OK(cnn_model_create(be, "lenet", 1, 28, 28, NULL, 0, 10, 5, &m));
    if (test_failures) return;
    const int outs[] = {6 * 28 * 28, 6 * 28 * 28, 6 * 14 * 14, 16 * 10 * 10, 16 * 10 * 10, 16 * 5 * 5, 400, 120,
                        120,         84,          84,          10};
    CHECK(m.n_layers == 12);
    for (int i = 0; i < m.n_layers && i < 12; i++) CHECK(m.layers[i].out == outs[i]);
    // 6·25+6 + 16·150+16 + 400·120+120 + 120·84+84 + 84·10+10 = 61,706, LeNet-5's well-known count
    CHECK(m.arena.n_params == 61706);
    CHECK(strcmp(m.arena.slots[0].name, "conv1.weight") == 0 && strcmp(m.arena.slots[4].name, "fc1.weight") == 0);
    // Sums up to 400 terms (fc1) with He-scaled weights: float32 rounding stays near 1e-6 relative in practice,
    // far under this tolerance; a wiring error (wrong buffer, shape or order) is off by O(1).
    check_model_gradient(&m, 2, 60, 1e-4, 1e-3, "lenet gradient sample B=2");
    cnn_model_free(&m, be);
}

// Bad tables and geometry fail with a message, never a crash.
static void test_errors(void) {
    cnn_window g;
    CHECK(cnn_window_init(&g, 1, 4, 4, 5, 1, 0) == CNN_ERR_INVALID_ARG); // kernel larger than the input
    CHECK(cnn_window_init(&g, 1, 4, 4, 3, 0, 0) == CNN_ERR_INVALID_ARG); // stride 0
    CHECK(cnn_window_init(&g, 1, 4, 4, 3, 1, 3) == CNN_ERR_INVALID_ARG); // pad >= kernel
    CHECK(cnn_window_init(&g, 0, 4, 4, 3, 1, 0) == CNN_ERR_INVALID_ARG);
    cnn_model m;
    const cnn_layer_spec no_flatten[] = {{.kind = CNN_LAYER_CONV2D, .out = 2, .k = 3, .stride = 1},
                                         {.kind = CNN_LAYER_LINEAR, .out = 0}};
    CHECK(cnn_model_build(NULL, "t", 1, 5, 5, no_flatten, 2, 3, CNN_INIT_HE_NORMAL, 0, &m) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "flatten") != NULL);
    const cnn_layer_spec conv_after_fc[] = {{.kind = CNN_LAYER_LINEAR, .out = 9},
                                            {.kind = CNN_LAYER_CONV2D, .out = 2, .k = 3, .stride = 1},
                                            {.kind = CNN_LAYER_FLATTEN},
                                            {.kind = CNN_LAYER_LINEAR, .out = 0}};
    CHECK(cnn_model_build(NULL, "t", 1, 5, 5, conv_after_fc, 4, 3, CNN_INIT_HE_NORMAL, 0, &m) == CNN_ERR_INVALID_ARG);
    const cnn_layer_spec padded_pool[] = {{.kind = CNN_LAYER_MAXPOOL, .k = 2, .stride = 2, .pad = 1},
                                          {.kind = CNN_LAYER_FLATTEN},
                                          {.kind = CNN_LAYER_LINEAR, .out = 0}};
    CHECK(cnn_model_build(NULL, "t", 1, 5, 5, padded_pool, 3, 3, CNN_INIT_HE_NORMAL, 0, &m) == CNN_ERR_INVALID_ARG);
    const cnn_layer_spec wrong_classes[] = {{.kind = CNN_LAYER_LINEAR, .out = 4}};
    CHECK(cnn_model_build(NULL, "t", 1, 5, 5, wrong_classes, 1, 3, CNN_INIT_HE_NORMAL, 0, &m) == CNN_ERR_INVALID_ARG);
    CHECK(cnn_model_create(be, "resnet", 1, 28, 28, NULL, 0, 10, 1, &m) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "lenet") != NULL);
    // LeNet does not fit 8x8 images: the second 5x5 convolution has no room
    // (its smallest input is 12x12: 12 -> 6 after the first pool -> 2 after
    // the second 5x5 convolution, just the last 2x2 pool), and the message
    // says what the user can do about it.
    CHECK(cnn_model_plan("lenet", 1, 8, 8, NULL, 0, 10, &m) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "at least 12x12, and these are 8x8: use the MLP (--model=mlp) or larger images"));
    CHECK(!strstr(cnn_last_error(), "smaller kernel"));
    CHECK(cnn_model_plan("lenet", 1, 28, 11, NULL, 0, 10, &m) == CNN_ERR_INVALID_ARG);
    CHECK_OK(cnn_model_plan("lenet", 1, 12, 12, NULL, 0, 10, &m));
    // the MLP by name is the table cnn_mlp_table makes
    const int hidden[] = {512};
    CHECK_OK(cnn_model_plan("mlp", 1, 28, 28, hidden, 1, 10, &m));
    CHECK(strcmp(m.desc, "mlp 784-512-10") == 0 && m.n_layers == 3 && m.layers[1].fused && m.arena.n_params == 407050);
}

// The conv ops give the same bits on 1 and 2 threads (each output element is written by one thread).
static void run_ops_once(float *out, size_t *n_out) {
    cnn_rng r;
    cnn_rng_seed(&r, 99);
    cnn_window g, pg;
    CHECK_OK(cnn_window_init(&g, 3, 20, 17, 3, 1, 1));
    CHECK_OK(cnn_window_init(&pg, 4, 20, 17, 3, 2, 0));
    const int B = 8, Cout = 4, K = 27, P = g.Hout * g.Wout;
    size_t nx = (size_t)B * 3 * 20 * 17, ny = (size_t)B * Cout * P, np = (size_t)B * 4 * pg.Hout * pg.Wout;
    float *X = test_falloc(nx), *W = test_falloc((size_t)Cout * K), *b = test_falloc(Cout), *col = test_falloc((size_t)B * P * K);
    float *Z = test_falloc(ny), *Y = test_falloc(ny), *pool = test_falloc(np), *dX = test_falloc(nx), *dW = test_falloc((size_t)Cout * K);
    float *db = test_falloc(Cout), *dY = test_falloc(ny);
    int32_t *am = calloc(np, sizeof *am);
    test_fill_uniform(&r, X, nx, -1, 1);
    test_fill_uniform(&r, W, (size_t)Cout * K, -1, 1);
    test_fill_uniform(&r, b, Cout, -1, 1);
    CHECK_OK(cnn_conv2d_forward(be, X, W, b, col, Z, Y, B, &g, Cout, true));
    CHECK_OK(cnn_maxpool_forward(be, Y, pool, am, B, &pg));
    CHECK_OK(cnn_maxpool_backward(be, pool, am, dY, B, &pg));
    CHECK_OK(cnn_conv2d_backward(be, W, dY, col, Z, dW, db, dX, B, &g, Cout));
    size_t n = 0;
    memcpy(out + n, Y, ny * sizeof *Y), n += ny;
    memcpy(out + n, pool, np * sizeof *pool), n += np;
    memcpy(out + n, dY, ny * sizeof *dY), n += ny;
    memcpy(out + n, dX, nx * sizeof *dX), n += nx;
    memcpy(out + n, dW, (size_t)Cout * K * sizeof *dW), n += (size_t)Cout * K;
    memcpy(out + n, db, Cout * sizeof *db), n += Cout;
    *n_out = n;
    free(X), free(W), free(b), free(col), free(Z), free(Y), free(pool), free(dX), free(dW), free(db), free(dY),
        free(am);
}

static void test_thread_determinism(void) {
    float *one = test_falloc(200000), *two = test_falloc(200000);
    size_t n1 = 0, n2 = 0;
    cnn_backend_destroy(be);
    CHECK_OK(cnn_backend_create("cpu", "naive", 1, 0, &be));
    run_ops_once(one, &n1);
    cnn_backend_destroy(be);
    CHECK_OK(cnn_backend_create("cpu", "naive", 2, 0, &be));
    run_ops_once(two, &n2);
    CHECK(n1 == n2 && n1 < 200000 && memcmp(one, two, n1 * sizeof *one) == 0);
    free(one), free(two);
}

int main(void) {
    cnn_rng_seed(&rng, 2025);
    CHECK_OK(cnn_backend_create("cpu", "naive", 1, 0, &be));
    if (!be) return test_finish("test_conv");
    CHECK(cnn_backend_supports(be, CNN_OP_IM2COL) && cnn_backend_supports(be, CNN_OP_TRANSPOSE) &&
          cnn_backend_supports(be, CNN_OP_MAXPOOL));
    CHECK(strcmp(cnn_op_name(CNN_OP_MAXPOOL), "maxpool") == 0);

    //          B  C  H  W  k  s  p
    test_im2col(1, 1, 5, 5, 3, 1, 0);
    test_im2col(2, 3, 7, 9, 3, 1, 1);
    test_im2col(3, 2, 9, 7, 3, 2, 1);
    test_im2col(2, 2, 8, 8, 5, 2, 2);
    test_im2col(1, 2, 4, 6, 4, 3, 0);
    test_im2col(2, 1, 28, 28, 5, 1, 2); // LeNet's first layer
    test_transpose(1, 1, 1);
    test_transpose(3, 7, 5);
    test_transpose(2, 784, 6);

    //          B  C  H  W Cout k  s  p        longest sum n (tolerance max(2e-4, n²u))
    test_conv2d(1, 1, 5, 5, 1, 3, 1, 0);    // 9
    test_conv2d(2, 3, 7, 5, 4, 3, 1, 1);    // K = 27, B·P = 70: 2.9e-4
    test_conv2d(3, 2, 9, 7, 3, 3, 2, 1);    // stride 2, pad 1, odd: B·P = 60
    test_conv2d(2, 2, 8, 8, 2, 5, 2, 2);    // 5x5, stride 2, pad 2: K = 50
    test_conv2d(2, 3, 6, 5, 2, 1, 1, 0);    // 1x1 kernel
    test_conv2d(1, 2, 4, 6, 3, 4, 3, 0);    // one window position per row and column
    test_conv2d(2, 2, 7, 7, 3, 3, 3, 2);    // stride 3 with pad 2: windows skip pixels

    //           B  C  H  W  k  s
    test_maxpool(1, 1, 4, 4, 2, 2);
    test_maxpool(2, 3, 7, 9, 2, 2); // odd sizes: the last row and column fall outside every window
    test_maxpool(2, 2, 7, 7, 3, 2); // overlapping windows
    test_maxpool(1, 2, 5, 6, 3, 1); // stride 1: each pixel in up to 9 windows
    test_maxpool(2, 1, 5, 5, 1, 1); // 1x1: the identity

    test_small_cnn_gradient(1);
    test_small_cnn_gradient(2);
    test_lenet();
    test_errors();
    // the same with the OpenBLAS GEMM
    cnn_backend_destroy(be);
    CHECK_OK(cnn_backend_create("cpu", "openblas", 2, 0, &be));
    test_conv2d(2, 3, 7, 5, 4, 3, 1, 1);
    test_small_cnn_gradient(2);
    test_thread_determinism();
    cnn_backend_destroy(be);
    return test_finish("test_conv");
}
