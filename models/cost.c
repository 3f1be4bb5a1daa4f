// The ops of one training step, read off the layer table in the order
// models/model.c and layers/*.c issue them (see cost.h for the counting
// conventions). Symbols: X the input, Wj/bj/Zj the j-th layer with
// parameters (conv or linear, as numbered W1, W2, ... through the model),
// Aj = relu(Zj) when a ReLU follows, Pq the q-th pooling output, colj the
// im2col matrix of the j-th layer; B is the batch size.
#include "models/cost.h"

#include <stdio.h>
#include <string.h>

const char *cnn_pass_name(cnn_pass pass) {
    static const char *names[] = {"data", "fwd", "loss", "bwd", "update"};
    return pass <= CNN_PASS_UPDATE ? names[pass] : "?";
}

void cnn_layer_name(const cnn_model *m, int layer, char *buf, int size) {
    const cnn_layer *l = &m->layers[layer];
    if (l->kind == CNN_LAYER_LINEAR || l->kind == CNN_LAYER_CONV2D) {
        const char *name = m->arena.slots[l->w_slot].name;
        const char *dot = strchr(name, '.');
        snprintf(buf, size, "%.*s", dot ? (int)(dot - name) : (int)strlen(name), name);
    } else if (l->kind == CNN_LAYER_MAXPOOL) {
        int q = 0;
        for (int i = 0; i <= layer; i++) q += m->layers[i].kind == CNN_LAYER_MAXPOOL;
        snprintf(buf, size, "pool%d", q);
    } else {
        snprintf(buf, size, "%s", cnn_layer_kind_name(l->kind));
    }
}

typedef struct {
    char sym[CNN_MAX_LAYERS][16]; // each layer's output symbol
    int widx[CNN_MAX_LAYERS];     // the j of Wj (layers with parameters)
} symbols;

static void name_outputs(const cnn_model *m, symbols *s) {
    int j = 0, q = 0, r = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const cnn_layer *l = &m->layers[i];
        const char *in = i > 0 ? s->sym[i - 1] : "X";
        s->widx[i] = 0;
        switch (l->kind) {
        case CNN_LAYER_LINEAR:
        case CNN_LAYER_CONV2D:
            s->widx[i] = ++j;
            snprintf(s->sym[i], sizeof s->sym[i], "Z%d", j);
            break;
        case CNN_LAYER_RELU:
            if (l->fused) snprintf(s->sym[i], sizeof s->sym[i], "A%d", s->widx[i - 1]);
            else snprintf(s->sym[i], sizeof s->sym[i], "R%d", ++r);
            break;
        case CNN_LAYER_MAXPOOL: snprintf(s->sym[i], sizeof s->sym[i], "P%d", ++q); break;
        case CNN_LAYER_FLATTEN: snprintf(s->sym[i], sizeof s->sym[i], "%s", in); break;
        }
    }
}

static cnn_cost_op *add(cnn_cost *c, int layer, cnn_pass pass, const char *op, double flops, double bytes) {
    if (c->n_ops >= CNN_COST_MAX_OPS) return NULL;
    cnn_cost_op *o = &c->ops[c->n_ops++];
    memset(o, 0, sizeof *o);
    o->layer = layer;
    o->pass = pass;
    o->op = op;
    o->flops = flops;
    o->bytes = bytes;
    c->flops += flops;
    c->bytes += bytes;
    return o;
}

static cnn_cost_op *add_gemm(cnn_cost *c, int layer, cnn_pass pass, bool ta, bool tb, int M, int N, int K) {
    const double m = M, n = N, k = K;
    cnn_cost_op *o = add(c, layer, pass, "gemm", 2.0 * m * n * k, 4.0 * (m * k + k * n + m * n));
    if (!o) return NULL;
    o->gemm = true;
    o->ta = ta, o->tb = tb;
    o->M = M, o->N = N, o->K = K;
    c->gemm_flops += o->flops;
    return o;
}

#define SET(o, field, ...)                                                                                             \
    do {                                                                                                               \
        if (o) snprintf((o)->field, sizeof (o)->field, __VA_ARGS__);                                                   \
    } while (0)

// The bias add of a linear or conv2d layer over rows×n outputs, with its fused ReLU when one follows.
static void add_bias(cnn_cost *c, const cnn_model *m, const symbols *s, int i, double rows, int n) {
    const bool relu = i + 1 < m->n_layers && m->layers[i + 1].kind == CNN_LAYER_RELU && m->layers[i + 1].fused;
    cnn_cost_op *o = add(c, i, CNN_PASS_FORWARD, relu ? "bias_add+relu" : "bias_add", (relu ? 2 : 1) * rows * n,
                         4.0 * (2 * rows * n + n));
    if (relu) SET(o, eq, "%s = relu(%s + b%d)", s->sym[i + 1], s->sym[i], s->widx[i]);
    else SET(o, eq, "%s += b%d", s->sym[i], s->widx[i]);
}

