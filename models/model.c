// Forward and backward passes over a model's layer table.
#include "models/model.h"

#include <string.h>

#include "layers/layers.h"

cnn_status cnn_model_reserve(cnn_model *m, cnn_backend *be, int batch) {
    if (batch <= m->batch_cap) return CNN_OK;
    for (int i = 0; i < m->n_layers; i++) {
        cnn_layer *l = &m->layers[i];
        if (l->fused) continue;
        if (l->Y) be->free(be, l->Y);
        if (l->dY) be->free(be, l->dY);
        l->Y = l->dY = NULL;
    }
    m->batch_cap = 0;
    for (int i = 0; i < m->n_layers; i++) {
        cnn_layer *l = &m->layers[i];
        if (l->fused) { // shares the preceding linear layer's buffers: ReLU runs in place
            l->Y = m->layers[i - 1].Y;
            l->dY = m->layers[i - 1].dY;
            continue;
        }
        size_t bytes = (size_t)batch * (size_t)l->out * sizeof(float);
        void *y = NULL, *dy = NULL;
        CNN_TRY(be->alloc(be, bytes, &y));
        l->Y = y;
        CNN_TRY(be->alloc(be, bytes, &dy));
        l->dY = dy;
    }
    m->batch_cap = batch;
    return CNN_OK;
}

float *cnn_model_logits(const cnn_model *m) { return m->layers[m->n_layers - 1].Y; }
float *cnn_model_dlogits(const cnn_model *m) { return m->layers[m->n_layers - 1].dY; }

// X is (B,in_dim): layer by layer; a linear followed by a ReLU applies it in its bias_add.
cnn_status cnn_model_forward(cnn_model *m, cnn_backend *be, const float *X, int B) {
    if (B < 1 || B > m->batch_cap)
        return cnn_error(CNN_ERR_INVALID_ARG, "forward: batch of %d rows, buffers hold %d", B, m->batch_cap);
    const float *in = X;
    for (int i = 0; i < m->n_layers; i++) {
        cnn_layer *l = &m->layers[i];
        if (l->kind == CNN_LAYER_LINEAR) {
            bool fuse_relu = i + 1 < m->n_layers && m->layers[i + 1].fused;
            CNN_TRY(linear_forward(be, in, cnn_arena_param(&m->arena, l->w_slot),
                                   cnn_arena_param(&m->arena, l->b_slot), l->Y, B, l->in, l->out, fuse_relu));
        } else if (!l->fused) {
            CNN_TRY(relu_forward(be, in, l->Y, (size_t)B * l->out));
        }
        in = l->Y;
    }
    return CNN_OK;
}

// X is (B,in_dim); dlogits in the last layer's dY: gradients flow back layer by layer.
cnn_status cnn_model_backward(cnn_model *m, cnn_backend *be, const float *X, int B) {
    if (B < 1 || B > m->batch_cap)
        return cnn_error(CNN_ERR_INVALID_ARG, "backward: batch of %d rows, buffers hold %d", B, m->batch_cap);
    for (int i = m->n_layers - 1; i >= 0; i--) {
        cnn_layer *l = &m->layers[i];
        const float *in = i > 0 ? m->layers[i - 1].Y : X;
        float *d_in = i > 0 ? m->layers[i - 1].dY : NULL; // the first layer needs no input gradient
        if (l->kind == CNN_LAYER_LINEAR) {
            CNN_TRY(linear_backward(be, in, cnn_arena_param(&m->arena, l->w_slot), l->dY,
                                    cnn_arena_grad(&m->arena, l->w_slot), cnn_arena_grad(&m->arena, l->b_slot), d_in,
                                    B, l->in, l->out));
        } else if (d_in) {
            // dY → dX through the ReLU mask; in place when fused (d_in == l->dY)
            CNN_TRY(relu_backward(be, l->Y, l->dY, d_in, (size_t)B * l->out));
        }
    }
    return CNN_OK;
}

void cnn_model_free(cnn_model *m, cnn_backend *be) {
    for (int i = 0; i < m->n_layers; i++) {
        cnn_layer *l = &m->layers[i];
        if (!l->fused) {
            if (l->Y) be->free(be, l->Y);
            if (l->dY) be->free(be, l->dY);
        }
        l->Y = l->dY = NULL;
    }
    m->batch_cap = 0;
    cnn_arena_free(&m->arena, be);
}
