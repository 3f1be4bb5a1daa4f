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

// The operands of one GEMM case: random A and B with leading dimensions
// padded by pad and pointers moved misalign floats off 16-byte alignment;
// C0 NaN everywhere but, when beta != 0, random in its (M,N) part; C the
// buffer a kernel writes.
struct EmuGemmCase {
    int lda, ldb, ldc;
    std::vector<float> Abuf, Bbuf, Cbuf, C0;
    float *A, *B, *C;
    EmuGemmCase(cnn_rng *rng, bool ta, bool tb, int M, int N, int K, int pad, int misalign, float beta) {
        const int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
        lda = ac + pad, ldb = bc + pad, ldc = N + pad;
        Abuf.resize((size_t)ar * lda + 4), Bbuf.resize((size_t)br * ldb + 4), Cbuf.resize((size_t)M * ldc + 4);
        C0.resize((size_t)M * ldc);
        A = Abuf.data() + misalign, B = Bbuf.data() + misalign, C = Cbuf.data() + misalign;
        test_fill_uniform(rng, Abuf.data(), Abuf.size(), -1.0f, 1.0f);
        test_fill_uniform(rng, Bbuf.data(), Bbuf.size(), -1.0f, 1.0f);
        for (size_t i = 0; i < C0.size(); i++) C0[i] = NAN;
        if (beta != 0.0f)
            for (int i = 0; i < M; i++) test_fill_uniform(rng, &C0[(size_t)i * ldc], N, -1.0f, 1.0f);
    }
    // C's (M,N) part into got, packed; false when the padding columns N..ldc-1 are no longer NaN.
    bool unpack(int M, int N, float *got) const {
        bool pad_ok = true;
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) got[(size_t)i * N + j] = C[(size_t)i * ldc + j];
            for (int j = N; j < ldc; j++) pad_ok = pad_ok && isnan(C[(size_t)i * ldc + j]);
        }
        return pad_ok;
    }
};

// One GEMM case on every kernel: random A, B (and C when beta != 0), NaN
// everywhere else in C's buffer; checks the (M,N) result against the double
// reference and that the padding of C (columns N..ldc-1) is still NaN.
static void gemm_case(cnn_rng *rng, const GemmScratch &ws, bool ta, bool tb, int M, int N, int K, int pad,
                      int misalign, float alpha, float beta) {
    EmuGemmCase g(rng, ta, tb, M, N, K, pad, misalign, beta);
    const int lda = g.lda, ldb = g.ldb, ldc = g.ldc;
    float *A = g.A, *B = g.B, *C = g.C;
    const std::vector<float> &C0 = g.C0;
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
        const bool pad_ok = g.unpack(M, N, got.data());
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) want_packed[(size_t)i * N + j] = want[(size_t)i * ldc + j];
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

// ---- rung 8: tensor cores (emulated mma.sync), inputs rounded to tf32 or bf16 ------------

// One case on a tensor-core kernel: A, B and C as gemm_case (NaN-poisoned C,
// padded and misaligned leading dimensions), checked against the double
// references of docs/precision.md: the product of the inputs rounded as the
// format's kernels read them, within the FP32 accumulation bound, and the
// unrounded product within the format's bound (test_check_precision). A
// kernel that did not round, or read a fragment from the wrong lane,
// misses the first by far more than its tolerance.
static void mma_case(cnn_rng *rng, const GemmScratch &ws, GemmKernel kind, bool ta, bool tb, int M, int N, int K,
                     int pad, int misalign, float alpha, float beta, double *worst_r, double *worst_f) {
    const cnn_precision p = kind == GEMM_MMA_BF16 ? CNN_PRECISION_BF16 : CNN_PRECISION_TF32;
    EmuGemmCase g(rng, ta, tb, M, N, K, pad, misalign, beta);
    std::vector<float> got((size_t)M * N);
    std::vector<double> ref((size_t)M * N), exact((size_t)M * N), scale((size_t)M * N);
    test_gemm_ref_precision(p, ta, tb, M, N, K, alpha, g.A, g.lda, g.B, g.ldb, beta, g.C0.data(), g.ldc, ref.data(),
                            exact.data(), scale.data());
    memcpy(g.C, g.C0.data(), g.C0.size() * sizeof(float));
    launch_gemm(kind, ta, tb, M, N, K, alpha, g.A, g.lda, g.B, g.ldb, beta, g.C, g.ldc, ws, NULL);
    const bool pad_ok = g.unpack(M, N, got.data());
    char what[160];
    snprintf(what, sizeof what, "mma-%s %c%c M=%d N=%d K=%d pad=%d misalign=%d alpha=%g beta=%g",
             cnn_precision_name(p), ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, pad, misalign, alpha, beta);
    if (test_check_precision(what, p, K, got.data(), ref.data(), exact.data(), scale.data(), got.size(), worst_r,
                             worst_f))
        test_failures++;
    if (!pad_ok) {
        fprintf(stderr, "  %s: wrote into C's padding columns\n", what);
        test_failures++;
    }
}

static void test_gemm_mma(void) {
    cnn_rng rng;
    cnn_rng_seed(&rng, 4321);
    std::vector<float> scratch(1 << 20);
    GemmScratch ws = {scratch.data(), scratch.size(), 132};
    struct {
        int M, N, K;
    } shapes[] = {
        {1, 1, 1},    {7, 33, 5},     {33, 7, 131},  {130, 129, 17}, // odd sizes; odd K ends inside a bf16 pair
        {128, 10, 96}, {10, 36, 128}, {64, 72, 48},                  // the MLP's thin shapes (scaled down)
        {40, 70, 700},                                               // split-K with several slices
    };
    const float ab[4][2] = {{1.0f, 0.0f}, {0.5f, -1.5f}, {-2.0f, 1.0f}, {1.0f, 0.25f}};
    const GemmKernel kinds[2] = {GEMM_MMA_TF32, GEMM_MMA_BF16};
    for (int ki = 0; ki < 2; ki++) {
        double worst_r = 0, worst_f = 0;
        const double t0 = emu_now();
        int combo = 0;
        for (auto &s : shapes)
            for (int t = 0; t < 4; t++, combo++)
                mma_case(&rng, ws, kinds[ki], t & 1, t & 2, s.M, s.N, s.K, combo % 3 == 1 ? 3 : 0,
                         combo % 5 == 2 ? 1 : 0, ab[combo % 4][0], ab[combo % 4][1], &worst_r, &worst_f);
        printf("  mma-%s: %.2f s emulated; largest error / tolerance: rounded inputs %.3f, format %.3f\n",
               ki ? "bf16" : "tf32", emu_now() - t0, worst_r, worst_f);
    }
    CHECK(splitk_slices_for<MmaTileCfg>(128, 10, 512, ws) > 1);
    CHECK(splitk_slices_for<MmaTileCfg>(40, 70, 700, ws) > 1);
    CHECK(splitk_slices_for<MmaTileCfg>(4096, 4096, 4096, ws) == 1);
}

// ---- the other kernels against the CPU backend ------------------------------------

int main(void) {
    test_gemm_ladder();
    test_gemm_mma();
    printf("test_cuda_emu: %ld emulated launches\n", emu_launches);
    return test_finish("test_cuda_emu");
}
