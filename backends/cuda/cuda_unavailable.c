// The CUDA backend's entry points in a build without the CUDA toolkit.
#include <stdio.h>

#include "backends/cuda/cuda_devices.h"
#include "core/backend.h"

cnn_status cnn_cuda_backend_create(int device_index, cnn_backend **out) {
    (void)device_index;
    *out = NULL;
    return cnn_error(CNN_ERR_UNSUPPORTED,
                     "this build has no CUDA backend (no CUDA compiler was found when it was configured); "
                     "install the CUDA toolkit and rebuild with cmake -DCNN_CUDA=ON, or use --backend=cpu");
}

cnn_status cnn_cuda_backend_describe(cnn_backend *out) {
    (void)out;
    return cnn_cuda_backend_create(0, &out);
}

int cnn_cuda_device_count(char *why, size_t why_len) {
    if (why && why_len) snprintf(why, why_len, "this build has no CUDA backend");
    return 0;
}

const cnn_gemm_variant cnn_cuda_gemm_variants[1] = {{.name = NULL}};
const int cnn_cuda_gemm_variant_count = 0;
const char *const cnn_cuda_gemm_default = "";
