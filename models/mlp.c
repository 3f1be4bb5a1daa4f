// The multi-layer perceptron: linear → ReLU → ... → linear, as a model table
// made from the hidden layer sizes (--hidden).
#include <stdio.h>
#include <string.h>

#include "core/mlp_step.h"
#include "models/model.h"

cnn_status cnn_mlp_table(int in_dim, const int *hidden, int n_hidden, int n_classes, cnn_layer_spec *specs, int *n,
                         char *desc, size_t desc_size) {
    if (in_dim < 1 || n_classes < 2) return cnn_error(CNN_ERR_INVALID_ARG, "mlp: bad input or class count");
    if (n_hidden < 0 || n_hidden > CNN_MAX_HIDDEN)
        return cnn_error(CNN_ERR_INVALID_ARG, "--hidden takes 0 to %d layer sizes, got %d", CNN_MAX_HIDDEN, n_hidden);
    int len = snprintf(desc, desc_size, "mlp %d", in_dim);
    *n = 0;
    for (int i = 0; i < n_hidden; i++) {
        if (hidden[i] < 1 || hidden[i] > 65536)
            return cnn_error(CNN_ERR_INVALID_ARG, "--hidden: layer size %d is outside [1, 65536]", hidden[i]);
        specs[(*n)++] = (cnn_layer_spec){.kind = CNN_LAYER_LINEAR, .out = hidden[i]};
        specs[(*n)++] = (cnn_layer_spec){.kind = CNN_LAYER_RELU};
        if (len < (int)desc_size) len += snprintf(desc + len, desc_size - len, "-%d", hidden[i]);
    }
    specs[(*n)++] = (cnn_layer_spec){.kind = CNN_LAYER_LINEAR, .out = n_classes};
    if (len < (int)desc_size) snprintf(desc + len, desc_size - len, "-%d", n_classes);
    return CNN_OK;
}

// ---- the fused training step's view of an MLP ------------------------------------

bool cnn_mlp_fusable(const cnn_model *m, char *why, size_t why_len) {
    int n_linear = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const cnn_layer *l = &m->layers[i];
        if (l->kind == CNN_LAYER_LINEAR) n_linear++;
        else if (l->kind != CNN_LAYER_RELU || !l->fused) {
            snprintf(why, why_len, "%s has a %s layer (the fused step runs linear and ReLU layers only)", m->desc,
                     cnn_layer_kind_name(l->kind));
            return false;
        }
    }
    if (n_linear < 2 || n_linear > CNN_FUSED_MAX_HIDDEN + 1) {
        snprintf(why, why_len, "%s has %d hidden layers (the fused step runs 1 to %d)", m->desc, n_linear - 1,
                 CNN_FUSED_MAX_HIDDEN);
        return false;
    }
    if (m->n_classes > CNN_FUSED_MAX_CLASSES) {
        snprintf(why, why_len, "%s has %d classes (the fused step keeps at most %d logits per row in registers)",
                 m->desc, m->n_classes, CNN_FUSED_MAX_CLASSES);
        return false;
    }
    return true;
}

cnn_status cnn_mlp_fused_args_fill(const cnn_model *m, int B, cnn_mlp_fused_args *a) {
    char why[160];
    if (!cnn_mlp_fusable(m, why, sizeof why)) return cnn_error(CNN_ERR_UNSUPPORTED, "fused step: %s", why);
    if (B < 1 || B > m->batch_cap)
        return cnn_error(CNN_ERR_INVALID_ARG, "fused step: batch of %d rows, the model's buffers hold %d", B,
                         m->batch_cap);
    a->B = B;
    a->D = m->in_dim;
    a->C = m->n_classes;
    a->n_hidden = 0;
    int l = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const cnn_layer *layer = &m->layers[i];
        if (layer->kind != CNN_LAYER_LINEAR) continue;
        a->W[l] = cnn_arena_param(&m->arena, layer->w_slot);
        a->b[l] = cnn_arena_param(&m->arena, layer->b_slot);
        a->dW[l] = cnn_arena_grad(&m->arena, layer->w_slot);
        a->db[l] = cnn_arena_grad(&m->arena, layer->b_slot);
        a->vW[l] = cnn_arena_momentum(&m->arena, layer->w_slot);
        a->vb[l] = cnn_arena_momentum(&m->arena, layer->b_slot);
        if (i + 1 < m->n_layers) { // a hidden layer: its output after the fused ReLU, and that output's gradient
            a->hidden[l] = layer->out;
            a->act[l] = layer->Y;
            a->dact[l] = layer->dY;
            a->n_hidden = l + 1;
        } else {
            a->dlogits = layer->dY;
        }
        l++;
    }
    return CNN_OK;
}
