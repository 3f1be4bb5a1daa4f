// The fused MLP training step: one persistent cooperative kernel runs whole
// SGD steps of an MLP with 1 or 2 hidden layers (sizes, layout and the op
// sequence it reproduces: core/mlp_step.h), with grid-wide barriers between
// its phases instead of one kernel launch per op. Per step:
//
//   gather   X, y <- the batch through the keyed permutation cursor      | barrier
//   hidden l act[l] = ReLU(in W[l]^T + b[l]), for each hidden layer     | barrier each
//   output   logits (kept in registers), softmax cross-entropy, per-row
//            loss and hit, dlogits = (softmax - onehot) / B              | barrier
//   back l   for l = last .. 1: dW[l] = dY^T in, db[l] = column sums of
//            dY, dact[l-1] = (dY W[l]) masked by act[l-1] > 0           | barrier each
//   first    dW[0] = dact[0]^T X and db[0] with the SGD update of layer 0
//            fused into their epilogue, and the SGD update of every
//            other layer (whose W is no longer read in this step)       | barrier (before the next gather)
//
// Work in a phase is split into items (32x32 output tiles, 256-column
// strips for the bias sums, warp rows for the output layer) that the blocks
// take in turn (item = blockIdx.x, += gridDim.x). Every output element is
// computed by one thread, summed in a fixed order (ascending k; rows in
// order for the bias sums and the loss), so the results are the same bits
// run after run and for any grid size. No atomics.
//
// Against the op-by-op step (models/train.c on the same backend): gather,
// ReLU, the bias sums and SGD are the same float operations (bitwise); the
// GEMMs sum over k in ascending order with one accumulator (the ladder and
// the CPU GEMMs use other orders, so the last bits differ); the output
// layer's dot products are split over the 32 lanes of a warp and added by a
// butterfly; the softmax uses the float formulation of k_softmax_xent (the
// CPU backend uses double) with the sum of exponentials in class order; the
// loss and hits are added in row order in double, once per step.
//
// Plain C++ too: tests/test_cuda_emu_fused.cpp runs it on the CPU through
// tests/cuda_emu_shim.h, which supplies cnn_dynamic_smem() and
// cooperative_groups::this_grid().
#ifndef CNN_CUDA_FUSED_MLP_STEP_CUH
#define CNN_CUDA_FUSED_MLP_STEP_CUH

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#include <cooperative_groups.h>
#endif

#include "../gemm/tiles.cuh"
#include "../ops_kernels.cuh"
#include "core/perm.h"
#include "core/mlp_step.h"

namespace cnn_cuda {

constexpr int FUSED_THREADS = 256;                // threads per block (8 warps)
constexpr int FUSED_TILE = 32;                    // GEMM output tiles are 32x32, K staged 32 at a time
constexpr int FUSED_SLD = FUSED_TILE + 1;         // padded shared rows: transposed loads hit 32 banks
constexpr int FUSED_COLSUM = FUSED_THREADS;       // bias-sum columns per item (one per thread)
constexpr size_t FUSED_SMEM_BYTES = 2 * FUSED_TILE * FUSED_SLD * sizeof(float);

#ifdef __CUDACC__
// The block's dynamic shared memory (FUSED_SMEM_BYTES, given at launch).
__device__ __forceinline__ void *cnn_dynamic_smem(void) {
    extern __shared__ __align__(16) unsigned char cnn_fused_smem[];
    return cnn_fused_smem;
}
#endif

__device__ __forceinline__ void fused_grid_sync(void) { cooperative_groups::this_grid().sync(); }

// Layer l's input and output features (l = 0 .. n_hidden).
__device__ __forceinline__ int fused_in(const cnn_mlp_fused_args &a, int l) { return l ? a.hidden[l - 1] : a.D; }
__device__ __forceinline__ int fused_out(const cnn_mlp_fused_args &a, int l) {
    return l < a.n_hidden ? a.hidden[l] : a.C;
}

// w, v are one parameter and its momentum, g its gradient: PyTorch's SGD step, rounded as k_sgd.
__device__ __forceinline__ void fused_sgd_one(float *w, float g, float *v, float lr, float momentum, float wd) {
    const float wi = *w;
    const float grad = __fadd_rn(g, __fmul_rn(wd, wi));
    const float vel = __fadd_rn(__fmul_rn(momentum, *v), grad);
    *v = vel;
    *w = __fsub_rn(wi, __fmul_rn(lr, vel));
}

// C (M,N) = op(A) (M,K) op(B) (K,N), one 32x32 tile at (i0, j0); As, Bs are (32, 33) shared.
// acc[r] = C(i0 + ty + 8r, j0 + tx) for thread (tx, ty) = (tid % 32, tid / 32), summed over k in order.
template <bool TA, bool TB>
__device__ __forceinline__ void fused_tile(int M, int N, int K, const float *__restrict__ A, int lda,
                                           const float *__restrict__ B, int ldb, int i0, int j0, float *As,
                                           float *Bs, float acc[4]) {
    constexpr int T = FUSED_TILE, SLD = FUSED_SLD;
    const int tid = threadIdx.x, tx = tid % T, ty = tid / T;
    for (int r = 0; r < 4; r++) acc[r] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += T) {
        load_tile<TA, T, T, FUSED_THREADS, false, SLD>(A, lda, M, K, i0, k0, As, tid);
        load_tile<TB, T, T, FUSED_THREADS, false, SLD>(B, ldb, K, N, k0, j0, Bs, tid);
        __syncthreads();
#pragma unroll 8
        for (int k = 0; k < T; k++) {
            const float bv = Bs[k * SLD + tx];
#pragma unroll
            for (int r = 0; r < 4; r++) acc[r] += As[(ty + 8 * r) * SLD + k] * bv;
        }
        __syncthreads();
    }
}

