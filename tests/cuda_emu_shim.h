// A CPU emulator for the CUDA backend's kernels: the CUDA keywords become
// plain C++ and a launch runs one host thread per CUDA thread, so that a
// machine without a GPU (CI, the development VMs) runs the real kernel
// headers (backends/cuda/*.cuh) and the backend's own launch code. Used by
// tests/test_cuda_emu.cpp (the GEMM ladder and the op kernels) and
// tests/test_cuda_emu_fused.cpp (the fused MLP step).
//
// Two launches:
//  - cnn_launch (as backends/cuda/launch.cuh): the blocks of the grid run one
//    after another on nt threads, so a kernel's static __shared__ arrays
//    (function-local statics here) belong to the running block.
//  - cnn_launch_cooperative (as backends/cuda/fused/coop_launch.cuh): all
//    blocks run at once (gridDim * blockDim threads), each block with its own
//    barrier, warp exchange slots and dynamic shared memory
//    (cnn_dynamic_smem()), and cooperative_groups::this_grid().sync() is a
//    barrier over every thread of the grid. A kernel launched this way must
//    keep its shared memory in the dynamic buffer: a static __shared__ array
//    would be one array for all the concurrent blocks.
// __syncthreads is a barrier over the block's threads, __shfl_xor_sync an
// exchange through a barrier over the warp's, and the tensor-core
// instructions of backends/cuda/gemm/mma.cuh (mma_m16n8k8_tf32,
// mma_m16n8k16_bf16) a gather of the 32 lanes' fragments through the same
// kind of exchange (below). pthread barriers are full
// memory barriers, so every write before a barrier is seen after it.
//
// What this cannot check: timing, memory-model subtleties of real hardware,
// occupancy limits on a cooperative grid, and the CUDA runtime/cuBLAS glue
// (tests/test_cuda_*.c on a GPU).
#ifndef CNN_TESTS_CUDA_EMU_SHIM_H
#define CNN_TESTS_CUDA_EMU_SHIM_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <functional>
#include <memory>
#include <vector>

#define CNN_CUDA_EMULATED 1 // the kernel headers' launchers then take this file's launches
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct alignas(16) float4 {
    float x, y, z, w;
};
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorCooperativeLaunchTooLarge = 2 };
typedef void *cudaStream_t;
static inline cudaError_t cudaGetLastError(void) { return cudaSuccess; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }

static thread_local dim3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;

enum { EMU_MAX_THREADS = 1024, EMU_MAX_GRID_THREADS = 4096 };

// One lane's operands of an emulated mma instruction.
struct emu_mma_frag {
    uint32_t a[4], b[2];
    float c[4];
};

// One block's synchronisation state and dynamic shared memory.
struct emu_block {
    pthread_barrier_t barrier;
    pthread_barrier_t warp_barrier[EMU_MAX_THREADS / 32];
    union {
        double d;
        float f;
        int i;
    } slots[EMU_MAX_THREADS];
    emu_mma_frag mma[EMU_MAX_THREADS]; // the lanes' fragments of an mma instruction
    unsigned char *smem; // dynamic shared memory (cooperative launches)
};

static thread_local int emu_tid;               // linear thread index in the block
static thread_local emu_block *emu_blk;        // the running thread's block
static pthread_barrier_t emu_grid_barrier;     // cooperative launches: every thread of the grid

static inline void __syncthreads(void) { pthread_barrier_wait(&emu_blk->barrier); }

template <class T> static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask) {
    (void)mask;
    const int warp = emu_tid / 32, lane = emu_tid % 32;
    memcpy(&emu_blk->slots[emu_tid], &v, sizeof v);
    pthread_barrier_wait(&emu_blk->warp_barrier[warp]);
    T r;
    memcpy(&r, &emu_blk->slots[warp * 32 + (lane ^ lane_mask)], sizeof r);
    pthread_barrier_wait(&emu_blk->warp_barrier[warp]);
    return r;
}

