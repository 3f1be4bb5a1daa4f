// Runs the CUDA backend's kernels on the CPU, so that a machine without a
// GPU (CI, the development VMs) still checks their indexing: every SGEMM
// kernel of the ladder on odd shapes with all transposes, alpha/beta, padded
// and misaligned leading dimensions and split-K. Every other kernel is
// compared with the CPU backend in test_backend_ops, through the emulated
// backend of tests/emu_backend.cpp.
//
// How: the kernel headers (backends/cuda/*_kernels.cuh, gemm/*.cuh) are
// compiled as plain C++ with the shim of cuda_emu_shim.h (one host thread per
// CUDA thread; here the blocks of a grid run one after another). The launch
// code (grids, template dispatch, split-K choice) is the backend's own.
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <functional>
#include <vector>

extern "C" {
#include "core/backend.h"
#include "test_util.h"
}

#include "cuda_emu_shim.h"

// The emulated kernels get their own namespace: libcnn (linked for the CPU
// backend) may hold the real ones, with the same names, in a CUDA build.
#define cnn_cuda cnn_cuda_emulated
#include "backends/cuda/gemm/dispatch.cuh"
#include "backends/cuda/ops_kernels.cuh"
#include "backends/cuda/conv_kernels.cuh"

using namespace cnn_cuda_emulated;

// ---- SGEMM ladder --------------------------------------------------------------

static double kind_seconds[GEMM_AUTO + 1];
static double emu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static const char *kind_name(GemmKernel k) {
    static const char *names[] = {"naive", "coalesced", "smem",           "tile1d", "tile2d",
                                  "vec",   "warptile",  "warptile-small", "auto"};
    return names[k];
}

// One GEMM case on every kernel: random A, B (and C when beta != 0), NaN
// everywhere else in C's buffer; checks the (M,N) result against the double
// reference and that the padding of C (columns N..ldc-1) is still NaN.
static void gemm_case(cnn_rng *rng, const GemmScratch &ws, bool ta, bool tb, int M, int N, int K, int pad,
                      int misalign, float alpha, float beta) {
    const int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    const int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
    std::vector<float> Abuf((size_t)ar * lda + 4), Bbuf((size_t)br * ldb + 4), Cbuf((size_t)M * ldc + 4),
        C0((size_t)M * ldc);
    float *A = Abuf.data() + misalign, *B = Bbuf.data() + misalign, *C = Cbuf.data() + misalign;
    test_fill_uniform(rng, Abuf.data(), Abuf.size(), -1.0f, 1.0f);
    test_fill_uniform(rng, Bbuf.data(), Bbuf.size(), -1.0f, 1.0f);
    for (size_t i = 0; i < C0.size(); i++) C0[i] = NAN;
    if (beta != 0.0f)
        for (int i = 0; i < M; i++) test_fill_uniform(rng, &C0[(size_t)i * ldc], N, -1.0f, 1.0f);
    std::vector<double> want((size_t)M * ldc);
    test_gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0.data(), ldc, want.data());
    std::vector<float> got((size_t)M * N);
    std::vector<double> want_packed((size_t)M * N);
    // Deep K only for the kernels that stage K-tiles through registers or split K
    // (the others' K loops are covered by K = 130; 1024 emulated threads are slow).
    for (int kind = K > 256 ? GEMM_VEC : GEMM_NAIVE; kind <= GEMM_AUTO; kind++) {
        memcpy(C, C0.data(), C0.size() * sizeof(float));
        const double t0 = emu_now();
        launch_gemm((GemmKernel)kind, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, NULL);
        kind_seconds[kind] += emu_now() - t0;
        bool pad_ok = true;
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                got[(size_t)i * N + j] = C[(size_t)i * ldc + j];
                want_packed[(size_t)i * N + j] = want[(size_t)i * ldc + j];
            }
            for (int j = N; j < ldc; j++) pad_ok = pad_ok && isnan(C[(size_t)i * ldc + j]);
        }
        char what[160];
        snprintf(what, sizeof what, "%s %c%c M=%d N=%d K=%d pad=%d misalign=%d alpha=%g beta=%g",
                 kind_name((GemmKernel)kind),
                 ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, pad, misalign, alpha, beta);
        // FP32 sums of K products of values in [-1, 1]: |error| <~ K * 2^-24 * K / 3; 1e-6 K + 1e-5 |want| is ample.
        if (!test_close(what, got.data(), want_packed.data(), got.size(), 1e-6 * K, 1e-5)) test_failures++;
        if (!pad_ok) {
            fprintf(stderr, "  %s: wrote into C's padding columns\n", what);
            test_failures++;
        }
    }
}

static void test_gemm_ladder(void) {
    cnn_rng rng;
    cnn_rng_seed(&rng, 1234);
    std::vector<float> scratch(1 << 20);
    GemmScratch ws = {scratch.data(), scratch.size(), 132}; // an H100's SM count, so split-K triggers as there
    struct {
        int M, N, K;
    } shapes[] = {
        {1, 1, 1},     {7, 33, 5},    {33, 7, 130},  {130, 129, 17}, // odd sizes, several tiles each way
        {128, 10, 512}, {10, 36, 128}, {64, 128, 48}, // the MLP's thin shapes (scaled down), aligned sizes
        {40, 70, 700},                                // split-K with several slices
    };
    const float ab[4][2] = {{1.0f, 0.0f}, {0.5f, -1.5f}, {-2.0f, 1.0f}, {1.0f, 0.25f}};
    int combo = 0;
    for (auto &s : shapes)
        for (int t = 0; t < 4; t++, combo++) {
            const bool ta = t & 1, tb = t & 2;
            const int pad = combo % 3 == 1 ? 3 : 0;        // odd leading dimensions: no 128-bit loads
            const int misalign = combo % 5 == 2 ? 1 : 0;   // pointers off 16-byte alignment
            gemm_case(&rng, ws, ta, tb, s.M, s.N, s.K, pad, misalign, ab[combo % 4][0], ab[combo % 4][1]);
        }
    // The split-K choice itself: thin C with deep K splits, square C does not, and no scratch means no split.
    for (int k = GEMM_NAIVE; k <= GEMM_AUTO; k++) printf("  %-15s %.2f s emulated\n", kind_name((GemmKernel)k),
         kind_seconds[k]);
    CHECK(splitk_slices(128, 10, 512, ws) > 1);
    CHECK(splitk_slices(40, 70, 700, ws) > 1);
    CHECK(splitk_slices(4096, 4096, 4096, ws) == 1);
    GemmScratch none = {NULL, 0, 132};
    CHECK(splitk_slices(128, 10, 512, none) == 1);
    CHECK(gemm_prefers_large(4096, 4096, ws));
    CHECK(!gemm_prefers_large(128, 512, ws));
}

// ---- the other kernels against the CPU backend ------------------------------------

int main(void) {
    test_gemm_ladder();
    printf("test_cuda_emu: %ld emulated launches\n", emu_launches);
    return test_finish("test_cuda_emu");
}
