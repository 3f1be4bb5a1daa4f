// A model is an ordered table of layers plus one parameter arena. The
// forward and backward passes walk the table; the layers' activations and
// gradients live in one activation arena in the backend's memory, sized for
// up to batch_cap rows.
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

typedef enum {
    CNN_LAYER_LINEAR,
    CNN_LAYER_RELU,
    CNN_LAYER_CONV2D,  // im2col + GEMM (layers/conv2d.c)
    CNN_LAYER_MAXPOOL, // (layers/maxpool.c)
    CNN_LAYER_FLATTEN  // (B, C*H*W) NCHW is already (B, features): no work, shares the previous layer's buffers
} cnn_layer_kind;

const char *cnn_layer_kind_name(cnn_layer_kind kind); // "linear", "relu", "conv2d", "maxpool", "flatten"

typedef struct {
    cnn_layer_kind kind;
    int in, out;        // features per example (C*H*W for images)
    int w_slot, b_slot; // arena slots (linear, conv2d)
    bool fused;         // relu: applied inside the previous linear's or conv2d's bias_add, sharing its buffers;
                        // flatten: shares the previous layer's buffers
    cnn_window win;     // conv2d, maxpool: the window over the (C,H,W) input
    int out_c, out_h, out_w; // the output's (C,H,W); a flat output is (out,1,1)
    float *Y;           // (batch_cap, out) output
    float *dY;          // (batch_cap, out) gradient of the loss with respect to Y
    float *col;         // conv2d: (batch_cap*Hout*Wout, C*k*k) im2col patches (the backward pass reuses it for dcol)
    float *work;        // conv2d: (batch_cap*Hout*Wout, out_c) the GEMM's output, channels last (NHWC)
    int32_t *argmax;    // maxpool: (batch_cap, out) where each window's maximum was, y*W + x in its plane
} cnn_layer;

typedef struct {
    char desc[128];     // "mlp 784-512-10"
    int in_dim, n_classes;
    int in_c, in_h, in_w; // the input's (C,H,W): in_dim = in_c*in_h*in_w
    int n_layers;
    cnn_layer layers[CNN_MAX_LAYERS];
    cnn_arena arena;
    int batch_cap;      // activation buffers hold this many rows (0: none yet)
    void *activations;  // the activation arena: every layer's buffers, one allocation (cnn_model_reserve)
    size_t activation_bytes;
} cnn_model;

// One line of a model's table (models/zoo.c), as a PyTorch nn.Sequential lists them.
typedef struct {
    cnn_layer_kind kind;
    int out;            // linear: output features (0: the number of classes); conv2d: output channels
    int k, stride, pad; // conv2d, maxpool: kernel size, stride, zero padding (conv2d only)
} cnn_layer_spec;

// How cnn_model_build draws the weights (biases start at zero); fan-in is in for linear, C*k*k for conv2d.
typedef enum {
    CNN_INIT_HE_NORMAL,      // N(0, 2/fan_in) (He et al., 2015): keeps ReLU activations' variance (the MLP)
    CNN_INIT_FAN_IN_UNIFORM  // U(-1/√fan_in, 1/√fan_in): PyTorch's default for Linear and Conv2d (LeNet)
} cnn_init;

// The model names cnn_model_create accepts, NULL-terminated: "mlp", "lenet".
extern const char *const cnn_model_names[];

// Model `name` for (in_c, in_h, in_w) inputs and n_classes classes, parameters
// drawn from seed and allocated on be. "mlp" uses hidden[0..n_hidden) (see
// cnn_mlp_table: He-normal weights); "lenet" is LeNet-5 (models/zoo.c) and ignores hidden.
cnn_status cnn_model_create(cnn_backend *be, const char *name, int in_c, int in_h, int in_w, const int *hidden,
                            int n_hidden, int n_classes, uint64_t seed, cnn_model *m);
// The same, without a backend: only the layer table and the arena's plan (no
// memory, arena.base NULL), for describing a model (cnn-train explain).
cnn_status cnn_model_plan(const char *name, int in_c, int in_h, int in_w, const int *hidden, int n_hidden,
                          int n_classes, cnn_model *m);
// A model from a table of n specs: shapes are worked out layer by layer and
// checked (a linear layer after conv2d/maxpool needs a flatten first; ReLU
// after linear or conv2d is fused into its bias add). desc names it. With
// be == NULL only the plan is made; else parameters are allocated on be and
// initialised from seed as init says.
cnn_status cnn_model_build(cnn_backend *be, const char *desc, int in_c, int in_h, int in_w,
                           const cnn_layer_spec *specs, int n, int n_classes, cnn_init init, uint64_t seed,
                           cnn_model *m);

// The MLP's table: linear, ReLU for each hidden size, then linear to n_classes (at most
// 2*CNN_MAX_HIDDEN+1 specs), and its description ("mlp 784-512-10").
cnn_status cnn_mlp_table(int in_dim, const int *hidden, int n_hidden, int n_classes, cnn_layer_spec *specs, int *n,
                         char *desc, size_t desc_size);
// Whether m is an MLP that a backend's fused step (mlp_steps, core/mlp_step.h)
// can train: linear layers with fused ReLUs, 1 or 2 hidden, at most
// CNN_FUSED_MAX_CLASSES classes. When not, why says why.
bool cnn_mlp_fusable(const cnn_model *m, char *why, size_t why_len);
// Points a's parameter, gradient, momentum and activation pointers (and
// B, D, C, hidden sizes) at m's arena and activation buffers, for batches
// of B rows (cnn_model_reserve first). The data, cursor, scratch X, y,
// row_stats, stats, SGD settings and steps are the caller's to fill.
struct cnn_mlp_fused_args;
cnn_status cnn_mlp_fused_args_fill(const cnn_model *m, int B, struct cnn_mlp_fused_args *a);
// Makes the activation arena hold at least batch rows (one allocation for all layers).
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
