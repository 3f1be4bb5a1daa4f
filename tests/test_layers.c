// Every layer's forward against a double-precision reference and its backward
// against central finite differences of that reference, on the CPU backend.
//
// Tolerances: inputs and weights are O(1) and the longest sum has K <= 33
// terms, so a float32 result differs from the exact one by at most about
// K·u·Σ|terms| ≈ 33 · 6e-8 · 33 ≈ 7e-5 (u = 2^-24). The finite differences
// are taken in double with h = 1e-5: truncation O(h²) ≈ 1e-10, rounding
// ≈ 1e-16/h ≈ 1e-11. Hence atol = rtol = 2e-4 for forward and backward; a
// wrong gradient (a missing term, a transposed operand, a factor of 2) is off
// by O(0.1) or more and fails.
#include <math.h>
#include <string.h>

#include "layers/layers.h"
#include "models/model.h"
#include "test_util.h"

#define TOL 2e-4
#define FD_H 1e-5

static cnn_backend *be;
static cnn_rng rng;

// L = Σ G ⊙ linear(X, W, b): the upstream gradient G makes dL/dY = G.
static double linear_objective(const double *X, const double *W, const double *b, const double *G, int B, int in,
                               int out) {
    double *Y = test_dalloc((size_t)B * out), L = 0.0;
    test_linear_ref(X, W, b, Y, B, in, out);
    for (int i = 0; i < B * out; i++) L += G[i] * Y[i];
    free(Y);
    return L;
}

static void test_linear(int B, int in, int out) {
    size_t nx = (size_t)B * in, nw = (size_t)out * in, ny = (size_t)B * out;
    float *X = test_falloc(nx), *W = test_falloc(nw), *b = test_falloc(out), *Y = test_falloc(ny), *G = test_falloc(ny);
    float *dW = test_falloc(nw), *db = test_falloc(out), *dX = test_falloc(nx);
    test_fill_uniform(&rng, X, nx, -1, 1);
    test_fill_uniform(&rng, W, nw, -1, 1);
    test_fill_uniform(&rng, b, out, -1, 1);
    test_fill_uniform(&rng, G, ny, -1, 1);
    double *Xd = test_dalloc(nx), *Wd = test_dalloc(nw), *bd = test_dalloc(out), *Gd = test_dalloc(ny), *ref = test_dalloc(nx + nw + ny);
    test_to_double(X, Xd, nx);
    test_to_double(W, Wd, nw);
    test_to_double(b, bd, out);
    test_to_double(G, Gd, ny);
    char what[96];

    CHECK_OK(cnn_linear_forward(be, X, W, b, Y, B, in, out, false));
    test_linear_ref(Xd, Wd, bd, ref, B, in, out);
    snprintf(what, sizeof what, "linear_forward B=%d in=%d out=%d", B, in, out);
    CHECK(test_close(what, Y, ref, ny, TOL, TOL));

    // fused bias + ReLU: max(reference, 0)
    CHECK_OK(cnn_linear_forward(be, X, W, b, Y, B, in, out, true));
    for (size_t i = 0; i < ny; i++) ref[i] = ref[i] > 0 ? ref[i] : 0;
    snprintf(what, sizeof what, "linear_forward+relu B=%d in=%d out=%d", B, in, out);
    CHECK(test_close(what, Y, ref, ny, TOL, TOL));

    CHECK_OK(cnn_linear_backward(be, X, W, G, dW, db, dX, B, in, out));
    TEST_FD_GRAD(Wd, nw, FD_H, ref, linear_objective(Xd, Wd, bd, Gd, B, in, out));
    snprintf(what, sizeof what, "linear dW B=%d in=%d out=%d", B, in, out);
    CHECK(test_close(what, dW, ref, nw, TOL, TOL));
    TEST_FD_GRAD(bd, out, FD_H, ref, linear_objective(Xd, Wd, bd, Gd, B, in, out));
    snprintf(what, sizeof what, "linear db B=%d in=%d out=%d", B, in, out);
    CHECK(test_close(what, db, ref, out, TOL, TOL));
    TEST_FD_GRAD(Xd, nx, FD_H, ref, linear_objective(Xd, Wd, bd, Gd, B, in, out));
    snprintf(what, sizeof what, "linear dX B=%d in=%d out=%d", B, in, out);
    CHECK(test_close(what, dX, ref, nx, TOL, TOL));

    // dX == NULL (first layer) still gives dW and db, and writes nothing else
    memset(dW, 0, nw * sizeof *dW);
    CHECK_OK(cnn_linear_backward(be, X, W, G, dW, db, NULL, B, in, out));
    TEST_FD_GRAD(Wd, nw, FD_H, ref, linear_objective(Xd, Wd, bd, Gd, B, in, out));
    CHECK(test_close("linear dW without dX", dW, ref, nw, TOL, TOL));

    free(X), free(W), free(b), free(Y), free(G), free(dW), free(db), free(dX);
    free(Xd), free(Wd), free(bd), free(Gd), free(ref);
}

