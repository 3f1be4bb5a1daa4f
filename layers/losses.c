#include "layers.h"

// logits is (B,C), labels is (B), stats is (2): loss sum and correct count, no gradient.
cnn_status cnn_softmax_xent_forward(cnn_backend *be, const float *logits, const int32_t *labels, float *stats, int B,
                                    int C) {
    return be->ops->softmax_xent(be, logits, labels, NULL, stats, B, C, 0.0f);
}

// logits, dlogits are (B,C), labels is (B): dlogits = (softmax - onehot) / B.
cnn_status cnn_softmax_xent_backward(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                                     float *stats, int B, int C) {
    return cnn_softmax_xent_backward_mean(be, logits, labels, dlogits, stats, B, C, B);
}

// logits, dlogits are (B,C), labels is (B): dlogits = (softmax - onehot) / n_mean, the gradient of the mean
// loss over n_mean rows of which these B are a part (a data-parallel rank's shard of the global batch).
cnn_status cnn_softmax_xent_backward_mean(cnn_backend *be, const float *logits, const int32_t *labels, float *dlogits,
                                          float *stats, int B, int C, int n_mean) {
    return be->ops->softmax_xent(be, logits, labels, dlogits, stats, B, C, 1.0f / (float)n_mean);
}

// pred, target are (B,C), stats is (2): loss sum and argmax agreements, no gradient.
cnn_status cnn_mse_forward(cnn_backend *be, const float *pred, const float *target, float *stats, int B, int C) {
    return be->ops->mse(be, pred, target, NULL, stats, B, C, 0.0f);
}

// pred, target, dpred are (B,C): dpred = 2 (pred - target) / (B·C).
cnn_status cnn_mse_backward(cnn_backend *be, const float *pred, const float *target, float *dpred, float *stats, int B,
                            int C) {
    return be->ops->mse(be, pred, target, dpred, stats, B, C, 1.0f / (float)B);
}