// images (n,D) u8, labels (n) u8 -> X (rows,D), y (rows): row i is example perm(cursor.start + i), as k_gather
// (past the data: a zero row, label 0 and DEVERR_GATHER_RANGE). Block per row, threads along D. rows <= a.B.
__device__ void fused_gather(const cnn_mlp_fused_args &a, int rows) {
    const cnn_perm perm = a.cursor->perm;
    const uint32_t start = a.cursor->start;
    for (int i = blockIdx.x; i < rows; i += gridDim.x) {
        float *dst = a.X + (size_t)i * a.D;
        const uint64_t pos = (uint64_t)start + (uint64_t)i;
        if (pos >= perm.n) {
            for (int d = threadIdx.x; d < a.D; d += blockDim.x) dst[d] = 0.0f;
            if (threadIdx.x == 0) {
                a.y[i] = 0;
                if (a.err) *a.err = DEVERR_GATHER_RANGE;
            }
            continue;
        }
        const uint32_t j = cnn_perm_apply(&perm, (uint32_t)pos);
        const uint8_t *src = a.images + (size_t)j * a.D;
        for (int d = threadIdx.x; d < a.D; d += blockDim.x)
            dst[d] = __fadd_rn(__fmul_rn((float)src[d], a.scale), a.shift);
        if (threadIdx.x == 0) a.y[i] = a.labels[j];
    }
}

// in (rows, in_l), W[l] (out_l, in_l), b[l] (out_l) -> act[l] (rows, out_l) = ReLU(in W^T + b); 32x32 tiles.
__device__ void fused_hidden_forward(const cnn_mlp_fused_args &a, int l, int rows, float *As, float *Bs) {
    const int in = fused_in(a, l), out = fused_out(a, l);
    const float *X = l ? a.act[l - 1] : a.X;
    const float *W = a.W[l], *b = a.b[l];
    float *Y = a.act[l];
    const int tn = cdiv(out, FUSED_TILE), tiles = cdiv(rows, FUSED_TILE) * tn;
    const int tx = threadIdx.x % FUSED_TILE, ty = threadIdx.x / FUSED_TILE;
    for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int i0 = (t / tn) * FUSED_TILE, j0 = (t % tn) * FUSED_TILE;
        float acc[4];
        fused_tile<false, true>(rows, out, in, X, in, W, in, i0, j0, As, Bs, acc);
        const int j = j0 + tx;
        if (j >= out) continue;
        for (int r = 0; r < 4; r++) {
            const int i = i0 + ty + 8 * r;
            if (i >= rows) break;
            const float v = acc[r] + b[j];
            Y[(size_t)i * out + j] = v > 0.0f ? v : 0.0f;
        }
    }
}

