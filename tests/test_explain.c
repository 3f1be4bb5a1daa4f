// The GEMMs cnn-train explain lists (models/cost.c) are the GEMMs the layer
// code issues: one training step of each model runs on the CPU backend with
// a recording GEMM (it notes transa, transb, M, N, K, then calls the real
// one), and the recorded calls must equal the listed ones, in order, with
// FLOPs 2·M·N·K each. Then the totals against numbers worked out by hand:
// the 784-512-10 MLP does 1,636,352 GEMM FLOPs per example and step
// (≈ 1.64 MFLOP), LeNet-5 2,263,920.
#include <string.h>

#include "layers/layers.h"
#include "models/cost.h"
#include "models/model.h"
#include "test_util.h"

typedef struct {
    bool ta, tb;
    int M, N, K;
} gemm_call;

static gemm_call calls[256];
static int n_calls;
static const cnn_gemm_variant *real_gemm;

static cnn_status recording_gemm(cnn_backend *be, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                                 int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (n_calls < (int)(sizeof calls / sizeof calls[0])) calls[n_calls++] = (gemm_call){ta, tb, M, N, K};
    return real_gemm->fn(be, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static const cnn_gemm_variant recorder = {"recorder", recording_gemm, "notes each call, then runs openblas",
                                           CNN_PRECISION_FP32};

// Runs one training step (or, with forward_only, one evaluation batch) of m at batch B and compares.
static void check_model(cnn_backend *be, cnn_model *m, int B, bool forward_only) {
    char what[160];
    snprintf(what, sizeof what, "%s, B=%d, %s", m->desc, B, forward_only ? "evaluation" : "training step");
    cnn_cost c;
    CHECK_OK(cnn_model_cost(m, B, forward_only, &c));
    CHECK_OK(cnn_model_reserve(m, be, B));
    float *X = calloc((size_t)B * m->in_dim, sizeof *X), stats[2] = {0, 0};
    int32_t *y = calloc(B, sizeof *y);
    cnn_rng rng;
    cnn_rng_seed(&rng, 3);
    test_fill_uniform(&rng, X, (size_t)B * m->in_dim, -1, 1);
    n_calls = 0;
    be->gemm = &recorder;
    CHECK_OK(cnn_model_forward(m, be, X, B));
    if (forward_only) {
        CHECK_OK(cnn_softmax_xent_forward(be, cnn_model_logits(m), y, stats, B, m->n_classes));
    } else {
        CHECK_OK(cnn_softmax_xent_backward(be, cnn_model_logits(m), y, cnn_model_dlogits(m), stats, B, m->n_classes));
        CHECK_OK(cnn_model_backward(m, be, X, B));
    }
    be->gemm = real_gemm;

    int listed = 0;
    double flops = 0;
    for (int i = 0; i < c.n_ops; i++) {
        const cnn_cost_op *op = &c.ops[i];
        if (!op->gemm) continue;
        const gemm_call *g = listed < n_calls ? &calls[listed] : NULL;
        if (!g || g->ta != op->ta || g->tb != op->tb || g->M != op->M || g->N != op->N || g->K != op->K) {
            fprintf(stderr, "  %s: GEMM %d is listed as %c%c %dx%dx%d (%s) but the code %s", what, listed + 1,
                    op->ta ? 'T' : 'N', op->tb ? 'T' : 'N', op->M, op->N, op->K, op->eq,
                    g ? "called " : "made no more calls\n");
            if (g) fprintf(stderr, "%c%c %dx%dx%d\n", g->ta ? 'T' : 'N', g->tb ? 'T' : 'N', g->M, g->N, g->K);
            test_failures++;
        }
        CHECK(op->flops == 2.0 * op->M * op->N * op->K);
        CHECK(op->bytes == 4.0 * ((double)op->M * op->K + (double)op->K * op->N + (double)op->M * op->N));
        flops += op->flops;
        listed++;
    }
    if (listed != n_calls) {
        fprintf(stderr, "  %s: %d GEMMs listed, %d called\n", what, listed, n_calls);
        test_failures++;
    }
    CHECK(flops == c.gemm_flops && c.gemm_flops <= c.flops);
    free(X), free(y);
}

int main(void) {
    cnn_backend *be = NULL;
    CHECK_OK(cnn_backend_create("cpu", "openblas", 2, 0, &be));
    if (!be) return test_finish("test_explain");
    real_gemm = be->gemm;

    // the MLP: 2·(784·512 + 512·10) forward, the same for dW, 2·10·512 for fc2's dX (fc1 needs none)
    const int hidden[] = {512}, deep[] = {64, 32, 16};
    cnn_model m;
    CHECK_OK(cnn_model_create(be, "mlp", 1, 28, 28, hidden, 1, 10, 1, &m));
    const double mlp_per_example = 2.0 * 2 * (784 * 512 + 512 * 10) + 2.0 * 10 * 512;
    CHECK(mlp_per_example == 1636352.0);
    const int Bs[] = {64, 3, 1};
    for (int i = 0; i < 3; i++) {
        check_model(be, &m, Bs[i], false);
        cnn_cost c;
        CHECK_OK(cnn_model_cost(&m, Bs[i], false, &c));
        CHECK(c.gemm_flops == mlp_per_example * Bs[i]);
    }
    check_model(be, &m, 7, true);
    cnn_model_free(&m, be);
    CHECK_OK(cnn_model_create(be, "mlp", 1, 28, 28, deep, 3, 10, 1, &m));
    check_model(be, &m, 5, false);
    cnn_model_free(&m, be);

    // LeNet: forward GEMMs per example 2·(784·6·25 + 100·16·150 + 400·120 + 120·84 + 84·10) = 833,040;
    // the filter gradients the same again; the input gradients all but conv1's: 597,840
    CHECK_OK(cnn_model_create(be, "lenet", 1, 28, 28, NULL, 0, 10, 1, &m));
    const double fwd = 2.0 * (784 * 6 * 25 + 100 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
    const double lenet_per_example = 2 * fwd + (fwd - 2.0 * 784 * 6 * 25);
    CHECK(lenet_per_example == 2263920.0);
    for (int i = 0; i < 3; i++) {
        check_model(be, &m, Bs[i], false);
        cnn_cost c;
        CHECK_OK(cnn_model_cost(&m, Bs[i], false, &c));
        CHECK(c.gemm_flops == lenet_per_example * Bs[i]);
        // convolution as GEMM: nearly all the arithmetic is in GEMMs (at B = 1 the SGD update weighs 14%)
        if (Bs[i] >= 64) CHECK(c.gemm_flops / c.flops > 0.95);
    }
    check_model(be, &m, 9, true);
    cnn_cost c;
    CHECK_OK(cnn_model_cost(&m, 4, true, &c));
    CHECK(c.gemm_flops == fwd * 4);
    cnn_model_free(&m, be);
    cnn_backend_destroy(be);
    return test_finish("test_explain");
}