static double relu_objective(const double *X, const double *G, size_t n) {
    double L = 0;
    for (size_t i = 0; i < n; i++) L += G[i] * (X[i] > 0 ? X[i] : 0);
    return L;
}

static void test_relu(size_t n) {
    float *X = test_falloc(n), *Y = test_falloc(n), *G = test_falloc(n), *dX = test_falloc(n);
    double *Xd = test_dalloc(n), *Gd = test_dalloc(n), *ref = test_dalloc(n);
    for (size_t i = 0; i < n; i++) { // keep |x| >= 0.01 so the finite difference never straddles the kink
        float v = (float)cnn_rng_uniform(&rng) * 0.99f + 0.01f;
        X[i] = (cnn_rng_u64(&rng) & 1) ? v : -v;
    }
    test_fill_uniform(&rng, G, n, -1, 1);
    test_to_double(X, Xd, n);
    test_to_double(G, Gd, n);
    CHECK_OK(cnn_relu_forward(be, X, Y, n));
    for (size_t i = 0; i < n; i++) ref[i] = Xd[i] > 0 ? Xd[i] : 0;
    CHECK(test_close("relu_forward", Y, ref, n, 0, 0));
    CHECK_OK(cnn_relu_backward(be, Y, G, dX, n));
    TEST_FD_GRAD(Xd, n, FD_H, ref, relu_objective(Xd, Gd, n));
    CHECK(test_close("relu_backward", dX, ref, n, TOL, TOL));
    // in place (dX == dY), as the model uses it
    memcpy(dX, G, n * sizeof *dX);
    CHECK_OK(cnn_relu_backward(be, Y, dX, dX, n));
    CHECK(test_close("relu_backward in place", dX, ref, n, TOL, TOL));
    free(X), free(Y), free(G), free(dX), free(Xd), free(Gd), free(ref);
}


static void test_softmax_xent(int B, int C) {
    size_t n = (size_t)B * C;
    float *Z = test_falloc(n), *dZ = test_falloc(n), stats[2] = {0, 0};
    int32_t *labels = calloc(B, sizeof *labels);
    double *Zd = test_dalloc(n), *ref = test_dalloc(n);
    test_fill_uniform(&rng, Z, n, -4, 4);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)(cnn_rng_u64(&rng) % C);
    test_to_double(Z, Zd, n);
    CHECK_OK(cnn_softmax_xent_backward(be, Z, labels, dZ, stats, B, C));
    double Lref = test_xent_ref(Zd, labels, B, C);
    double loss = stats[0] / B;
    if (fabs(loss - Lref) > TOL * (1 + fabs(Lref))) {
        fprintf(stderr, "  softmax_xent loss B=%d C=%d: got %.9g want %.9g\n", B, C, loss, Lref);
        test_failures++;
    }
    int correct = 0;
    for (int i = 0; i < B; i++) {
        int am = 0;
        for (int c = 1; c < C; c++)
            if (Z[i * C + c] > Z[i * C + am]) am = c;
        correct += am == labels[i];
    }
    CHECK(stats[1] == (float)correct);
    TEST_FD_GRAD(Zd, n, FD_H, ref, test_xent_ref(Zd, labels, B, C));
    char what[64];
    snprintf(what, sizeof what, "softmax_xent dlogits B=%d C=%d", B, C);
    CHECK(test_close(what, dZ, ref, n, TOL, TOL));
    // forward only: accumulates without writing a gradient
    float stats2[2] = {1.0f, 2.0f};
    CHECK_OK(cnn_softmax_xent_forward(be, Z, labels, stats2, B, C));
    CHECK(fabs(stats2[0] - 1.0f - stats[0]) <= 1e-5 * (1 + fabs(stats[0])) && stats2[1] == 2.0f + stats[1]);
    // an out-of-range label is an error, not a wild read
    labels[0] = C;
    CHECK(cnn_softmax_xent_forward(be, Z, labels, stats2, B, C) == CNN_ERR_INVALID_ARG);
    free(Z), free(dZ), free(labels), free(Zd), free(ref);
}

