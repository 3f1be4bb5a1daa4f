// The CUDA backend's constructor in a build without the CUDA toolkit.
#include "core/backend.h"

cnn_status cnn_cuda_backend_create(int device_index, cnn_backend **out) {
    (void)device_index;
    *out = NULL;
    return cnn_error(CNN_ERR_UNSUPPORTED,
                     "this build has no CUDA backend (no CUDA compiler was found when it was configured); "
                     "install the CUDA toolkit and rebuild with cmake -DCNN_CUDA=ON, or use --backend=cpu");
}
