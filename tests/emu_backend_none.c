// test_emu_backend_create where no C++ compiler could build the emulator.
#include "test_backend_ops.h"

cnn_status test_emu_backend_create(cnn_backend **out) {
    *out = NULL;
    return cnn_error(CNN_ERR_UNSUPPORTED, "this build has no C++ compiler, so the CUDA kernels' emulator was not built");
}

long test_emu_backend_mlp_evals(const cnn_backend *be) {
    (void)be;
    return 0;
}
