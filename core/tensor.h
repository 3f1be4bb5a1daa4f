// A row-major matrix view: (rows, cols) with a leading dimension, on a device.
//
// Tensors do not own memory: buffers come from the parameter arena or from
// the backend's alloc. Higher-rank data (NCHW images) is stored as
// (N, C*H*W) rows.
#ifndef CNN_TENSOR_H
#define CNN_TENSOR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CNN_DEVICE_CPU = 0, CNN_DEVICE_CUDA = 1 } cnn_device;

typedef struct {
    float *data;
    int rows, cols;
    int ld; // elements between the starts of consecutive rows, >= cols
    cnn_device device;
} cnn_tensor;

static inline cnn_tensor cnn_tensor_make(float *data, int rows, int cols, cnn_device device) {
    cnn_tensor t = {data, rows, cols, cols, device};
    return t;
}

static inline size_t cnn_tensor_numel(cnn_tensor t) { return (size_t)t.rows * (size_t)t.cols; }

const char *cnn_device_name(cnn_device device);

#ifdef __cplusplus
}
#endif
#endif
