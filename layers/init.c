// The weight initialisers, side by side (biases always start at zero).
// Each draws an (out, in) matrix in host memory from rng, in row-major order.
#include <math.h>

#include "layers.h"

// W is (out,in): each weight drawn from N(0, 2/in) (He et al., 2015), the
// scale that keeps the variance of ReLU activations from layer to layer.
void cnn_he_normal_init(cnn_rng *rng, float *W, int out, int in) {
    const double std = sqrt(2.0 / (double)in);
    for (size_t i = 0; i < (size_t)out * (size_t)in; i++) W[i] = (float)(std * cnn_rng_normal(rng));
}

// W is (out,in): each weight uniform in [-1/sqrt(in), 1/sqrt(in)], PyTorch's
// default for Linear and Conv2d (LeNet trains with it; He-normal stalls).
void cnn_fan_in_uniform_init(cnn_rng *rng, float *W, int out, int in) {
    const double bound = 1.0 / sqrt((double)in);
    for (size_t i = 0; i < (size_t)out * (size_t)in; i++) W[i] = (float)(bound * (2.0 * cnn_rng_uniform(rng) - 1.0));
}