// act[n_hidden-1] (rows,H), W, b of the last layer (C,H), (C), y (rows) -> row_stats (rows,2), and with GRAD
// a.dlogits (rows,C) (without: the evaluation pass). One warp per row: lane k-slices of the C dot products
// added by a butterfly (every lane ends with all C logits), then softmax, -log p[label], the first argmax and
// (softmax - onehot) / a.B, as k_softmax_xent.
template <bool GRAD>
__device__ void fused_output(const cnn_mlp_fused_args &a, int rows, double *row_stats) {
    const int l = a.n_hidden, H = fused_in(a, l), C = a.C;
    const float *Hact = a.act[l - 1], *W = a.W[l], *b = a.b[l];
    const int warps = gridDim.x * (FUSED_THREADS / 32);
    const int lane = threadIdx.x % 32;
    const float grad_scale = a.grad_scale != 0.0f ? a.grad_scale : 1.0f / (float)a.B;
    for (int row = blockIdx.x * (FUSED_THREADS / 32) + threadIdx.x / 32; row < rows; row += warps) {
        const float *h = Hact + (size_t)row * H;
        float z[CNN_FUSED_MAX_CLASSES];
#pragma unroll
        for (int c = 0; c < CNN_FUSED_MAX_CLASSES; c++) z[c] = 0.0f;
        for (int k = lane; k < H; k += 32) {
            const float hv = h[k];
#pragma unroll
            for (int c = 0; c < CNN_FUSED_MAX_CLASSES; c++)
                if (c < C) z[c] += hv * W[(size_t)c * H + k];
        }
#pragma unroll
        for (int c = 0; c < CNN_FUSED_MAX_CLASSES; c++)
            if (c < C) z[c] = warp_sum(z[c]) + b[c];
        float *d = GRAD ? a.dlogits + (size_t)row * C : NULL;
        const int label = a.y[row];
        if (label < 0 || label >= C) { // flagged; the row adds nothing (as k_softmax_xent)
            if (lane == 0) {
                if (a.err) *a.err = DEVERR_LABEL;
                row_stats[2 * row] = 0.0, row_stats[2 * row + 1] = 0.0;
            }
            if (GRAD)
                for (int c = lane; c < C; c += 32) d[c] = 0.0f;
            continue;
        }
        int arg = 0;
        float zmax = z[0], zlabel = z[0], zmine = z[0];
#pragma unroll
        for (int c = 1; c < CNN_FUSED_MAX_CLASSES; c++)
            if (c < C && z[c] > zmax) zmax = z[c], arg = c;
        float s = 0.0f;
#pragma unroll
        for (int c = 0; c < CNN_FUSED_MAX_CLASSES; c++)
            if (c < C) {
                s += expf(z[c] - zmax);
                if (c == label) zlabel = z[c];
                if (c == lane) zmine = z[c];
            }
        if (lane == 0) {
            row_stats[2 * row] = (double)logf(s) - ((double)zlabel - (double)zmax);
            row_stats[2 * row + 1] = arg == label;
        }
        if (GRAD && lane < C) {
            const float p = expf(zmine - zmax) * (1.0f / s);
            d[lane] = grad_scale * (lane == label ? p - 1.0f : p);
        }
    }
}

// dY (B,N) -> db (N): column sums in row order (as the CPU's colsum); item = 256 columns, one per thread.
// With SGD, b and vb (N) are updated with the sum at once (the first layer's fused update).
__device__ __forceinline__ void fused_colsum_item(const cnn_mlp_fused_args &a, int item, const float *dY, int N,
                                                  float *db, float *b, float *vb) {
    const int j = item * FUSED_COLSUM + threadIdx.x;
    if (j >= N) return;
    float s = 0.0f;
    for (int i = 0; i < a.B; i++) s += dY[(size_t)i * N + j];
    db[j] = s;
    if (b) fused_sgd_one(&b[j], s, &vb[j], a.lr, a.momentum, a.wd);
}

// Layer l >= 1, dY (B,out) = dlogits or dact[l]: dW[l] (out,in) = dY^T act[l-1], db[l] (out) = column sums
// of dY, dact[l-1] (B,in) = (dY W[l]) where act[l-1] > 0, else 0 (the fused ReLU's backward).
__device__ void fused_backward(const cnn_mlp_fused_args &a, int l, float *As, float *Bs) {
    const int in = fused_in(a, l), out = fused_out(a, l);
    const float *dY = l == a.n_hidden ? a.dlogits : a.dact[l];
    const float *Xin = a.act[l - 1], *W = a.W[l];
    float *dW = a.dW[l], *dX = a.dact[l - 1];
    const int tw = cdiv(in, FUSED_TILE), n_dw = cdiv(out, FUSED_TILE) * tw;
    const int n_dx = cdiv(a.B, FUSED_TILE) * tw, n_db = cdiv(out, FUSED_COLSUM);
    const int tx = threadIdx.x % FUSED_TILE, ty = threadIdx.x / FUSED_TILE;
    for (int t = blockIdx.x; t < n_dw + n_dx + n_db; t += gridDim.x) {
        if (t >= n_dw + n_dx) {
            fused_colsum_item(a, t - n_dw - n_dx, dY, out, a.db[l], NULL, NULL);
            continue;
        }
        const bool is_dw = t < n_dw;
        const int u = is_dw ? t : t - n_dw;
        const int i0 = (u / tw) * FUSED_TILE, j0 = (u % tw) * FUSED_TILE, j = j0 + tx;
        float acc[4];
        if (is_dw)
            fused_tile<true, false>(out, in, a.B, dY, out, Xin, in, i0, j0, As, Bs, acc);
        else
            fused_tile<false, false>(a.B, in, out, dY, out, W, in, i0, j0, As, Bs, acc);
        const int M = is_dw ? out : a.B;
        if (j >= in) continue;
        for (int r = 0; r < 4; r++) {
            const int i = i0 + ty + 8 * r;
            if (i >= M) break;
            const size_t e = (size_t)i * in + j;
            if (is_dw)
                dW[e] = acc[r];
            else
                dX[e] = Xin[e] > 0.0f ? acc[r] : 0.0f;
        }
    }
}

