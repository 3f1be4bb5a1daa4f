// The fused evaluation pass: one persistent cooperative kernel runs the
// whole test set through an MLP of core/mlp_step.h (1 or 2 hidden layers,
// up to 16 classes) and adds its summed loss and hit count to stats, where
// the op-by-op path (models/train.c evaluate()) queues gather, the forward
// ops and softmax_xent for every chunk of rows. It reuses the training
// step's phases (mlp_step.cuh), with the chunk's row count passed in. Per
// chunk of B rows (the last one may be shorter):
//
//   gather   X, y <- the chunk through the cursor (block 0 then moves it on)  | barrier
//   hidden l act[l] = ReLU(in W[l]^T + b[l]), for each hidden layer            | barrier each
//   output   logits in registers, softmax, each row's -log p[label] and hit
//            to row_stats[chunk start + row] (no gradient)                     | barrier
//
// then block 0 adds the rows' loss and hits in a fixed order: thread t sums
// rows t, t + 256, ... in double, the 256 partial sums are added by a tree
// in shared memory, and stats[0], stats[1] get the two totals. The order
// depends only on eval_rows, never on the grid size: the same bits for any
// grid. Against the op-by-op pass, the forward GEMMs and the output dot
// products add in another order (as in the training step, mlp_step.cuh),
// and the loss is one double sum instead of one per chunk added in float.
//
// Plain C++ too (the CPU emulator, tests/cuda_emu_shim.h).
#ifndef CNN_CUDA_FUSED_MLP_EVAL_CUH
#define CNN_CUDA_FUSED_MLP_EVAL_CUH

#include "mlp_step.cuh"

namespace cnn_cuda {

// Block 0's reduction keeps 2 x FUSED_THREADS doubles in the dynamic shared memory the tiles use.
static_assert(2 * FUSED_THREADS * sizeof(double) <= FUSED_SMEM_BYTES, "the eval reduction fits the tile buffers");

// row_stats (n, 2) -> stats (2) += the column sums, by block 0 only in a fixed order (this file's header).
__device__ void fused_eval_total(const double *row_stats, int n, float *stats) {
    if (blockIdx.x != 0) return;
    double *sum = (double *)cnn_dynamic_smem(), *hit = sum + FUSED_THREADS;
    const int t = threadIdx.x;
    double s = 0.0, h = 0.0;
    for (int i = t; i < n; i += FUSED_THREADS) s += row_stats[2 * (size_t)i], h += row_stats[2 * (size_t)i + 1];
    sum[t] = s, hit[t] = h;
    __syncthreads();
    for (int half = FUSED_THREADS / 2; half > 0; half /= 2) {
        if (t < half) sum[t] += sum[t + half], hit[t] += hit[t + half];
        __syncthreads();
    }
    if (t == 0) stats[0] += (float)sum[0], stats[1] += (float)hit[0];
}

// a.eval_rows rows of the MLP of core/mlp_step.h in chunks of a.B -> stats += loss sum, hits
// (phases: this file's header); grid: any number of co-resident blocks of FUSED_THREADS threads,
// FUSED_SMEM_BYTES dynamic shared memory each. Bounds of 1 block per SM (the launcher's grid): without
// them ptxas kept it to 64 registers and spilled; with them 127 registers, no spills (sm_90).
__global__ void __launch_bounds__(FUSED_THREADS, 1) k_mlp_eval_fused(const cnn_mlp_fused_args a) {
    float *As = (float *)cnn_dynamic_smem(), *Bs = As + FUSED_TILE * FUSED_SLD;
    const bool leader = blockIdx.x == 0 && threadIdx.x == 0;
    for (int r0 = 0; r0 < a.eval_rows; r0 += a.B) {
        const int rows = a.eval_rows - r0 < a.B ? a.eval_rows - r0 : a.B;
        fused_gather(a, rows);
        fused_grid_sync();
        if (leader) a.cursor->start += (uint32_t)rows; // every block has read it; the next read is 2 barriers away
        for (int l = 0; l < a.n_hidden; l++) {
            fused_hidden_forward(a, l, rows, As, Bs);
            fused_grid_sync();
        }
        fused_output<false>(a, rows, a.row_stats + 2 * (size_t)r0);
        fused_grid_sync(); // the next gather overwrites y; the total reads every row
    }
    fused_eval_total(a.row_stats, a.eval_rows, a.stats);
}

} // namespace cnn_cuda

#endif
