// The host launcher of the fused MLP training step (mlp_step.cuh):
//   cudaError_t launch_mlp_step_fused(const cnn_mlp_fused_args *a, cudaStream_t s)
// checks the arguments and queues a->steps SGD steps as one cooperative
// launch on s. The GPU build gets its launches from coop_launch.cuh and
// launch.cuh; the CPU emulator (tests/cuda_emu_shim.h) defines
// CNN_CUDA_EMULATED and supplies its own cnn_launch, cnn_launch_cooperative
// and cnn_cooperative_blocks.
#ifndef CNN_CUDA_FUSED_MLP_STEP_LAUNCH_CUH
#define CNN_CUDA_FUSED_MLP_STEP_LAUNCH_CUH

#ifndef CNN_CUDA_EMULATED
#include "coop_launch.cuh"
#endif
#include "mlp_step.cuh"

namespace cnn_cuda {

// Whether a describes a model and step the fused kernel runs (sizes, pointers, steps).
static inline bool mlp_fused_args_ok(const cnn_mlp_fused_args *a) {
    if (!a || a->B < 1 || a->D < 1 || a->C < 2 || a->C > CNN_FUSED_MAX_CLASSES || a->steps < 1) return false;
    if (a->n_hidden < 1 || a->n_hidden > CNN_FUSED_MAX_HIDDEN || a->grid_blocks < 0) return false;
    if (!a->images || !a->labels || !a->cursor || !a->X || !a->y || !a->dlogits || !a->row_stats || !a->stats)
        return false;
    for (int l = 0; l <= a->n_hidden; l++) {
        if (l < a->n_hidden && (a->hidden[l] < 1 || !a->act[l] || !a->dact[l])) return false;
        if (!a->W[l] || !a->b[l] || !a->dW[l] || !a->db[l] || !a->vW[l] || !a->vb[l]) return false;
    }
    return true;
}

// Queues a->steps fused SGD steps on s (cudaErrorInvalidValue for bad arguments).
static inline cudaError_t launch_mlp_step_fused(const cnn_mlp_fused_args *a, cudaStream_t s) {
    if (!mlp_fused_args_ok(a)) return cudaErrorInvalidValue;
    int blocks = a->grid_blocks;
    if (blocks == 0) {
        cudaError_t e = cnn_cooperative_blocks(k_mlp_step_fused, FUSED_THREADS, FUSED_SMEM_BYTES, &blocks);
        if (e != cudaSuccess) return e;
    }
    return cnn_launch_cooperative(k_mlp_step_fused, dim3(blocks), dim3(FUSED_THREADS), FUSED_SMEM_BYTES, s, *a);
}

} // namespace cnn_cuda

#endif
