#include "layers.h"

// X is (B,in), W is (out,in), b is (out), Y is (B,out): Y = X·Wᵀ + b (+ ReLU).
cnn_status cnn_linear_forward(cnn_backend *be, const float *X, const float *W, const float *b, float *Y, int B,
                              int in, int out, bool relu) {
    CNN_TRY(cnn_gemm(be, false, true, B, out, in, 1.0f, X, in, W, in, 0.0f, Y, out));
    return be->ops->bias_add(be, b, Y, B, out, relu);
}

// X is (B,in), W is (out,in), dY is (B,out); dW is (out,in), db is (out), dX is (B,in) or NULL.
cnn_status cnn_linear_backward(cnn_backend *be, const float *X, const float *W, const float *dY, float *dW,
                               float *db, float *dX, int B, int in, int out) {
    CNN_TRY(cnn_gemm(be, true, false, out, in, B, 1.0f, dY, out, X, in, 0.0f, dW, in)); // dW = dYᵀ·X
    CNN_TRY(be->ops->colsum(be, dY, db, B, out, 0.0f));                                  // db = Σ_rows dY
    if (dX) CNN_TRY(cnn_gemm(be, false, false, B, in, out, 1.0f, dY, out, W, in, 0.0f, dX, in)); // dX = dY·W
    return CNN_OK;
}
