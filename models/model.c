// A model's layer table: building it from a spec table (shapes worked out
// layer by layer, parameters planned in one arena), the activation buffers,
// and the forward and backward passes that walk it.
#include "models/model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "layers/layers.h"

const char *cnn_layer_kind_name(cnn_layer_kind kind) {
    switch (kind) {
    case CNN_LAYER_LINEAR: return "linear";
    case CNN_LAYER_RELU: return "relu";
    case CNN_LAYER_CONV2D: return "conv2d";
    case CNN_LAYER_MAXPOOL: return "maxpool";
    case CNN_LAYER_FLATTEN: return "flatten";
    }
    return "unknown";
}

// ---- building ------------------------------------------------------------------

// The shape of the tensor between two layers while the table is read.
typedef struct {
    int c, h, w;
    enum { AT_INPUT, AT_IMAGE, AT_FLAT } form; // images come out of conv2d/maxpool, flat rows out of linear/flatten
} shape_state;

static cnn_status add_params(cnn_model *m, cnn_layer *l, const char *prefix, int index, int rows, int cols) {
    char name[32];
    snprintf(name, sizeof name, "%s%d.weight", prefix, index);
    CNN_TRY(cnn_arena_add(&m->arena, name, rows, cols, &l->w_slot));
    snprintf(name, sizeof name, "%s%d.bias", prefix, index);
    return cnn_arena_add(&m->arena, name, 1, rows, &l->b_slot);
}

// Appends the layer for spec s (the table's line `line`, 1-based, for messages) and moves the shape on.
static cnn_status add_layer(cnn_model *m, const cnn_layer_spec *s, int line, shape_state *st, int *n_conv,
                            int *n_fc) {
    cnn_layer *l = &m->layers[m->n_layers];
    memset(l, 0, sizeof *l);
    l->kind = s->kind;
    l->in = st->c * st->h * st->w;
    const cnn_layer *prev = m->n_layers > 0 ? &m->layers[m->n_layers - 1] : NULL;
    switch (s->kind) {
    case CNN_LAYER_LINEAR: {
        if (st->form == AT_IMAGE)
            return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: a linear layer after conv2d/maxpool needs a "
                                                  "flatten line before it", line);
        const int out = s->out ? s->out : m->n_classes;
        if (out < 1 || out > 65536)
            return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: linear layer size %d is outside [1, 65536]",
                             line, out);
        CNN_TRY(add_params(m, l, "fc", ++*n_fc, out, l->in));
        *st = (shape_state){out, 1, 1, AT_FLAT};
        break;
    }
    case CNN_LAYER_CONV2D: {
        if (st->form == AT_FLAT)
            return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: conv2d needs an image input, not the flat "
                                                  "output of a linear or flatten layer", line);
        if (s->out < 1 || s->out > 65536)
            return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: conv2d output channels %d outside [1, 65536]",
                             line, s->out);
        CNN_TRY(cnn_window_init(&l->win, st->c, st->h, st->w, s->k, s->stride, s->pad));
        CNN_TRY(add_params(m, l, "conv", ++*n_conv, s->out, st->c * s->k * s->k));
        *st = (shape_state){s->out, l->win.Hout, l->win.Wout, AT_IMAGE};
        break;
    }
    case CNN_LAYER_MAXPOOL:
        if (st->form == AT_FLAT)
            return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: maxpool needs an image input", line);
        if (s->pad != 0)
            return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: maxpool takes no padding (got %d)", line,
                             s->pad);
        CNN_TRY(cnn_window_init(&l->win, st->c, st->h, st->w, s->k, s->stride, 0));
        *st = (shape_state){st->c, l->win.Hout, l->win.Wout, AT_IMAGE};
        break;
    case CNN_LAYER_RELU:
        l->fused = prev && (prev->kind == CNN_LAYER_LINEAR || prev->kind == CNN_LAYER_CONV2D);
        break;
    case CNN_LAYER_FLATTEN:
        if (!prev)
            return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: flatten cannot come first (the input is "
                                                  "already stored flat)", line);
        l->fused = true;
        *st = (shape_state){st->c * st->h * st->w, 1, 1, AT_FLAT};
        break;
    default: return cnn_error(CNN_ERR_INVALID_ARG, "model table line %d: unknown layer kind %d", line, (int)s->kind);
    }
    l->out_c = st->c;
    l->out_h = st->h;
    l->out_w = st->w;
    l->out = st->c * st->h * st->w;
    m->n_layers++;
    return CNN_OK;
}

