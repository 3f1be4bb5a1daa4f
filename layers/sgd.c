
#include "layers.h"

// The whole arena: params, grads, momentum are each (n): one fused update.
cnn_status cnn_sgd_step(cnn_backend *be, const cnn_arena *arena, float lr, float momentum, float weight_decay) {
    float *w = arena->base, *g = arena->base + arena->n, *v = arena->base + 2 * arena->n;
    return be->ops->sgd(be, g, w, v, arena->n, lr, momentum, weight_decay);
}
