#include "layers.h"

// logits is (B,C), labels is (B), stats is (2): loss sum and correct count, no gradient.
cnn_status softmax_xent_forward(cnn_backend *be, const float *logits, const int32_t *labels, int B, int C,
                                float *stats) {
    return be->softmax_xent(be, logits, labels, B, C, 0.0f, NULL, stats);
}

// logits, dlogits are (B,C), labels is (B): dlogits = (softmax - onehot) / B.
cnn_status softmax_xent_backward(cnn_backend *be, const float *logits, const int32_t *labels, int B, int C,
                                 float *dlogits, float *stats) {
    return be->softmax_xent(be, logits, labels, B, C, 1.0f / (float)B, dlogits, stats);
}

// pred, target are (B,C), stats is (2): loss sum and argmax agreements, no gradient.
cnn_status mse_forward(cnn_backend *be, const float *pred, const float *target, int B, int C, float *stats) {
    return be->mse(be, pred, target, B, C, 0.0f, NULL, stats);
}

// pred, target, dpred are (B,C): dpred = 2 (pred - target) / (B·C).
cnn_status mse_backward(cnn_backend *be, const float *pred, const float *target, int B, int C, float *dpred,
                        float *stats) {
    return be->mse(be, pred, target, B, C, 1.0f / (float)B, dpred, stats);
}