// Weights drawn as init says, zero biases, on the host in layer order and uploaded in one copy.
static cnn_status init_params(cnn_model *m, cnn_backend *be, cnn_init init, uint64_t seed) {
    float *host = calloc(m->arena.n, sizeof *host);
    if (!host) return cnn_error(CNN_ERR_NOMEM, "out of memory initialising parameters");
    cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    for (int i = 0; i < m->n_layers; i++) {
        const cnn_layer *l = &m->layers[i];
        if (l->kind != CNN_LAYER_LINEAR && l->kind != CNN_LAYER_CONV2D) continue;
        // W is (outputs, fan-in): (out, in) for linear, (Cout, C*k*k) for conv2d
        const int rows = l->kind == CNN_LAYER_LINEAR ? l->out : l->out_c;
        const int fan_in = l->kind == CNN_LAYER_LINEAR ? l->in : l->win.C * l->win.k * l->win.k;
        float *w = host + m->arena.slots[l->w_slot].offset;
        if (init == CNN_INIT_HE_NORMAL)
            cnn_he_normal_init(&rng, w, rows, fan_in);
        else
            cnn_fan_in_uniform_init(&rng, w, rows, fan_in);
    }
    cnn_status s = be->ops->upload(be, host, m->arena.base, m->arena.n * sizeof *host);
    free(host);
    return s;
}

cnn_status cnn_model_build(cnn_backend *be, const char *desc, int in_c, int in_h, int in_w,
                           const cnn_layer_spec *specs, int n, int n_classes, cnn_init init, uint64_t seed,
                           cnn_model *m) {
    memset(m, 0, sizeof *m);
    if (in_c < 1 || in_h < 1 || in_w < 1 || (long)in_c * in_h * in_w > (1L << 24))
        return cnn_error(CNN_ERR_INVALID_ARG, "model: bad input shape (%d,%d,%d)", in_c, in_h, in_w);
    if (n_classes < 2) return cnn_error(CNN_ERR_INVALID_ARG, "model: needs at least 2 classes, got %d", n_classes);
    if (n < 1 || n > CNN_MAX_LAYERS)
        return cnn_error(CNN_ERR_INVALID_ARG, "model: a table of %d layers; 1 to %d are allowed", n, CNN_MAX_LAYERS);
    snprintf(m->desc, sizeof m->desc, "%s", desc);
    m->in_c = in_c;
    m->in_h = in_h;
    m->in_w = in_w;
    m->in_dim = in_c * in_h * in_w;
    m->n_classes = n_classes;
    shape_state st = {in_c, in_h, in_w, AT_INPUT};
    int n_conv = 0, n_fc = 0;
    for (int i = 0; i < n; i++) CNN_TRY(add_layer(m, &specs[i], i + 1, &st, &n_conv, &n_fc));
    const cnn_layer *last = &m->layers[m->n_layers - 1];
    if (last->out != n_classes)
        return cnn_error(CNN_ERR_INVALID_ARG, "model '%s': the last layer gives %d outputs for %d classes", desc,
                         last->out, n_classes);
    if (!be) return CNN_OK;
    CNN_TRY(cnn_arena_alloc(&m->arena, be));
    cnn_status s = init_params(m, be, init, seed);
    if (s != CNN_OK) cnn_model_free(m, be);
    return s;
}

// ---- the activation arena ----------------------------------------------------------

// Every layer's activation buffers come from one allocation (as the
// parameters do): cnn_model_reserve plans their offsets for a batch size,
// then allocates once. A fused layer (ReLU after linear/conv2d, flatten)
// shares the previous layer's buffers.

static void free_buffers(cnn_model *m, cnn_backend *be) {
    if (m->activations) be->ops->free(be, m->activations);
    m->activations = NULL;
    for (int i = 0; i < m->n_layers; i++) {
        cnn_layer *l = &m->layers[i];
        l->Y = l->dY = l->col = l->work = NULL;
        l->argmax = NULL;
    }
    m->batch_cap = 0;
}

// Reserves n 4-byte elements at *offset (in bytes, kept 64-byte aligned) and returns where they start.
static size_t take(size_t *offset, size_t n) {
    const size_t at = *offset;
    *offset += (n * 4 + 63) / 64 * 64;
    return at;
}

// The byte offsets of layer l's buffers for batch rows, from *offset on (SIZE_MAX: the layer has none).
typedef struct {
    size_t Y, dY, col, work, argmax;
} layer_offsets;

static layer_offsets plan_layer(const cnn_layer *l, size_t rows, size_t *offset) {
    layer_offsets o = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX};
    const size_t P = (size_t)l->win.Hout * l->win.Wout;
    o.Y = take(offset, rows * l->out);
    o.dY = take(offset, rows * l->out);
    if (l->kind == CNN_LAYER_CONV2D) {
        o.col = take(offset, rows * P * l->win.C * l->win.k * l->win.k);
        o.work = take(offset, rows * P * l->out_c);
    }
    if (l->kind == CNN_LAYER_MAXPOOL) o.argmax = take(offset, rows * l->out); // int32, the size of a float
    return o;
}

