// The arguments of a fused MLP training step (the backend table's optional
// mlp_steps entry; on CUDA the kernel of backends/cuda/fused/mlp_step.cuh):
// a plain C struct of device pointers and sizes, so that the training loop
// can fill it (cnn_mlp_fused_args_fill, models/mlp.c) and a backend can run
// `steps` whole SGD steps at once (one cooperative kernel launch on CUDA).
// The same struct describes the fused evaluation pass (the optional mlp_eval
// entry; on CUDA backends/cuda/fused/mlp_eval.cuh): eval_rows rows, B at a
// time, forward and loss only, so that the gradient, momentum, dact and
// dlogits pointers, the SGD scalars and steps are not read and may be 0.
//
// The model is linear -> ReLU (-> linear -> ReLU) -> linear, as
// cnn_model_create(be, "mlp", ...) builds it for 1 or 2 hidden layers, trained with
// softmax cross-entropy and SGD exactly as models/train.c's train_step does.
// Layer l (0 .. n_hidden) maps in_l = (l ? hidden[l-1] : D) features to
// out_l = (l < n_hidden ? hidden[l] : C) features; its parameters are W[l]
// (out_l, in_l) row-major (PyTorch's layout) and b[l] (out_l): in the
// model's arena these are cnn_arena_param(&m->arena, layer.w_slot) and
// (.b_slot); dW/db are the same slots' cnn_arena_grad, vW/vb their
// cnn_arena_momentum.
#ifndef CNN_MLP_STEP_H
#define CNN_MLP_STEP_H

#include <stdint.h>

#include "core/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_FUSED_MAX_HIDDEN 2   // hidden layers: 1 or 2
#define CNN_FUSED_MAX_CLASSES 16 // the output layer's logits live in registers, one row per warp

typedef struct cnn_mlp_fused_args {
    // The data, uploaded once (as models/train.c's state): images (n, D) uint8, labels (n) uint8.
    const uint8_t *images;
    const uint8_t *labels;
    cnn_batch_cursor *cursor; // read at each step's start; start += B after each step (on the device)
    float scale, shift;       // X = pixel * scale + shift

    // Sizes.
    int B, D, C;                          // batch rows, input features, classes (2 .. CNN_FUSED_MAX_CLASSES)
    int n_hidden;                         // 1 or 2
    int hidden[CNN_FUSED_MAX_HIDDEN];     // hidden layer sizes (>= 1)

    // Per linear layer l = 0 .. n_hidden (see above), all device pointers.
    float *W[CNN_FUSED_MAX_HIDDEN + 1], *b[CNN_FUSED_MAX_HIDDEN + 1];   // parameters (updated)
    float *dW[CNN_FUSED_MAX_HIDDEN + 1], *db[CNN_FUSED_MAX_HIDDEN + 1]; // gradients (written)
    float *vW[CNN_FUSED_MAX_HIDDEN + 1], *vb[CNN_FUSED_MAX_HIDDEN + 1]; // momentum (updated)

    // Scratch, device memory the caller owns.
    float *X;                           // (B, D) the normalised batch
    int32_t *y;                         // (B) its labels
    float *act[CNN_FUSED_MAX_HIDDEN];   // (B, hidden[l]) hidden outputs after ReLU
    float *dact[CNN_FUSED_MAX_HIDDEN];  // (B, hidden[l]) their gradients (ReLU mask applied)
    float *dlogits;                     // (B, C) gradient of the mean loss w.r.t. the logits
    double *row_stats;                  // (B, 2) each row's loss and hit, added in row order (mlp_eval: (eval_rows, 2))

    // SGD (PyTorch's formulation: g' = g + wd w; v = momentum v + g'; w -= lr v).
    float lr, momentum, wd;

    float *stats; // (2): += each step's summed loss and correct count (as softmax_xent's stats)
    int *err;     // NULL or the backend's error word (ERRW_WORDS ints, set by the backend): a bad label or batch, and
                  // the training loss calls with the first non-finite one
    int steps;    // SGD steps this launch runs (>= 1); the cursor moves on by B after each
    int eval_rows; // mlp_eval only: rows evaluated (>= 1) in chunks of B; the cursor moves on by each chunk's rows

    int grid_blocks; // 0: as many blocks as fit on the GPU at once; else exactly this many (tests)

    // Data-parallel training (docs/distributed.md): each rank runs its shard of the global batch.
    float grad_scale; // the loss gradient's scale (dlogits = grad_scale (softmax - onehot)); 0: 1/B
    int grad_only;    // 1: the gradients only, no SGD update (steps must be 1): the caller sums them over the
                      // ranks (the allreduce entry), then runs sgd over the arena
} cnn_mlp_fused_args;

#ifdef __cplusplus
}
#endif
#endif
