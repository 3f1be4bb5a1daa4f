// What one training step of a model costs: every op the layer code issues,
// in the order it issues them, with its FLOPs and the bytes it must move at
// least. cnn-train explain prints it; tests/test_explain.c checks that the
// GEMMs listed here are exactly the ones the layer code calls.
//
// Conventions. A GEMM C (M,N) = op(A) (M,K) · op(B) (K,N) does 2·M·N·K FLOPs
// and moves at least 4·(M·K + K·N + M·N) bytes (each operand read once, C
// written once, float32), as gemm-bench counts them. Other ops: one FLOP
// per element for an add, a max or a ReLU, 5 per logit for softmax
// cross-entropy (max, subtract, exp, add, divide), 6 per parameter for SGD
// with momentum and weight decay, none for data movement (im2col,
// transpose); their bytes are every input read once and every output
// written once (labels and argmax are 4-byte integers, images 1 byte).
#ifndef CNN_COST_H
#define CNN_COST_H

#include <stdbool.h>

#include "models/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_COST_MAX_OPS 160

typedef enum { CNN_PASS_DATA, CNN_PASS_FORWARD, CNN_PASS_LOSS, CNN_PASS_BACKWARD, CNN_PASS_UPDATE } cnn_pass;

typedef struct {
    int layer;           // index into the model's layers; -1 for data, loss and update
    cnn_pass pass;
    const char *op;      // "gemm", "im2col", "col2im", "transpose", "bias_add", "bias_add+relu", "relu",
                         // "relu_backward", "maxpool", "maxpool_backward", "colsum", "gather", "softmax_xent", "sgd"
    bool gemm;
    bool ta, tb;         // GEMM only: the transposes, and its sizes
    int M, N, K;
    char eq[80];         // "Z1 = X·W1ᵀ", with B for the batch size
    char dims[80];       // "(B×784)·(784×512)"
    double flops, bytes;
} cnn_cost_op;

typedef struct {
    int n_ops;
    cnn_cost_op ops[CNN_COST_MAX_OPS];
    double flops, gemm_flops, bytes; // sums over the ops
} cnn_cost;

// The ops of one training step of m at batch B: gather, forward, loss,
// backward, SGD. With forward_only, the ops of one evaluation batch instead
// (gather, forward, loss without gradient). Needs only the layer table
// (cnn_model_plan is enough).
cnn_status cnn_model_cost(const cnn_model *m, int B, bool forward_only, cnn_cost *out);

// The layer's name as the arena names its parameters ("conv1", "fc2"), or
// its kind and position for layers without parameters ("pool1", "relu", "flatten").
void cnn_layer_name(const cnn_model *m, int layer, char *buf, int size);

const char *cnn_pass_name(cnn_pass pass); // "data", "fwd", "loss", "bwd", "update"

#ifdef __cplusplus
}
#endif
#endif
