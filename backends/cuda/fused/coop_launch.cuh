// cnn_launch_cooperative: a launch whose blocks all run at once, so that the
// kernel may wait at grid-wide barriers (cooperative_groups::this_grid()
// .sync()). The fused kernels launch only through this and
// cnn_cooperative_blocks, so that the CPU emulator (tests/cuda_emu_shim.h)
// can supply its own versions and run the same launcher code on threads.
#ifndef CNN_CUDA_FUSED_COOP_LAUNCH_CUH
#define CNN_CUDA_FUSED_COOP_LAUNCH_CUH

#include <cuda_runtime.h>

#include "../launch.cuh"

namespace cnn_cuda {

// Queues kernel<<<grid, block, smem_bytes, stream>>>(args...) as a cooperative
// launch; returns its error (cudaErrorCooperativeLaunchTooLarge when the grid
// cannot be co-resident).
template <typename... KArgs, typename... Args>
static inline cudaError_t cnn_launch_cooperative(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem_bytes,
                                                 cudaStream_t stream, Args... args) {
    return [&](KArgs... kargs) {
        void *ptrs[] = {(void *)&kargs...};
        return cudaLaunchCooperativeKernel((const void *)kernel, grid, block, ptrs, smem_bytes, stream);
    }(args...);
}

// How many blocks of `threads` threads and smem_bytes dynamic shared memory
// the current device keeps resident at once, capped at one per SM (a
// persistent kernel's grid barrier costs more with more blocks).
template <typename... KArgs>
static inline cudaError_t cnn_cooperative_blocks(void (*kernel)(KArgs...), int threads, size_t smem_bytes,
                                                 int *blocks) {
    int dev = 0, coop = 0, sms = 0, per_sm = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    if (e == cudaSuccess)
        e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, (const void *)kernel, threads, smem_bytes);
    if (e != cudaSuccess) return e;
    if (!coop) return cudaErrorNotSupported;
    if (per_sm < 1) return cudaErrorCooperativeLaunchTooLarge;
    *blocks = sms;
    return cudaSuccess;
}

} // namespace cnn_cuda

#endif