// Mean over all B·C elements of (P - T)².
static double mse_ref(const double *P, const double *T, int B, int C) {
    double L = 0;
    for (int i = 0; i < B * C; i++) L += (P[i] - T[i]) * (P[i] - T[i]);
    return L / (B * C);
}

static void test_mse(int B, int C) {
    size_t n = (size_t)B * C;
    float *P = test_falloc(n), *T = test_falloc(n), *dP = test_falloc(n), stats[2] = {0, 0};
    double *Pd = test_dalloc(n), *Td = test_dalloc(n), *ref = test_dalloc(n);
    test_fill_uniform(&rng, P, n, -2, 2);
    test_fill_uniform(&rng, T, n, -2, 2);
    test_to_double(P, Pd, n);
    test_to_double(T, Td, n);
    CHECK_OK(cnn_mse_backward(be, P, T, dP, stats, B, C));
    double Lref = mse_ref(Pd, Td, B, C);
    CHECK(fabs(stats[0] / B - Lref) <= TOL * (1 + Lref));
    TEST_FD_GRAD(Pd, n, FD_H, ref, mse_ref(Pd, Td, B, C));
    char what[64];
    snprintf(what, sizeof what, "mse dpred B=%d C=%d", B, C);
    CHECK(test_close(what, dP, ref, n, TOL, TOL));
    free(P), free(T), free(dP), free(Pd), free(Td), free(ref);
}

static void test_sgd(void) {
    // Three steps of SGD with momentum and weight decay against the formula in double.
    cnn_arena a = {0};
    int s1, s2;
    CHECK_OK(cnn_arena_add(&a, "w", 3, 7, &s1));
    CHECK_OK(cnn_arena_add(&a, "b", 1, 5, &s2));
    CHECK_OK(cnn_arena_alloc(&a, be));
    const float lr = 0.1f, mom = 0.9f, wd = 0.01f;
    size_t n = a.n;
    double *w = test_dalloc(n), *v = test_dalloc(n), *want = test_dalloc(n);
    test_fill_uniform(&rng, a.base, n, -1, 1);
    test_to_double(a.base, w, n);
    for (int step = 0; step < 3; step++) {
        test_fill_uniform(&rng, a.base + n, n, -1, 1); // fresh gradients
        for (size_t i = 0; i < n; i++) {
            double g = a.base[n + i] + (double)wd * w[i];
            v[i] = mom * v[i] + g;
            w[i] -= lr * v[i];
        }
        CHECK_OK(cnn_sgd_step(be, &a, lr, mom, wd));
    }
    CHECK(test_close("sgd params after 3 steps", a.base, w, n, 1e-6, 1e-5));
    CHECK(test_close("sgd momentum after 3 steps", a.base + 2 * n, v, n, 1e-6, 1e-5));
    (void)want;
    free(w), free(v), free(want);
    cnn_arena_free(&a, be);
}

static void test_he_init(void) {
    const int out = 512, in = 784;
    float *W = test_falloc((size_t)out * in);
    cnn_he_normal_init(&rng, W, out, in);
    double sum = 0, sq = 0;
    size_t n = (size_t)out * in;
    for (size_t i = 0; i < n; i++) sum += W[i], sq += (double)W[i] * W[i];
    double mean = sum / n, std = sqrt(sq / n - mean * mean), want = sqrt(2.0 / in);
    // 401,408 samples: the sample std is within 0.5% of the true one with overwhelming probability
    CHECK(fabs(std / want - 1) < 0.005);
    CHECK(fabs(mean) < 5 * want / sqrt((double)n));
    free(W);
}

// A whole MLP (in → hidden... → C) with softmax cross-entropy, in double, from the arena's parameters.
typedef struct {
    const cnn_model *m;
    double *params; // a copy of the arena's params section
    const double *X;
    const int32_t *labels;
    int B;
} mlp_ref;