// Layer 0: dW[0] (out,D) = dact[0]^T X and db[0], each element's SGD update applied as it is written;
// then the SGD update of layers 1 .. n_hidden over all their elements (grid-stride). With a.grad_only:
// the gradients only (a data-parallel rank sums them over the ranks before its SGD update).
__device__ void fused_first_and_sgd(const cnn_mlp_fused_args &a, float *As, float *Bs) {
    const int in = a.D, out = fused_out(a, 0);
    const float *dY = a.dact[0];
    const int tw = cdiv(in, FUSED_TILE), n_dw = cdiv(out, FUSED_TILE) * tw, n_db = cdiv(out, FUSED_COLSUM);
    const int tx = threadIdx.x % FUSED_TILE, ty = threadIdx.x / FUSED_TILE;
    for (int t = blockIdx.x; t < n_dw + n_db; t += gridDim.x) {
        if (t >= n_dw) {
            fused_colsum_item(a, t - n_dw, dY, out, a.db[0], a.grad_only ? NULL : a.b[0], a.vb[0]);
            continue;
        }
        const int i0 = (t / tw) * FUSED_TILE, j0 = (t % tw) * FUSED_TILE, j = j0 + tx;
        float acc[4];
        fused_tile<true, false>(out, in, a.B, dY, out, a.X, in, i0, j0, As, Bs, acc);
        if (j >= in) continue;
        for (int r = 0; r < 4; r++) {
            const int i = i0 + ty + 8 * r;
            if (i >= out) break;
            const size_t e = (size_t)i * in + j;
            a.dW[0][e] = acc[r];
            if (!a.grad_only) fused_sgd_one(&a.W[0][e], acc[r], &a.vW[0][e], a.lr, a.momentum, a.wd);
        }
    }
    if (a.grad_only) return;
    const size_t stride = (size_t)gridDim.x * blockDim.x, first = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (int l = 1; l <= a.n_hidden; l++) {
        const size_t nw = (size_t)fused_out(a, l) * fused_in(a, l), nb = (size_t)fused_out(a, l);
        for (size_t e = first; e < nw; e += stride)
            fused_sgd_one(&a.W[l][e], a.dW[l][e], &a.vW[l][e], a.lr, a.momentum, a.wd);
        for (size_t e = first; e < nb; e += stride)
            fused_sgd_one(&a.b[l][e], a.db[l][e], &a.vb[l][e], a.lr, a.momentum, a.wd);
    }
}

// a.steps SGD steps of the MLP of core/mlp_step.h (phases and barriers: this file's header);
// grid: any number of co-resident blocks of FUSED_THREADS, FUSED_SMEM_BYTES dynamic shared memory each.
__global__ void __launch_bounds__(FUSED_THREADS) k_mlp_step_fused(const cnn_mlp_fused_args a) {
    float *As = (float *)cnn_dynamic_smem(), *Bs = As + FUSED_TILE * FUSED_SLD;
    const bool leader = blockIdx.x == 0 && threadIdx.x == 0;
    for (int step = 0; step < a.steps; step++) {
        fused_gather(a, a.B);
        fused_grid_sync();
        if (leader) // every block has read it; the next read is a step away
            a.cursor->start += a.cursor->stride ? a.cursor->stride : (uint32_t)a.B;
        for (int l = 0; l < a.n_hidden; l++) {
            fused_hidden_forward(a, l, a.B, As, Bs);
            fused_grid_sync();
        }
        fused_output<true>(a, a.B, a.row_stats);
        fused_grid_sync();
        if (leader) { // this step's loss and hits, added in row order (as the CPU backend)
            double loss = 0.0, correct = 0.0;
            for (int i = 0; i < a.B; i++) loss += a.row_stats[2 * i], correct += a.row_stats[2 * i + 1];
            a.stats[0] += (float)loss;
            a.stats[1] += (float)correct;
            if (a.err) { // a training loss call, as k_stats_finalize counts them: the first non-finite one is flagged
                const int call = a.err[ERRW_LOSS_CALLS] + 1;
                a.err[ERRW_LOSS_CALLS] = call;
                if (!isfinite(loss) && a.err[ERRW_NONFINITE] == 0) a.err[ERRW_NONFINITE] = call;
            }
        }
        for (int l = a.n_hidden; l >= 1; l--) {
            fused_backward(a, l, As, Bs);
            fused_grid_sync();
        }
        fused_first_and_sgd(a, As, Bs);
        if (step + 1 < a.steps) fused_grid_sync(); // the next gather overwrites X, read just now
    }
}

} // namespace cnn_cuda

#endif
