// Training steps of the 784-512-10 MLP through the model API on any backend,
// the way models/train.c runs them (gather → forward → fused softmax
// cross-entropy and gradient → backward → one SGD call over the arena), on
// a synthetic uint8 dataset of MLP_N examples (enough for 32 steps without
// wrapping): for the CUDA step-parity and determinism tests.
#ifndef CNN_TEST_CUDA_MLP_H
#define CNN_TEST_CUDA_MLP_H

#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/rng.h"
#include "layers/layers.h"
#include "models/model.h"
#include "test_util.h"

enum { MLP_D = 784, MLP_HIDDEN = 512, MLP_CLASSES = 10, MLP_N = 4096, MLP_BATCH = 128 };

typedef struct {
    uint8_t images[MLP_N * MLP_D];
    uint8_t labels[MLP_N];
} mlp_data;

// Digit-like data: each class brightens its own band of pixels, plus noise.
static inline void mlp_data_make(mlp_data *d, uint64_t seed) {
    cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    for (int i = 0; i < MLP_N; i++) {
        const int label = (int)(cnn_rng_u64(&rng) % MLP_CLASSES);
        d->labels[i] = (uint8_t)label;
        for (int p = 0; p < MLP_D; p++) {
            int v = (int)(cnn_rng_u64(&rng) % 96);
            if (p / (MLP_D / MLP_CLASSES) == label) v += 150;
            d->images[(size_t)i * MLP_D + p] = (uint8_t)v;
        }
    }
}

typedef struct {
    float *arena;   // 3 * n floats: params | grads | momentum, after the steps
    size_t n;       // floats per arena section
    float *arena0;  // the params before the first step (n floats)
    float stats[2]; // training loss sum and hits over all steps
} mlp_result;

static inline void mlp_result_free(mlp_result *r) {
    free(r->arena);
    free(r->arena0);
    memset(r, 0, sizeof *r);
}

// The training step models/train.c runs (gather → forward → fused softmax
// cross-entropy and gradient → backward → one SGD call over the arena, lr
// 0.05, momentum 0.9, weight decay 5e-4), `steps` times; with use_graph on
// a backend that has capture_begin, the first step is captured and every
// step is a graph replay. All pointers are the backend's.
static inline cnn_status test_train_steps(cnn_backend *be, cnn_model *m, const uint8_t *images, const uint8_t *labels,
                                          int D, cnn_batch_cursor *cursor, float *X, int32_t *y, float *stats, int B,
                                          float scale, float shift, int steps, bool use_graph) {
    const bool graph = use_graph && be->ops->capture_begin != NULL;
    void *g = NULL;
    cnn_status st = CNN_OK;
    for (int s = 0; s < steps && st == CNN_OK; s++) {
        if (graph && g) {
            st = be->ops->graph_launch(be, g);
            continue;
        }
        if (graph) {
            st = be->ops->capture_begin(be);
            if (st != CNN_OK) break;
        }
        st = be->ops->gather(be, images, labels, cursor, X, y, B, D, scale, shift, true);
        if (st == CNN_OK) st = cnn_model_forward(m, be, X, B);
        if (st == CNN_OK)
            st = cnn_softmax_xent_backward(be, cnn_model_logits(m), y, cnn_model_dlogits(m), stats, B, m->n_classes);
        if (st == CNN_OK) st = cnn_model_backward(m, be, X, B);
        if (st == CNN_OK) st = cnn_sgd_step(be, &m->arena, 0.05f, 0.9f, 5e-4f);
        if (graph) {
            cnn_status end = be->ops->capture_end(be, &g);
            if (st == CNN_OK) st = end;
            if (st == CNN_OK) st = be->ops->graph_launch(be, g); // the captured step was recorded, not run
        }
    }
    if (g) be->ops->graph_destroy(be, g);
    return st;
}

// Runs `steps` SGD steps (lr 0.05, momentum 0.9, weight decay 5e-4) from
// the model initialised with seed 7, with the shuffle key given; with
// use_graph on a backend that has capture_begin, the first step is captured
// and every step is a graph replay. Returns CNN_OK or the first failure.
static inline cnn_status mlp_run(cnn_backend *be, const mlp_data *data, int steps, bool use_graph, uint64_t shuffle_key,
                                 mlp_result *out) {
    memset(out, 0, sizeof *out);
    const int hidden[1] = {MLP_HIDDEN};
    const int B = MLP_BATCH;
    cnn_model m;
    CNN_TRY(cnn_model_create(be, "mlp", MLP_D, 1, 1, hidden, 1, MLP_CLASSES, 7, &m));
    CNN_TRY(cnn_model_reserve(&m, be, B));
    void *images, *labels, *X, *y, *stats, *cursor;
    CNN_TRY(be->ops->alloc(be, sizeof data->images, &images));
    CNN_TRY(be->ops->alloc(be, sizeof data->labels, &labels));
    CNN_TRY(be->ops->alloc(be, (size_t)B * MLP_D * sizeof(float), &X));
    CNN_TRY(be->ops->alloc(be, (size_t)B * sizeof(int32_t), &y));
    CNN_TRY(be->ops->alloc(be, 2 * sizeof(float), &stats));
    CNN_TRY(be->ops->alloc(be, sizeof(cnn_batch_cursor), &cursor));
    CNN_TRY(be->ops->upload(be, data->images, images, sizeof data->images));
    CNN_TRY(be->ops->upload(be, data->labels, labels, sizeof data->labels));
    cnn_batch_cursor cur = {cnn_perm_make(MLP_N, shuffle_key), 0, 0};
    CNN_TRY(be->ops->upload(be, &cur, cursor, sizeof cur));
    out->n = m.arena.n;
    out->arena0 = malloc(out->n * sizeof(float));
    out->arena = malloc(3 * out->n * sizeof(float));
    if (!out->arena0 || !out->arena) return cnn_error(CNN_ERR_NOMEM, "test: out of memory");
    CNN_TRY(be->ops->download(be, m.arena.base, out->arena0, out->n * sizeof(float)));
    const float scale = 1.0f / (255.0f * 0.3081f), shift = -0.1307f / 0.3081f;
    CNN_TRY(test_train_steps(be, &m, (const uint8_t *)images, (const uint8_t *)labels, MLP_D,
                             (cnn_batch_cursor *)cursor, (float *)X, (int32_t *)y, (float *)stats, B, scale, shift,
                             steps, use_graph));
    CNN_TRY(be->ops->download(be, m.arena.base, out->arena, 3 * out->n * sizeof(float)));
    CNN_TRY(be->ops->download(be, stats, out->stats, sizeof out->stats));
    void *bufs[] = {images, labels, X, y, stats, cursor};
    for (int i = 0; i < 6; i++) be->ops->free(be, bufs[i]);
    cnn_model_free(&m, be);
    return CNN_OK;
}

#endif
