// The multi-layer perceptron: linear → ReLU → ... → linear.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "layers/layers.h"
#include "models/model.h"

static cnn_status add_linear(cnn_model *m, int in, int out) {
    if (m->n_layers >= CNN_MAX_LAYERS) return cnn_error(CNN_ERR_INVALID_ARG, "too many layers");
    int index = 0;
    for (int i = 0; i < m->n_layers; i++) index += m->layers[i].kind == CNN_LAYER_LINEAR;
    cnn_layer *l = &m->layers[m->n_layers++];
    memset(l, 0, sizeof *l);
    l->kind = CNN_LAYER_LINEAR;
    l->in = in;
    l->out = out;
    char name[32];
    snprintf(name, sizeof name, "fc%d.weight", index + 1);
    CNN_TRY(cnn_arena_add(&m->arena, name, out, in, &l->w_slot));
    snprintf(name, sizeof name, "fc%d.bias", index + 1);
    return cnn_arena_add(&m->arena, name, 1, out, &l->b_slot);
}

static cnn_status add_relu(cnn_model *m, int features) {
    if (m->n_layers >= CNN_MAX_LAYERS) return cnn_error(CNN_ERR_INVALID_ARG, "too many layers");
    cnn_layer *l = &m->layers[m->n_layers++];
    memset(l, 0, sizeof *l);
    l->kind = CNN_LAYER_RELU;
    l->in = l->out = features;
    l->fused = m->n_layers >= 2 && m->layers[m->n_layers - 2].kind == CNN_LAYER_LINEAR;
    return CNN_OK;
}

// He-normal weights, zero biases, drawn on the host in layer order and uploaded in one copy.
static cnn_status init_params(cnn_model *m, cnn_backend *be, uint64_t seed) {
    float *host = calloc(m->arena.n, sizeof *host);
    if (!host) return cnn_error(CNN_ERR_NOMEM, "out of memory initialising parameters");
    cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    for (int i = 0; i < m->n_layers; i++) {
        const cnn_layer *l = &m->layers[i];
        if (l->kind == CNN_LAYER_LINEAR) he_normal_init(&rng, host + m->arena.slots[l->w_slot].offset, l->out, l->in);
    }
    cnn_status s = be->upload(be, m->arena.base, host, m->arena.n * sizeof *host);
    free(host);
    return s;
}

cnn_status cnn_mlp_create(cnn_backend *be, int in_dim, const int *hidden, int n_hidden, int n_classes,
                          uint64_t seed, cnn_model *m) {
    memset(m, 0, sizeof *m);
    if (in_dim < 1 || n_classes < 2) return cnn_error(CNN_ERR_INVALID_ARG, "mlp: bad input or class count");
    if (n_hidden < 0 || n_hidden > CNN_MAX_HIDDEN)
        return cnn_error(CNN_ERR_INVALID_ARG, "--hidden takes 0 to %d layer sizes, got %d", CNN_MAX_HIDDEN, n_hidden);
    m->in_dim = in_dim;
    m->n_classes = n_classes;
    int len = snprintf(m->desc, sizeof m->desc, "mlp %d", in_dim);
    int prev = in_dim;
    for (int i = 0; i < n_hidden; i++) {
        if (hidden[i] < 1 || hidden[i] > 65536)
            return cnn_error(CNN_ERR_INVALID_ARG, "--hidden: layer size %d is outside [1, 65536]", hidden[i]);
        CNN_TRY(add_linear(m, prev, hidden[i]));
        CNN_TRY(add_relu(m, hidden[i]));
        prev = hidden[i];
        if (len < (int)sizeof m->desc) len += snprintf(m->desc + len, sizeof m->desc - len, "-%d", hidden[i]);
    }
    CNN_TRY(add_linear(m, prev, n_classes));
    if (len < (int)sizeof m->desc) snprintf(m->desc + len, sizeof m->desc - len, "-%d", n_classes);
    CNN_TRY(cnn_arena_alloc(&m->arena, be));
    cnn_status s = init_params(m, be, seed);
    if (s != CNN_OK) cnn_model_free(m, be);
    return s;
}
