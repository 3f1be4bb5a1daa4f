// cnn_launch: queues a kernel on a stream. The kernel headers launch only
// through this, so that the CPU emulation test (tests/test_cuda_emu.cpp) can
// supply its own version and run the same host code and kernels on threads.
#ifndef CNN_CUDA_LAUNCH_CUH
#define CNN_CUDA_LAUNCH_CUH

#include <cuda_runtime.h>

namespace cnn_cuda {

// Queues kernel<<<grid, block, 0, stream>>>(args...). The caller checks
// cudaGetLastError() afterwards (the kernel headers' launch_* functions do).
template <typename... KArgs, typename... Args>
static inline void cnn_launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, cudaStream_t stream, Args... args) {
    kernel<<<grid, block, 0, stream>>>(args...);
}

} // namespace cnn_cuda

#endif
