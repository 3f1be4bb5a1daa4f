// The CPU backend's convolution and pooling ops (cpu_conv.c), entries of
// its operations table (see cnn_backend_ops in core/backend.h for each contract).
#ifndef CNN_CPU_CONV_H
#define CNN_CPU_CONV_H

#include "core/backend.h"

// X is (B, C*H*W) NCHW, col is (B*Hout*Wout, C*k*k): im2col.
cnn_status cnn_cpu_im2col(cnn_backend *be, const float *X, float *col, int B, const cnn_window *g);
// col is (B*Hout*Wout, C*k*k), dX is (B, C*H*W): col2im, the adjoint of im2col.
cnn_status cnn_cpu_col2im(cnn_backend *be, const float *col, float *dX, int B, const cnn_window *g);
// src is (n, rows, cols), dst is (n, cols, rows): a batched transpose.
cnn_status cnn_cpu_transpose(cnn_backend *be, const float *src, float *dst, int n, int rows, int cols);
// X is (B, C*H*W), Y and argmax are (B, C*Hout*Wout): max pooling.
cnn_status cnn_cpu_maxpool_forward(cnn_backend *be, const float *X, float *Y, int32_t *argmax, int B,
                                   const cnn_window *g);
// dY and argmax are (B, C*Hout*Wout), dX is (B, C*H*W): max pooling's gradient.
cnn_status cnn_cpu_maxpool_backward(cnn_backend *be, const float *dY, const int32_t *argmax, float *dX, int B,
                                    const cnn_window *g);

#endif