static void forward(cnn_cost *c, const cnn_model *m, const symbols *s, int B) {
    for (int i = 0; i < m->n_layers; i++) {
        const cnn_layer *l = &m->layers[i];
        const char *in = i > 0 ? s->sym[i - 1] : "X";
        const int j = s->widx[i];
        cnn_cost_op *o;
        switch (l->kind) {
        case CNN_LAYER_LINEAR:
            o = add_gemm(c, i, CNN_PASS_FORWARD, false, true, B, l->out, l->in);
            SET(o, eq, "%s = %s·W%dᵀ", s->sym[i], in, j);
            SET(o, dims, "(B×%d)·(%d×%d)", l->in, l->in, l->out);
            add_bias(c, m, s, i, B, l->out);
            break;
        case CNN_LAYER_CONV2D: {
            const int P = l->win.Hout * l->win.Wout, K = l->win.C * l->win.k * l->win.k, Co = l->out_c;
            const double rows = (double)B * P;
            o = add(c, i, CNN_PASS_FORWARD, "im2col", 0, 4.0 * ((double)B * l->in + rows * K));
            SET(o, eq, "col%d = im2col(%s)", j, in);
            SET(o, dims, "(B·%d×%d)", P, K);
            o = add_gemm(c, i, CNN_PASS_FORWARD, false, true, B * P, Co, K);
            SET(o, eq, "%s = col%d·W%dᵀ", s->sym[i], j, j);
            SET(o, dims, "(B·%d×%d)·(%d×%d)", P, K, K, Co);
            add_bias(c, m, s, i, rows, Co);
            o = add(c, i, CNN_PASS_FORWARD, "transpose", 0, 8.0 * rows * Co);
            SET(o, eq, "%s: NHWC → NCHW", i + 1 < m->n_layers && m->layers[i + 1].fused ? s->sym[i + 1] : s->sym[i]);
            SET(o, dims, "(B·%d×%d) → (B×%d·%d)", P, Co, Co, P);
            break;
        }
        case CNN_LAYER_MAXPOOL:
            o = add(c, i, CNN_PASS_FORWARD, "maxpool", (double)B * l->out * (l->win.k * l->win.k - 1),
                    4.0 * ((double)B * l->in + 2.0 * B * l->out));
            SET(o, eq, "%s = maxpool%dx%d/%d(%s), argmax", s->sym[i], l->win.k, l->win.k, l->win.stride, in);
            SET(o, dims, "(B×%d) → (B×%d)", l->in, l->out);
            break;
        case CNN_LAYER_RELU:
            if (l->fused) break; // done in the bias add
            o = add(c, i, CNN_PASS_FORWARD, "relu", (double)B * l->out, 8.0 * B * l->out);
            SET(o, eq, "%s = relu(%s)", s->sym[i], in);
            break;
        case CNN_LAYER_FLATTEN: break; // no work: NCHW rows are the flat features
        }
    }
}

