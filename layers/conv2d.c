// A 2-D convolution as im2col followed by one GEMM: each window of the input
// becomes a row of the column matrix, and the convolution is a linear layer
// applied to every row at once:
//
//   forward    col = im2col(X)           (B*P, K)          K = C*k*k, P = Hout*Wout
//              Z   = col·Wᵀ + b          (B*P, K)·(K, Cout) one GEMM, bias per column
//              Y   = Z as NCHW           (B, Cout*P)        a transpose per image
//   backward   dZ  = dY as NHWC          (B*P, Cout)
//              dW  = dZᵀ·col             (Cout, B*P)·(B*P, K)  GEMM 1: the filter gradient
//              db  = Σ_rows dZ
//              dcol = dZ·W               (B*P, Cout)·(Cout, K) GEMM 2: the column gradient
//              dX  = col2im(dcol)        each entry added back to the pixel it came from
//
// W is PyTorch's (Cout, C, k, k) weight read as a (Cout, K) filter matrix.
// Rows of col are ordered (b, oy, ox), so Z comes out with the channels
// last (NHWC): bias_add adds b to every row as it does for a linear layer,
// and a transpose per image puts the channels first (NCHW) for the next layer.
#include "layers.h"

static cnn_status need_conv_ops(cnn_backend *be) {
    if (!cnn_backend_supports(be, CNN_OP_IM2COL) || !cnn_backend_supports(be, CNN_OP_TRANSPOSE))
        return cnn_error(CNN_ERR_UNSUPPORTED, "the %s backend has no im2col/col2im/transpose, which conv2d needs: "
                                              "use --backend=cpu",
                         be->name);
    return CNN_OK;
}

// X is (B, C*H*W) NCHW, W is (Cout, C*k*k), b is (Cout), col is (B*P, C*k*k), Z is (B*P, Cout), Y is (B, Cout*P):
// Y = im2col(X)·Wᵀ + b (then max(Y,0) when relu), P = Hout*Wout of g.
cnn_status cnn_conv2d_forward(cnn_backend *be, const float *X, const float *W, const float *b, float *col, float *Z,
                              float *Y, int B, const cnn_window *g, int Cout, bool relu) {
    CNN_TRY(need_conv_ops(be));
    const int P = g->Hout * g->Wout, K = g->C * g->k * g->k;
    CNN_TRY(be->ops->im2col(be, X, col, B, g));                                         // col = im2col(X)
    CNN_TRY(cnn_gemm(be, false, true, B * P, Cout, K, 1.0f, col, K, W, K, 0.0f, Z, Cout)); // Z = col·Wᵀ
    CNN_TRY(be->ops->bias_add(be, b, Z, B * P, Cout, relu));                            // Z += b (ReLU fused)
    return be->ops->transpose(be, Z, Y, B, P, Cout);                                    // NHWC → NCHW
}

// W is (Cout, C*k*k), dY is (B, Cout*P), col is (B*P, C*k*k) from the forward pass (overwritten), dZ is
// (B*P, Cout) scratch, dW is (Cout, C*k*k), db is (Cout), dX is (B, C*H*W) or NULL:
// dW = dZᵀ·col, db = Σ_rows dZ, dX = col2im(dZ·W) with dZ = dY as NHWC (dX skipped when NULL).
cnn_status cnn_conv2d_backward(cnn_backend *be, const float *W, const float *dY, float *col, float *dZ, float *dW,
                               float *db, float *dX, int B, const cnn_window *g, int Cout) {
    CNN_TRY(need_conv_ops(be));
    const int P = g->Hout * g->Wout, K = g->C * g->k * g->k;
    CNN_TRY(be->ops->transpose(be, dY, dZ, B, Cout, P));                                      // NCHW → NHWC
    CNN_TRY(cnn_gemm(be, true, false, Cout, K, B * P, 1.0f, dZ, Cout, col, K, 0.0f, dW, K)); // dW = dZᵀ·col
    CNN_TRY(be->ops->colsum(be, dZ, db, B * P, Cout, 0.0f));                                 // db = Σ_rows dZ
    if (!dX) return CNN_OK; // the first layer needs no input gradient
    // dcol = dZ·W, written over col: dW above was its last reader (saves a (B*P, K) buffer)
    CNN_TRY(cnn_gemm(be, false, false, B * P, K, Cout, 1.0f, dZ, Cout, W, K, 0.0f, col, K));
    return be->ops->col2im(be, col, dX, B, g); // dX = col2im(dcol)
}