cnn_status cnn_model_reserve(cnn_model *m, cnn_backend *be, int batch) {
    if (batch <= m->batch_cap) return CNN_OK;
    free_buffers(m, be);
    layer_offsets offs[CNN_MAX_LAYERS];
    size_t bytes = 0;
    for (int i = 0; i < m->n_layers; i++)
        if (!m->layers[i].fused) offs[i] = plan_layer(&m->layers[i], (size_t)batch, &bytes);
    void *base = NULL;
    CNN_TRY(be->ops->alloc(be, bytes, &base));
    m->activations = base;
    char *at = base;
    for (int i = 0; i < m->n_layers; i++) {
        cnn_layer *l = &m->layers[i];
        if (l->fused) { // shares the preceding layer's buffers: ReLU runs in place, flatten is a no-op
            l->Y = m->layers[i - 1].Y;
            l->dY = m->layers[i - 1].dY;
            continue;
        }
        l->Y = (float *)(at + offs[i].Y);
        l->dY = (float *)(at + offs[i].dY);
        if (offs[i].col != SIZE_MAX) l->col = (float *)(at + offs[i].col);
        if (offs[i].work != SIZE_MAX) l->work = (float *)(at + offs[i].work);
        if (offs[i].argmax != SIZE_MAX) l->argmax = (int32_t *)(at + offs[i].argmax);
    }
    m->activation_bytes = bytes;
    m->batch_cap = batch;
    return CNN_OK;
}

float *cnn_model_logits(const cnn_model *m) { return m->layers[m->n_layers - 1].Y; }
float *cnn_model_dlogits(const cnn_model *m) { return m->layers[m->n_layers - 1].dY; }

// ---- the passes ----------------------------------------------------------------

// X is (B,in_dim): layer by layer; a linear or conv2d followed by a ReLU applies it in its bias add.
cnn_status cnn_model_forward(cnn_model *m, cnn_backend *be, const float *X, int B) {
    if (B < 1 || B > m->batch_cap)
        return cnn_error(CNN_ERR_INVALID_ARG, "forward: batch of %d rows, buffers hold %d", B, m->batch_cap);
    const float *in = X;
    for (int i = 0; i < m->n_layers; i++) {
        cnn_layer *l = &m->layers[i];
        const bool fuse_relu = i + 1 < m->n_layers && m->layers[i + 1].kind == CNN_LAYER_RELU && m->layers[i + 1].fused;
        const float *W = NULL, *b = NULL;
        if (l->kind == CNN_LAYER_LINEAR || l->kind == CNN_LAYER_CONV2D) {
            W = cnn_arena_param(&m->arena, l->w_slot);
            b = cnn_arena_param(&m->arena, l->b_slot);
        }
        switch (l->kind) {
        case CNN_LAYER_LINEAR: CNN_TRY(cnn_linear_forward(be, in, W, b, l->Y, B, l->in, l->out, fuse_relu)); break;
        case CNN_LAYER_CONV2D:
            CNN_TRY(cnn_conv2d_forward(be, in, W, b, l->col, l->work, l->Y, B, &l->win, l->out_c, fuse_relu));
            break;
        case CNN_LAYER_MAXPOOL: CNN_TRY(cnn_maxpool_forward(be, in, l->Y, l->argmax, B, &l->win)); break;
        case CNN_LAYER_RELU:
            if (!l->fused) CNN_TRY(cnn_relu_forward(be, in, l->Y, (size_t)B * l->out));
            break;
        case CNN_LAYER_FLATTEN: break; // NCHW rows are already the flat features
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
        switch (l->kind) {
        case CNN_LAYER_LINEAR:
            CNN_TRY(cnn_linear_backward(be, in, cnn_arena_param(&m->arena, l->w_slot), l->dY,
                                        cnn_arena_grad(&m->arena, l->w_slot), cnn_arena_grad(&m->arena, l->b_slot),
                                        d_in, B, l->in, l->out));
            break;
        case CNN_LAYER_CONV2D:
            CNN_TRY(cnn_conv2d_backward(be, cnn_arena_param(&m->arena, l->w_slot), l->dY, l->col, l->work,
                                        cnn_arena_grad(&m->arena, l->w_slot), cnn_arena_grad(&m->arena, l->b_slot),
                                        d_in, B, &l->win, l->out_c));
            break;
        case CNN_LAYER_MAXPOOL:
            if (d_in) CNN_TRY(cnn_maxpool_backward(be, l->dY, l->argmax, d_in, B, &l->win));
            break;
        case CNN_LAYER_RELU:
            // dY → dX through the ReLU mask; in place when fused (d_in == l->dY)
            if (d_in) CNN_TRY(cnn_relu_backward(be, l->Y, l->dY, d_in, (size_t)B * l->out));
            break;
        case CNN_LAYER_FLATTEN: break; // shares its gradient buffer with the layer before
        }
    }
    return CNN_OK;
}

void cnn_model_free(cnn_model *m, cnn_backend *be) {
    free_buffers(m, be);
    cnn_arena_free(&m->arena, be);
}
