#include "layers.h"

// X, Y are (n): Y = max(X, 0).
cnn_status cnn_relu_forward(cnn_backend *be, const float *X, float *Y, size_t n) {
    return be->ops->relu_forward(be, X, Y, n);
}

// Y, dY, dX are (n): dX = dY · [Y > 0].
cnn_status cnn_relu_backward(cnn_backend *be, const float *Y, const float *dY, float *dX, size_t n) {
    return be->ops->relu_backward(be, Y, dY, dX, n);
}