static double mlp_ref_loss(const mlp_ref *r) {
    const cnn_model *m = r->m;
    int width = m->in_dim;
    double *cur = test_dalloc((size_t)r->B * width);
    memcpy(cur, r->X, (size_t)r->B * width * sizeof *cur);
    for (int li = 0; li < m->n_layers; li++) {
        const cnn_layer *l = &m->layers[li];
        if (l->kind == CNN_LAYER_RELU) {
            for (int i = 0; i < r->B * width; i++) cur[i] = cur[i] > 0 ? cur[i] : 0;
            continue;
        }
        double *next = test_dalloc((size_t)r->B * l->out);
        test_linear_ref(cur, r->params + m->arena.slots[l->w_slot].offset, r->params + m->arena.slots[l->b_slot].offset,
                   next, r->B, l->in, l->out);
        free(cur);
        cur = next;
        width = l->out;
    }
    double L = test_xent_ref(cur, r->labels, r->B, m->n_classes);
    free(cur);
    return L;
}

static void test_mlp_gradient(int B, const int *hidden, int n_hidden) {
    cnn_model m;
    const int in = 9, C = 4;
    CHECK_OK(cnn_model_create(be, "mlp", in, 1, 1, hidden, n_hidden, C, 42, &m));
    CHECK_OK(cnn_model_reserve(&m, be, B));
    float *X = test_falloc((size_t)B * in), stats[2] = {0, 0};
    int32_t *labels = calloc(B, sizeof *labels);
    test_fill_uniform(&rng, X, (size_t)B * in, -1, 1);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)(cnn_rng_u64(&rng) % C);
    for (size_t i = 0; i < m.arena.n; i++) // nonzero biases so every gradient path is exercised
        if (m.arena.base[i] == 0) m.arena.base[i] = 0.1f * (float)(cnn_rng_uniform(&rng) - 0.5);
    CHECK_OK(cnn_model_forward(&m, be, X, B));
    CHECK_OK(cnn_softmax_xent_backward(be, cnn_model_logits(&m), labels, cnn_model_dlogits(&m), stats, B, C));
    CHECK_OK(cnn_model_backward(&m, be, X, B));

    double *Xd = test_dalloc((size_t)B * in), *ref = test_dalloc(m.arena.n);
    test_to_double(X, Xd, (size_t)B * in);
    mlp_ref r = {&m, test_dalloc(m.arena.n), Xd, labels, B};
    test_to_double(m.arena.base, r.params, m.arena.n);
    CHECK(fabs(stats[0] / B - mlp_ref_loss(&r)) < TOL);
    TEST_FD_GRAD(r.params, m.arena.n, FD_H, ref, mlp_ref_loss(&r));
    char what[64];
    snprintf(what, sizeof what, "mlp gradient B=%d, %d hidden layer(s)", B, n_hidden);
    CHECK(test_close(what, m.arena.base + m.arena.n, ref, m.arena.n, TOL, TOL));
    free(X), free(labels), free(Xd), free(ref), free(r.params);
    cnn_model_free(&m, be);
}

int main(void) {
    cnn_rng_seed(&rng, 2024);
    CHECK_OK(cnn_backend_create("cpu", "naive", 1, 0, &be));
    if (!be) return test_finish("test_layers");
    const int Bs[] = {1, 3, 17}, ins[] = {1, 7, 33}, outs[] = {1, 5, 10};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) test_linear(Bs[i], ins[j], outs[k]);
    test_relu(1);
    test_relu(1000);
    test_softmax_xent(1, 2);
    test_softmax_xent(5, 10);
    test_softmax_xent(17, 3);
    test_mse(1, 1);
    test_mse(6, 10);
    test_sgd();
    test_he_init();
    const int h1[] = {6}, h2[] = {6, 5};
    test_mlp_gradient(1, h1, 1);
    test_mlp_gradient(5, h2, 2);
    test_mlp_gradient(3, NULL, 0);
    // the same layers with the OpenBLAS GEMM
    cnn_backend_destroy(be);
    CHECK_OK(cnn_backend_create("cpu", "openblas", 2, 0, &be));
    test_linear(17, 33, 10);
    test_mlp_gradient(5, h2, 2);
    cnn_backend_destroy(be);
    return test_finish("test_layers");
}
