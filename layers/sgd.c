#include <math.h>

#include "layers.h"

// The whole arena: params, grads, momentum are each (n): one fused update.
cnn_status sgd_step(cnn_backend *be, const cnn_arena *arena, float lr, float momentum, float weight_decay) {
    float *w = arena->base, *g = arena->base + arena->n, *v = arena->base + 2 * arena->n;
    return be->sgd(be, w, g, v, arena->n, lr, momentum, weight_decay);
}

// W is (out,in): each weight drawn from N(0, 2/in) (He et al., 2015).
void he_normal_init(cnn_rng *rng, float *W, int out, int in) {
    double std = sqrt(2.0 / (double)in);
    for (size_t i = 0; i < (size_t)out * (size_t)in; i++) W[i] = (float)(std * cnn_rng_normal(rng));
}