static void backward(cnn_cost *c, const cnn_model *m, const symbols *s, int B) {
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const cnn_layer *l = &m->layers[i];
        const char *in = i > 0 ? s->sym[i - 1] : "X";
        const bool d_in = i > 0;
        const int j = s->widx[i];
        cnn_cost_op *o;
        switch (l->kind) {
        case CNN_LAYER_LINEAR:
            o = add_gemm(c, i, CNN_PASS_BACKWARD, true, false, l->out, l->in, B);
            SET(o, eq, "dW%d = d%sᵀ·%s", j, s->sym[i], in);
            SET(o, dims, "(%d×B)·(B×%d)", l->out, l->in);
            o = add(c, i, CNN_PASS_BACKWARD, "colsum", (double)B * l->out, 4.0 * ((double)B * l->out + l->out));
            SET(o, eq, "db%d = Σ_rows d%s", j, s->sym[i]);
            if (!d_in) break;
            o = add_gemm(c, i, CNN_PASS_BACKWARD, false, false, B, l->in, l->out);
            SET(o, eq, "d%s = d%s·W%d", in, s->sym[i], j);
            SET(o, dims, "(B×%d)·(%d×%d)", l->out, l->out, l->in);
            break;
        case CNN_LAYER_CONV2D: {
            const int P = l->win.Hout * l->win.Wout, K = l->win.C * l->win.k * l->win.k, Co = l->out_c;
            const double rows = (double)B * P;
            o = add(c, i, CNN_PASS_BACKWARD, "transpose", 0, 8.0 * rows * Co);
            SET(o, eq, "d%s: NCHW → NHWC", s->sym[i]);
            SET(o, dims, "(B×%d·%d) → (B·%d×%d)", Co, P, P, Co);
            o = add_gemm(c, i, CNN_PASS_BACKWARD, true, false, Co, K, B * P);
            SET(o, eq, "dW%d = d%sᵀ·col%d", j, s->sym[i], j);
            SET(o, dims, "(%d×B·%d)·(B·%d×%d)", Co, P, P, K);
            o = add(c, i, CNN_PASS_BACKWARD, "colsum", rows * Co, 4.0 * (rows * Co + Co));
            SET(o, eq, "db%d = Σ_rows d%s", j, s->sym[i]);
            if (!d_in) break;
            o = add_gemm(c, i, CNN_PASS_BACKWARD, false, false, B * P, K, Co);
            SET(o, eq, "dcol%d = d%s·W%d", j, s->sym[i], j);
            SET(o, dims, "(B·%d×%d)·(%d×%d)", P, Co, Co, K);
            o = add(c, i, CNN_PASS_BACKWARD, "col2im", rows * K, 4.0 * (rows * K + (double)B * l->in));
            SET(o, eq, "d%s = col2im(dcol%d)", in, j);
            SET(o, dims, "(B·%d×%d) → (B×%d)", P, K, l->in);
            break;
        }
        case CNN_LAYER_MAXPOOL:
            if (!d_in) break;
            o = add(c, i, CNN_PASS_BACKWARD, "maxpool_backward", (double)B * l->out,
                    4.0 * (2.0 * B * l->out + (double)B * l->in));
            SET(o, eq, "d%s = unpool(d%s, argmax)", in, s->sym[i]);
            SET(o, dims, "(B×%d) → (B×%d)", l->out, l->in);
            break;
        case CNN_LAYER_RELU:
            if (!d_in) break;
            o = add(c, i, CNN_PASS_BACKWARD, "relu_backward", (double)B * l->out, 12.0 * B * l->out);
            SET(o, eq, "d%s = d%s ⊙ [%s > 0]", in, s->sym[i], s->sym[i]);
            break;
        case CNN_LAYER_FLATTEN: break; // shares its gradient with the layer before
        }
    }
}

cnn_status cnn_model_cost(const cnn_model *m, int B, bool forward_only, cnn_cost *c) {
    memset(c, 0, sizeof *c);
    if (B < 1) return cnn_error(CNN_ERR_INVALID_ARG, "cost: batch must be >= 1, got %d", B);
    if (m->n_layers < 1) return cnn_error(CNN_ERR_INVALID_ARG, "cost: the model has no layers");
    symbols s;
    name_outputs(m, &s);
    const int D = m->in_dim, C = m->n_classes;
    const char *logits = s.sym[m->n_layers - 1];
    cnn_cost_op *o = add(c, -1, CNN_PASS_DATA, "gather", 2.0 * B * D, (double)B * D + B + 4.0 * B * D + 4.0 * B);
    SET(o, eq, "X = normalise(images[batch])");
    SET(o, dims, "(B×%d) uint8 → float", D);
    forward(c, m, &s, B);
    if (forward_only) {
        o = add(c, -1, CNN_PASS_LOSS, "softmax_xent", 5.0 * B * C, 4.0 * ((double)B * C + B));
        SET(o, eq, "loss = -Σ log softmax(%s)[y], correct", logits);
    } else {
        o = add(c, -1, CNN_PASS_LOSS, "softmax_xent", 5.0 * B * C, 4.0 * (2.0 * B * C + B));
        SET(o, eq, "d%s = (softmax(%s) - onehot(y)) / B", logits, logits);
        backward(c, m, &s, B);
        const double n = (double)m->arena.n;
        o = add(c, -1, CNN_PASS_UPDATE, "sgd", 6.0 * n, 20.0 * n);
        SET(o, eq, "v = μ·v + g + λ·W; W -= η·v");
        SET(o, dims, "(%zu) all parameters", m->arena.n);
    }
    if (c->n_ops >= CNN_COST_MAX_OPS)
        return cnn_error(CNN_ERR_INTERNAL, "cost: more than %d ops in one step; raise CNN_COST_MAX_OPS",
                         CNN_COST_MAX_OPS);
    return CNN_OK;
}
