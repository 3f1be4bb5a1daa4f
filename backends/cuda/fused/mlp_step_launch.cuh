// The host launchers of the fused MLP training step (mlp_step.cuh) and
// evaluation pass (mlp_eval.cuh):
//   cudaError_t launch_mlp_step_fused(const cnn_mlp_fused_args *a, cudaStream_t s)
//   cudaError_t launch_mlp_eval_fused(const cnn_mlp_fused_args *a, cudaStream_t s)
// check the arguments and queue a->steps SGD steps, or the evaluation of
// a->eval_rows rows, as one cooperative launch on s. The GPU build gets its launches from coop_launch.cuh and
// launch.cuh; the CPU emulator (tests/cuda_emu_shim.h) defines
// CNN_CUDA_EMULATED and supplies its own cnn_launch, cnn_launch_cooperative
// and cnn_cooperative_blocks.
#ifndef CNN_CUDA_FUSED_MLP_STEP_LAUNCH_CUH
#define CNN_CUDA_FUSED_MLP_STEP_LAUNCH_CUH

#ifndef CNN_CUDA_EMULATED
#include "coop_launch.cuh"
#endif
#include "mlp_eval.cuh"
#include "mlp_step.cuh"

namespace cnn_cuda {

// Whether a describes a model, data and scratch the fused forward pass runs (sizes and the pointers it reads).
static inline bool mlp_forward_args_ok(const cnn_mlp_fused_args *a) {
    if (!a || a->B < 1 || a->D < 1 || a->C < 2 || a->C > CNN_FUSED_MAX_CLASSES) return false;
    if (a->n_hidden < 1 || a->n_hidden > CNN_FUSED_MAX_HIDDEN || a->grid_blocks < 0) return false;
    if (!a->images || !a->labels || !a->cursor || !a->X || !a->y || !a->row_stats || !a->stats) return false;
    for (int l = 0; l <= a->n_hidden; l++) {
        if (l < a->n_hidden && (a->hidden[l] < 1 || !a->act[l])) return false;
        if (!a->W[l] || !a->b[l]) return false;
    }
    return true;
}

// Whether a describes a model and step the fused kernel runs (sizes, pointers, steps).
static inline bool mlp_fused_args_ok(const cnn_mlp_fused_args *a) {
    if (!mlp_forward_args_ok(a) || a->steps < 1 || !a->dlogits || (a->grad_only && a->steps != 1)) return false;
    for (int l = 0; l <= a->n_hidden; l++) {
        if (l < a->n_hidden && !a->dact[l]) return false;
        if (!a->dW[l] || !a->db[l] || !a->vW[l] || !a->vb[l]) return false;
    }
    return true;
}

// Whether a describes an evaluation pass the fused kernel runs (sizes, the pointers it reads, eval_rows).
static inline bool mlp_eval_args_ok(const cnn_mlp_fused_args *a) { return mlp_forward_args_ok(a) && a->eval_rows >= 1; }

// Queues kernel (k_mlp_step_fused or k_mlp_eval_fused) on a's grid (grid_blocks, or 0: one block per SM).
static inline cudaError_t launch_mlp_fused_kernel(void (*kernel)(const cnn_mlp_fused_args), const cnn_mlp_fused_args *a,
                                                  cudaStream_t s) {
    int blocks = a->grid_blocks;
    if (blocks == 0) {
        cudaError_t e = cnn_cooperative_blocks(kernel, FUSED_THREADS, FUSED_SMEM_BYTES, &blocks);
        if (e != cudaSuccess) return e;
    }
    return cnn_launch_cooperative(kernel, dim3(blocks), dim3(FUSED_THREADS), FUSED_SMEM_BYTES, s, *a);
}

// Queues a->steps fused SGD steps on s (cudaErrorInvalidValue for bad arguments).
static inline cudaError_t launch_mlp_step_fused(const cnn_mlp_fused_args *a, cudaStream_t s) {
    if (!mlp_fused_args_ok(a)) return cudaErrorInvalidValue;
    return launch_mlp_fused_kernel(k_mlp_step_fused, a, s);
}

// Queues the evaluation of a->eval_rows rows on s (cudaErrorInvalidValue for bad arguments).
static inline cudaError_t launch_mlp_eval_fused(const cnn_mlp_fused_args *a, cudaStream_t s) {
    if (!mlp_eval_args_ok(a)) return cudaErrorInvalidValue;
    return launch_mlp_fused_kernel(k_mlp_eval_fused, a, s);
}

} // namespace cnn_cuda

#endif
