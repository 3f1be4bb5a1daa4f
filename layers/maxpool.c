// Max pooling: each k×k window of each channel keeps its largest value, and
// the forward pass remembers where it was (argmax), so that the backward
// pass can send the window's gradient to that one pixel; every other pixel
// of the window gets none.
#include "layers.h"

static cnn_status need_maxpool(cnn_backend *be) {
    if (!cnn_backend_supports(be, CNN_OP_MAXPOOL))
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "the %s backend has no maxpool, which this model needs: use --backend=cpu", be->name);
    return CNN_OK;
}

// X is (B, C*H*W), Y and argmax are (B, C*Hout*Wout): Y = max over each window, argmax = where (y*W + x).
cnn_status cnn_maxpool_forward(cnn_backend *be, const float *X, float *Y, int32_t *argmax, int B,
                               const cnn_window *g) {
    CNN_TRY(need_maxpool(be));
    return be->ops->maxpool_forward(be, X, Y, argmax, B, g);
}

// dY and argmax are (B, C*Hout*Wout), dX is (B, C*H*W): dX = 0 except dX[argmax] += dY for each window.
cnn_status cnn_maxpool_backward(cnn_backend *be, const float *dY, const int32_t *argmax, float *dX, int B,
                                const cnn_window *g) {
    CNN_TRY(need_maxpool(be));
    return be->ops->maxpool_backward(be, dY, argmax, dX, B, g);
}
