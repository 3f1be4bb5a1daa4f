// A model is an ordered table of layers plus one parameter arena. The
// forward and backward passes walk the table; each layer's activations and
// gradients live in the backend's memory, sized for up to batch_cap rows.
#ifndef CNN_MODEL_H
#define CNN_MODEL_H

#include <stdint.h>

#include "core/arena.h"
#include "core/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_MAX_LAYERS 32
#define CNN_MAX_HIDDEN 8

typedef enum { CNN_LAYER_LINEAR, CNN_LAYER_RELU } cnn_layer_kind;

typedef struct {
    cnn_layer_kind kind;
    int in, out;        // features per example
    int w_slot, b_slot; // arena slots (linear only)
    bool fused;         // relu: applied inside the previous linear's bias_add, sharing its buffers
    float *Y;           // (batch_cap, out) output
    float *dY;          // (batch_cap, out) gradient of the loss with respect to Y
} cnn_layer;

typedef struct {
    char desc[128];     // "mlp 784-512-10"
    int in_dim, n_classes;
    int n_layers;
    cnn_layer layers[CNN_MAX_LAYERS];
    cnn_arena arena;
    int batch_cap;      // activation buffers hold this many rows (0: none yet)
} cnn_model;

// An MLP in_dim → hidden[0] → ... → n_classes with ReLU between linear layers,
// He-normal weights and zero biases drawn from seed, allocated on the backend.
cnn_status cnn_mlp_create(cnn_backend *be, int in_dim, const int *hidden, int n_hidden, int n_classes,
                          uint64_t seed, cnn_model *m);
// Makes the activation buffers hold at least batch rows.
cnn_status cnn_model_reserve(cnn_model *m, cnn_backend *be, int batch);
// X is (B,in_dim): runs every layer; the logits (B,n_classes) are cnn_model_logits(m).
cnn_status cnn_model_forward(cnn_model *m, cnn_backend *be, const float *X, int B);
// X is (B,in_dim), the last layer's dY holds dL/dlogits (B,n_classes): fills every parameter gradient.
cnn_status cnn_model_backward(cnn_model *m, cnn_backend *be, const float *X, int B);
float *cnn_model_logits(const cnn_model *m);
float *cnn_model_dlogits(const cnn_model *m);
void cnn_model_free(cnn_model *m, cnn_backend *be);

#ifdef __cplusplus
}
#endif
#endif
