// The backends test_backend_ops compares with the CPU that are test doubles.
#ifndef CNN_TEST_BACKEND_OPS_H
#define CNN_TEST_BACKEND_OPS_H

#include "core/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// A backend whose ops run the CUDA backend's kernels on the CPU through the
// emulator (tests/emu_backend.cpp), in host memory. Where no C++ compiler
// built it (tests/emu_backend_none.c), fails with CNN_ERR_UNSUPPORTED and says why.
cnn_status test_emu_backend_create(cnn_backend **out);
// How many times that backend's mlp_eval entry ran (a test that the training
// loop took the fused evaluation pass); 0 without the emulator.
long test_emu_backend_mlp_evals(const cnn_backend *be);

#ifdef __cplusplus
}
#endif
#endif