// ---- tensor cores: mma.sync.aligned.m16n8k8 (tf32) and m16n8k16 (bf16), FP32 accumulation ----
//
// D (16x8) = A (16xK) B (Kx8) + C for one warp, every operand spread over the
// lanes as the PTX ISA documents ("Matrix Fragments for mma.m16n8k8" and
// "... mma.m16n8k16 with floating point type"), written here element by
// element from those tables, independently of the kernels' word-wise
// indexing (backends/cuda/gemm/mma.cuh), with groupID g = lane / 4 and
// threadID_in_group t = lane % 4:
//   tf32, A (16x8), registers a0..a3: row g for a0, a2, g + 8 for a1, a3;
//         column t for a0, a1, t + 4 for a2, a3.
//         B (8x8), b0, b1: row t for b0, t + 4 for b1; column g.
//   bf16, A (16x16), elements a0..a7, two per register (a0, a1 in register
//         0, the even element in the low half): row g for a0, a1, a4, a5,
//         else g + 8; column 2t + (i & 1), plus 8 for i >= 4.
//         B (16x8), b0..b3: row 2t + (i & 1), plus 8 for i >= 2; column g.
//   C, D (16x8), c0..c3: row g for c0, c1, g + 8 for c2, c3; column 2t + (i & 1).
// Each lane writes its fragments to the block's exchange slots; after a
// barrier over the warp, every lane rebuilds A and B from all 32 and
// computes its own four outputs; a second barrier keeps the slots until
// every lane has read them. Inputs as the tensor core reads them: a .tf32
// register's low 13 bits are not used (so a kernel that forgot to round
// truncates, and the rounded-input test catches it), bf16 halves are
// widened exactly. Products are exact in FP32 (at most 22 significant
// bits); they are added to c in FP32 in order of k. The hardware adds in
// another order (and groups of products at once): results agree within the
// FP32 accumulation bound, not bit for bit.
static inline void emu_mma(float d[4], const uint32_t a[4], const uint32_t b[2], bool bf16) {
    const int warp = emu_tid / 32, lane = emu_tid % 32, K = bf16 ? 16 : 8;
    emu_mma_frag *f = &emu_blk->mma[warp * 32];
    memcpy(f[lane].a, a, sizeof f[lane].a);
    memcpy(f[lane].b, b, sizeof f[lane].b);
    memcpy(f[lane].c, d, sizeof f[lane].c);
    pthread_barrier_wait(&emu_blk->warp_barrier[warp]);
    float Am[16][16], Bm[16][8];
    for (int l = 0; l < 32; l++) {
        const int g = l / 4, t = l % 4;
        uint32_t u;
        if (bf16) {
            for (int i = 0; i < 8; i++) {
                const int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8, col = 2 * t + (i & 1) + (i >= 4 ? 8 : 0);
                u = ((f[l].a[i / 2] >> (16 * (i & 1))) & 0xffffu) << 16;
                memcpy(&Am[row][col], &u, 4);
            }
            for (int i = 0; i < 4; i++) {
                const int row = 2 * t + (i & 1) + (i >= 2 ? 8 : 0);
                u = ((f[l].b[i / 2] >> (16 * (i & 1))) & 0xffffu) << 16;
                memcpy(&Bm[row][g], &u, 4);
            }
        } else {
            for (int i = 0; i < 4; i++) {
                const int row = (i == 0 || i == 2) ? g : g + 8, col = i < 2 ? t : t + 4;
                u = f[l].a[i] & ~0x1fffu;
                memcpy(&Am[row][col], &u, 4);
            }
            for (int i = 0; i < 2; i++) {
                u = f[l].b[i] & ~0x1fffu;
                memcpy(&Bm[t + 4 * i][g], &u, 4);
            }
        }
    }
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; i++) {
        const int row = i < 2 ? g : g + 8, col = 2 * t + (i & 1);
        float acc = f[lane].c[i];
        for (int k = 0; k < K; k++) acc += Am[row][k] * Bm[k][col];
        d[i] = acc;
    }
    pthread_barrier_wait(&emu_blk->warp_barrier[warp]);
}
static inline void mma_m16n8k8_tf32(float d[4], const uint32_t a[4], const uint32_t b[2]) { emu_mma(d, a, b, false); }
static inline void mma_m16n8k16_bf16(float d[4], const uint32_t a[4], const uint32_t b[2]) { emu_mma(d, a, b, true); }

// The block's dynamic shared memory (extern __shared__ on the GPU).
static inline void *cnn_dynamic_smem(void) { return emu_blk->smem; }

namespace cooperative_groups {
struct emu_grid_group {
    void sync() const { pthread_barrier_wait(&emu_grid_barrier); }
};
static inline emu_grid_group this_grid() { return emu_grid_group(); }
} // namespace cooperative_groups

static void emu_block_init(emu_block *b, int nt) {
    pthread_barrier_init(&b->barrier, NULL, (unsigned)nt);
    for (int w = 0; w * 32 < nt; w++)
        pthread_barrier_init(&b->warp_barrier[w], NULL, (unsigned)(nt - w * 32 < 32 ? nt - w * 32 : 32));
}

static void emu_block_destroy(emu_block *b, int nt) {
    pthread_barrier_destroy(&b->barrier);
    for (int w = 0; w * 32 < nt; w++) pthread_barrier_destroy(&b->warp_barrier[w]);
}

struct emu_thread_arg {
    int tid;           // in the block
    int block;         // linear block index, or -1: walk every block in turn
    emu_block *blk;
    const std::function<void()> *body;
};

static dim3 emu_block_index(unsigned linear) {
    return dim3(linear % gridDim.x, (linear / gridDim.x) % gridDim.y, linear / (gridDim.x * gridDim.y));
}

