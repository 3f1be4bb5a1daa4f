// The multi-layer perceptron: linear → ReLU → ... → linear, as a model table
// made from the hidden layer sizes (--hidden).
#include <stdio.h>
#include <string.h>

#include "models/model.h"

cnn_status cnn_mlp_table(int in_dim, const int *hidden, int n_hidden, int n_classes, cnn_layer_spec *specs, int *n,
                         char *desc, size_t desc_size) {
    if (in_dim < 1 || n_classes < 2) return cnn_error(CNN_ERR_INVALID_ARG, "mlp: bad input or class count");
    if (n_hidden < 0 || n_hidden > CNN_MAX_HIDDEN)
        return cnn_error(CNN_ERR_INVALID_ARG, "--hidden takes 0 to %d layer sizes, got %d", CNN_MAX_HIDDEN, n_hidden);
    int len = snprintf(desc, desc_size, "mlp %d", in_dim);
    *n = 0;
    for (int i = 0; i < n_hidden; i++) {
        if (hidden[i] < 1 || hidden[i] > 65536)
            return cnn_error(CNN_ERR_INVALID_ARG, "--hidden: layer size %d is outside [1, 65536]", hidden[i]);
        specs[(*n)++] = (cnn_layer_spec){.kind = CNN_LAYER_LINEAR, .out = hidden[i]};
        specs[(*n)++] = (cnn_layer_spec){.kind = CNN_LAYER_RELU};
        if (len < (int)desc_size) len += snprintf(desc + len, desc_size - len, "-%d", hidden[i]);
    }
    specs[(*n)++] = (cnn_layer_spec){.kind = CNN_LAYER_LINEAR, .out = n_classes};
    if (len < (int)desc_size) snprintf(desc + len, desc_size - len, "-%d", n_classes);
    return CNN_OK;
}
