// The layers, written out by hand: each *_forward / *_backward calls only the
// backend table, so the same code runs on the CPU and on the GPU. Backprop is
// visible here: a linear layer's backward pass is two GEMMs and a reduction.
//
// Shapes are row-major (rows, cols); B is the batch size. Weights are stored
// (out, in) as in PyTorch.
#ifndef CNN_LAYERS_H
#define CNN_LAYERS_H

#include "core/arena.h"
#include "core/backend.h"
#include "core/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

// Argument order (as in core/backend.h): the backend, input tensors, output
// tensors (in-out and scratch count as outputs), sizes, then flags.

// X is (B,in), W is (out,in), b is (out), Y is (B,out): Y = X·Wᵀ + b, then max(Y,0) when relu (fused).
cnn_status cnn_linear_forward(cnn_backend *be, const float *X, const float *W, const float *b, float *Y, int B,
                              int in, int out, bool relu);
// X is (B,in), W is (out,in), dY is (B,out), dW is (out,in), db is (out), dX is (B,in) or NULL:
// dW = dYᵀ·X, db = Σ_rows dY, dX = dY·W (skipped when dX is NULL: the first layer needs none).
cnn_status cnn_linear_backward(cnn_backend *be, const float *X, const float *W, const float *dY, float *dW,
                               float *db, float *dX, int B, int in, int out);

// X, Y are (n): Y = max(X, 0).
cnn_status cnn_relu_forward(cnn_backend *be, const float *X, float *Y, size_t n);
// Y, dY, dX are (n): dX = dY where Y > 0, else 0 (Y is the forward output).
cnn_status cnn_relu_backward(cnn_backend *be, const float *Y, const float *dY, float *dX, size_t n);

// logits is (B,C), labels is (B), stats is (2): stats += (Σ -log softmax[label], #correct).
cnn_status cnn_softmax_xent_forward(cnn_backend *be, const float *logits, const int32_t *labels, float *stats, int B,
                                    int C);
// logits, dlogits are (B,C), labels is (B), stats is (2): the forward pass fused with its gradient,
// dlogits = (softmax(logits) - onehot(labels)) / B, the gradient of the mean loss.
cnn_status cnn_softmax_xent_backward(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                                     float *stats, int B, int C);
// The same with dlogits = (softmax - onehot) / n_mean: these B rows are part of a batch of n_mean rows whose
// mean loss is trained (a data-parallel rank's shard of the global batch; n_mean = B: the above).
cnn_status cnn_softmax_xent_backward_mean(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                                          float *stats, int B, int C, int n_mean);

// pred, target are (B,C), stats is (2): stats += (Σ_rows Σ_c (pred-target)² / C, #argmax agreements).
cnn_status cnn_mse_forward(cnn_backend *be, const float *pred, const float *target, float *stats, int B, int C);
// pred, target, dpred are (B,C): dpred = 2 (pred - target) / (B·C), the gradient of the mean loss.
cnn_status cnn_mse_backward(cnn_backend *be, const float *pred, const float *target, float *dpred, float *stats, int B,
                            int C);

// Convolution (layers/conv2d.c): im2col, one GEMM, bias, transpose to NCHW; backward two GEMMs and col2im.
// g is the kernel's window over the (C,H,W) input, P = g->Hout*g->Wout, K = C*k*k.
// X is (B, C*H*W) NCHW, W is (Cout, K), b is (Cout), col is (B*P, K), Z is (B*P, Cout) NHWC scratch,
// Y is (B, Cout*P) NCHW: Y = im2col(X)·Wᵀ + b, then max(Y,0) when relu (fused into the bias add).
cnn_status cnn_conv2d_forward(cnn_backend *be, const float *X, const float *W, const float *b, float *col, float *Z,
                              float *Y, int B, const cnn_window *g, int Cout, bool relu);
// W is (Cout, K), dY is (B, Cout*P), col is (B*P, K) as the forward pass left it, dZ is (B*P, Cout) scratch,
// dW is (Cout, K), db is (Cout), dX is (B, C*H*W) or NULL: with dZ = dY in NHWC order,
// dW = dZᵀ·col, db = Σ_rows dZ, dX = col2im(dZ·W). The column gradient dZ·W is written over col.
cnn_status cnn_conv2d_backward(cnn_backend *be, const float *W, const float *dY, float *col, float *dZ, float *dW,
                               float *db, float *dX, int B, const cnn_window *g, int Cout);

// Max pooling (layers/maxpool.c), g's window with pad 0.
// X is (B, C*H*W), Y and argmax are (B, C*Hout*Wout): Y = max of each window, argmax = its position y*W + x.
cnn_status cnn_maxpool_forward(cnn_backend *be, const float *X, float *Y, int32_t *argmax, int B,
                               const cnn_window *g);
// dY and argmax are (B, C*Hout*Wout), dX is (B, C*H*W): dX = 0, then dX[argmax] += dY for every window.
cnn_status cnn_maxpool_backward(cnn_backend *be, const float *dY, const int32_t *argmax, float *dX, int B,
                                const cnn_window *g);

// The whole arena (n params, grads, momentum): one SGD step with momentum and weight decay.
cnn_status cnn_sgd_step(cnn_backend *be, const cnn_arena *arena, float lr, float momentum, float weight_decay);

// Weight initialisers (layers/init.c). W is (out,in), host memory:
// He/Kaiming normal, W ~ N(0, 2/in), the scale that keeps ReLU activations' variance (the MLP);
void cnn_he_normal_init(cnn_rng *rng, float *W, int out, int in);
// U(-1/√in, 1/√in), PyTorch's default for Linear and Conv2d (LeNet).
void cnn_fan_in_uniform_init(cnn_rng *rng, float *W, int out, int in);

#ifdef __cplusplus
}
#endif
#endif
