// The CPU backend's convolution and pooling ops (cpu_conv.c).
#ifndef CNN_CPU_CONV_H
#define CNN_CPU_CONV_H

#include "core/backend.h"

// Sets be's im2col, col2im, transpose, maxpool_forward and maxpool_backward.
void cnn_cpu_conv_register(cnn_backend *be);

#endif