static void *emu_thread(void *p) {
    const emu_thread_arg *a = (const emu_thread_arg *)p;
    emu_tid = a->tid;
    emu_blk = a->blk;
    threadIdx = dim3(a->tid % blockDim.x, (a->tid / blockDim.x) % blockDim.y, a->tid / (blockDim.x * blockDim.y));
    if (a->block >= 0) {
        blockIdx = emu_block_index((unsigned)a->block);
        (*a->body)();
        return NULL;
    }
    const unsigned blocks = gridDim.x * gridDim.y * gridDim.z;
    for (unsigned b = 0; b < blocks; b++) {
        blockIdx = emu_block_index(b);
        (*a->body)();
        pthread_barrier_wait(&emu_blk->barrier); // the next block may reuse shared memory
    }
    return NULL;
}

static long emu_launches = 0;

// Runs the threads described by targs to completion.
static void emu_run_threads(std::vector<emu_thread_arg> &targs) {
    std::vector<pthread_t> threads(targs.size());
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (size_t t = 0; t < targs.size(); t++)
        if (pthread_create(&threads[t], &attr, emu_thread, &targs[t]) != 0) {
            fprintf(stderr, "emulator: pthread_create failed (%zu threads)\n", targs.size());
            abort();
        }
    for (size_t t = 0; t < targs.size(); t++) pthread_join(threads[t], NULL);
    pthread_attr_destroy(&attr);
}

static void emu_check_config(dim3 grid, dim3 block, long max_total) {
    const long nt = (long)block.x * block.y * block.z, blocks = (long)grid.x * grid.y * grid.z;
    if (nt < 1 || nt > EMU_MAX_THREADS || blocks == 0 || nt * blocks > max_total) {
        fprintf(stderr, "emulator: bad launch configuration (%ld blocks of %ld threads)\n", blocks, nt);
        abort();
    }
}

// The emulator's cnn_launch (see backends/cuda/launch.cuh for the GPU one): blocks in turn.
template <typename... KArgs, typename... Args>
static void cnn_launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, cudaStream_t stream, Args... args) {
    (void)stream;
    emu_check_config(grid, block, 1L << 40);
    const int nt = (int)(block.x * block.y * block.z);
    emu_launches++;
    gridDim = grid;
    blockDim = block;
    std::unique_ptr<emu_block> blk(new emu_block());
    emu_block_init(blk.get(), nt);
    std::function<void()> body = [&]() { kernel(args...); };
    std::vector<emu_thread_arg> targs(nt);
    for (int t = 0; t < nt; t++) targs[t] = emu_thread_arg{t, -1, blk.get(), &body};
    emu_run_threads(targs);
    emu_block_destroy(blk.get(), nt);
}

// The emulator's cnn_launch_cooperative (see backends/cuda/fused/coop_launch.cuh):
// every block at once, smem_bytes of dynamic shared memory each (zero-filled).
template <typename... KArgs, typename... Args>
static cudaError_t cnn_launch_cooperative(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem_bytes,
                                          cudaStream_t stream, Args... args) {
    (void)stream;
    emu_check_config(grid, block, EMU_MAX_GRID_THREADS);
    const int nt = (int)(block.x * block.y * block.z), blocks = (int)(grid.x * grid.y * grid.z);
    emu_launches++;
    gridDim = grid;
    blockDim = block;
    std::vector<std::unique_ptr<emu_block>> blk(blocks);
    std::vector<std::vector<double>> smem(blocks, std::vector<double>((smem_bytes + 7) / 8 + 2));
    for (int b = 0; b < blocks; b++) {
        blk[b].reset(new emu_block());
        emu_block_init(blk[b].get(), nt);
        blk[b]->smem = (unsigned char *)smem[b].data();
    }
    pthread_barrier_init(&emu_grid_barrier, NULL, (unsigned)(nt * blocks));
    std::function<void()> body = [&]() { kernel(args...); };
    std::vector<emu_thread_arg> targs((size_t)nt * blocks);
    for (int b = 0; b < blocks; b++)
        for (int t = 0; t < nt; t++) targs[(size_t)b * nt + t] = emu_thread_arg{t, b, blk[b].get(), &body};
    emu_run_threads(targs);
    pthread_barrier_destroy(&emu_grid_barrier);
    for (int b = 0; b < blocks; b++) emu_block_destroy(blk[b].get(), nt);
    return cudaSuccess;
}

// The emulator's cnn_cooperative_blocks: a small grid, so that emulated barriers stay cheap.
template <typename... KArgs>
static inline cudaError_t cnn_cooperative_blocks(void (*kernel)(KArgs...), int threads, size_t smem_bytes,
                                                 int *blocks) {
    (void)kernel, (void)threads, (void)smem_bytes;
    *blocks = 3;
    return cudaSuccess;
}

#endif
