// Runs the CUDA backend's kernels on the CPU, so that a machine without a
// GPU (CI, the development VMs) still checks their indexing: every SGEMM
// kernel of the ladder on odd shapes with all transposes, alpha/beta, padded
// and misaligned leading dimensions and split-K; and every other kernel
// against the CPU backend (convolution and pooling too).
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

static bool same_bits(const char *what, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            fprintf(stderr, "  %s: element %zu differs: %.9g vs %.9g\n", what, i, (double)a[i], (double)b[i]);
            return false;
        }
    return true;
}

static bool close_to(const char *what, const float *got, const float *want, size_t n, double atol, double rtol) {
    std::vector<double> w(want, want + n);
    return test_close(what, got, w.data(), n, atol, rtol);
}

static void test_ops(void) {
    cnn_backend *cpu = NULL;
    CHECK_OK(cnn_cpu_backend_create(1, &cpu));
    if (!cpu) return;
    cnn_rng rng;
    cnn_rng_seed(&rng, 99);
    int err = 0;
    std::vector<double> partial(2 * LOSS_MAX_BLOCKS);

    // bias_add with and without ReLU: the same float operations as the CPU, so the same bits.
    for (int relu = 0; relu < 2; relu++) {
        const int B = 37, N = 45;
        std::vector<float> Y((size_t)B * N), b(N);
        test_fill_uniform(&rng, Y.data(), Y.size(), -1, 1);
        test_fill_uniform(&rng, b.data(), b.size(), -1, 1);
        std::vector<float> Yc = Y;
        launch_bias_add(Y.data(), b.data(), B, N, relu, NULL);
        CHECK_OK(cpu->ops->bias_add(cpu, b.data(), Yc.data(), B, N, relu));
        if (!same_bits(relu ? "bias_add relu" : "bias_add", Y.data(), Yc.data(), Y.size())) test_failures++;
    }
    // relu forward / backward, fill.
    {
        const size_t n = 1000;
        std::vector<float> x(n), dy(n), y(n), yc(n), dx(n), dxc(n);
        test_fill_uniform(&rng, x.data(), n, -1, 1);
        test_fill_uniform(&rng, dy.data(), n, -1, 1);
        launch_relu_forward(x.data(), y.data(), n, NULL);
        CHECK_OK(cpu->ops->relu_forward(cpu, x.data(), yc.data(), n));
        if (!same_bits("relu_forward", y.data(), yc.data(), n)) test_failures++;
        launch_relu_backward(y.data(), dy.data(), dx.data(), n, NULL);
        CHECK_OK(cpu->ops->relu_backward(cpu, yc.data(), dy.data(), dxc.data(), n));
        if (!same_bits("relu_backward", dx.data(), dxc.data(), n)) test_failures++;
        launch_fill(x.data(), n, 0.375f, NULL);
        for (size_t i = 0; i < n; i++) CHECK(x[i] == 0.375f);
    }
    // softmax_xent: C = 10 (the MLP) and C = 45 (lanes loop twice); ties and a row of equal logits
    // check the first-argmax rule; stats accumulate onto non-zero values.
    for (int C : {10, 45}) {
        const int B = 70;
        std::vector<float> z((size_t)B * C), d((size_t)B * C), dc((size_t)B * C);
        std::vector<int32_t> labels(B);
        test_fill_uniform(&rng, z.data(), z.size(), -4, 4);
        for (int i = 0; i < B; i++) labels[i] = (int32_t)(cnn_rng_u64(&rng) % (uint64_t)C);
        for (int c = 0; c < C; c++) z[(size_t)3 * C + c] = 0.5f; // all equal: argmax 0
        z[(size_t)5 * C + 2] = z[(size_t)5 * C + 7] = 9.0f;      // tie: argmax 2
        labels[3] = 0, labels[5] = 2;
        float stats[2] = {1.5f, 2.0f}, statsc[2] = {1.5f, 2.0f};
        launch_softmax_xent(z.data(), labels.data(), B, C, 0.25f, d.data(), stats, partial.data(), &err, NULL);
        CHECK_OK(cpu->ops->softmax_xent(cpu, z.data(), labels.data(), dc.data(), statsc, B, C, 0.25f));
        if (!close_to("softmax_xent dlogits", d.data(), dc.data(), d.size(), 1e-6, 1e-5)) test_failures++;
        if (!close_to("softmax_xent loss", &stats[0], &statsc[0], 1, 1e-4, 1e-5)) test_failures++;
        CHECK(stats[1] == statsc[1]);
        CHECK(err == DEVERR_NONE);
        // without a gradient, and with a bad label: flagged, row skipped
        labels[7] = C;
        float s2[2] = {0, 0};
        launch_softmax_xent(z.data(), labels.data(), B, C, 1.0f, NULL, s2, partial.data(), &err, NULL);
        CHECK(err == DEVERR_LABEL);
        err = 0;
    }
    // mse
    {
        const int B = 50, C = 33;
        std::vector<float> p((size_t)B * C), t((size_t)B * C), d((size_t)B * C), dc((size_t)B * C);
        test_fill_uniform(&rng, p.data(), p.size(), -1, 1);
        for (int i = 0; i < B; i++) t[(size_t)i * C + (i * 7) % C] = 1.0f; // one-hot targets
        for (int i = 0; i < B; i += 3) p[(size_t)i * C + (i * 7) % C] = 2.0f; // some hits
        float stats[2] = {0, 0}, statsc[2] = {0, 0};
        launch_mse(p.data(), t.data(), B, C, 0.5f, d.data(), stats, partial.data(), NULL);
        CHECK_OK(cpu->ops->mse(cpu, p.data(), t.data(), dc.data(), statsc, B, C, 0.5f));
        if (!close_to("mse dpred", d.data(), dc.data(), d.size(), 1e-7, 1e-6)) test_failures++;
        if (!close_to("mse loss", &stats[0], &statsc[0], 1, 1e-5, 1e-5)) test_failures++;
        CHECK(stats[1] == statsc[1]);
    }
    // colsum, beta 0 and beta 0.5
    for (float beta : {0.0f, 0.5f}) {
        const int B = 129, N = 70;
        std::vector<float> X((size_t)B * N), y(N), yc(N);
        test_fill_uniform(&rng, X.data(), X.size(), -1, 1);
        test_fill_uniform(&rng, y.data(), N, -1, 1);
        yc = y;
        launch_colsum(X.data(), B, N, beta, y.data(), NULL);
        CHECK_OK(cpu->ops->colsum(cpu, X.data(), yc.data(), B, N, beta));
        // 129 float additions of values in [-1, 1] in a different order: |error| <~ 129 * 2^-24 * 129
        if (!close_to("colsum", y.data(), yc.data(), N, 2e-5, 1e-5)) test_failures++;
    }
    // sgd: the same rounding as the CPU, so the same bits.
    {
        const size_t n = 3001;
        std::vector<float> w(n), g(n), v(n);
        test_fill_uniform(&rng, w.data(), n, -1, 1);
        test_fill_uniform(&rng, g.data(), n, -1, 1);
        test_fill_uniform(&rng, v.data(), n, -1, 1);
        std::vector<float> wc = w, vc = v;
        launch_sgd(w.data(), g.data(), v.data(), n, 0.05f, 0.9f, 5e-4f, NULL);
        CHECK_OK(cpu->ops->sgd(cpu, g.data(), wc.data(), vc.data(), n, 0.05f, 0.9f, 5e-4f));
        if (!same_bits("sgd w", w.data(), wc.data(), n)) test_failures++;
        if (!same_bits("sgd v", v.data(), vc.data(), n)) test_failures++;
    }
    // gather with a shuffled cursor, twice (advancing), then past the end.
    {
        const int n = 300, D = 29, B = 64;
        std::vector<uint8_t> images((size_t)n * D), labels(n);
        for (auto &px : images) px = (uint8_t)(cnn_rng_u64(&rng) & 255);
        for (auto &l : labels) l = (uint8_t)(cnn_rng_u64(&rng) % 10);
        cnn_batch_cursor cur, curc;
        memset(&cur, 0, sizeof cur);
        cur.perm = cnn_perm_make(n, 0x1234567ull);
        cur.start = 5;
        curc = cur;
        std::vector<float> X((size_t)B * D), Xc((size_t)B * D);
        std::vector<int32_t> y(B), yc(B);
        for (int round = 0; round < 2; round++) {
            launch_gather(images.data(), labels.data(), D, &cur, B, 1.0f / 255, -0.5f, X.data(), y.data(), true, &err,
                          NULL);
            CHECK_OK(cpu->ops->gather(cpu, images.data(), labels.data(), &curc, Xc.data(), yc.data(), B, D,
                     1.0f / 255, -0.5f, true));
            if (!same_bits("gather X", X.data(), Xc.data(), X.size())) test_failures++;
            CHECK(memcmp(y.data(), yc.data(), B * sizeof(int32_t)) == 0);
            CHECK(cur.start == curc.start);
        }
        CHECK(err == DEVERR_NONE);
        cur.start = n - 10;
        launch_gather(images.data(), labels.data(), D, &cur, B, 1.0f, 0.0f, X.data(), y.data(), false, &err, NULL);
        CHECK(err == DEVERR_GATHER_RANGE);
        CHECK(cur.start == (uint32_t)(n - 10));
    }
    cnn_backend_destroy(cpu);
}

// im2col, col2im, transpose and max pooling against the CPU backend: bitwise
// (the same float operations in the same order), on padded, strided and
// overlapping windows, with ties in the pooling input.
static void test_conv(void) {
    cnn_backend *cpu = NULL;
    CHECK_OK(cnn_cpu_backend_create(1, &cpu));
    if (!cpu || !cpu->ops->im2col) {
        printf("the CPU backend has no conv ops: skipping their emulation\n");
        if (cpu) cnn_backend_destroy(cpu);
        return;
    }
    cnn_rng rng;
    cnn_rng_seed(&rng, 7);
    const int B = 3;
    const int convs[][6] = {{3, 11, 9, 3, 2, 1}, {1, 12, 12, 5, 1, 0}, {2, 7, 8, 3, 2, 2}}; // C H W k stride pad
    for (auto &w : convs) {
        cnn_window g;
        CHECK_OK(cnn_window_init(&g, w[0], w[1], w[2], w[3], w[4], w[5]));
        const size_t nx = (size_t)B * g.C * g.H * g.W, ncol = (size_t)B * g.Hout * g.Wout * g.C * g.k * g.k;
        std::vector<float> X(nx), col(ncol), colc(ncol), dX(nx), dXc(nx);
        test_fill_uniform(&rng, X.data(), nx, -1, 1);
        launch_im2col(X.data(), B, g, col.data(), NULL);
        CHECK_OK(cpu->ops->im2col(cpu, X.data(), colc.data(), B, &g));
        if (!same_bits("im2col", col.data(), colc.data(), ncol)) test_failures++;
        test_fill_uniform(&rng, col.data(), ncol, -1, 1);
        launch_col2im(col.data(), B, g, dX.data(), NULL);
        CHECK_OK(cpu->ops->col2im(cpu, col.data(), dXc.data(), B, &g));
        if (!same_bits("col2im", dX.data(), dXc.data(), nx)) test_failures++;
    }
    {
        const int n = 3, rows = 37, cols = 70;
        std::vector<float> src((size_t)n * rows * cols), dst(src.size()), dstc(src.size());
        test_fill_uniform(&rng, src.data(), src.size(), -1, 1);
        launch_transpose(src.data(), n, rows, cols, dst.data(), NULL);
        CHECK_OK(cpu->ops->transpose(cpu, src.data(), dstc.data(), n, rows, cols));
        if (!same_bits("transpose", dst.data(), dstc.data(), dst.size())) test_failures++;
    }
    const int pools[][5] = {{2, 8, 7, 2, 2}, {3, 9, 9, 3, 2}, {1, 5, 5, 5, 1}}; // C H W k stride
    for (auto &w : pools) {
        cnn_window g;
        CHECK_OK(cnn_window_init(&g, w[0], w[1], w[2], w[3], w[4], 0));
        const size_t nx = (size_t)B * g.C * g.H * g.W, ny = (size_t)B * g.C * g.Hout * g.Wout;
        std::vector<float> X(nx), Y(ny), Yc(ny), dY(ny), dX(nx), dXc(nx);
        std::vector<int32_t> am(ny), amc(ny);
        for (auto &v : X) v = (float)(cnn_rng_u64(&rng) % 4); // few levels: many ties
        launch_maxpool_forward(X.data(), B, g, Y.data(), am.data(), NULL);
        CHECK_OK(cpu->ops->maxpool_forward(cpu, X.data(), Yc.data(), amc.data(), B, &g));
        if (!same_bits("maxpool Y", Y.data(), Yc.data(), ny)) test_failures++;
        CHECK(memcmp(am.data(), amc.data(), ny * sizeof(int32_t)) == 0);
        test_fill_uniform(&rng, dY.data(), ny, -1, 1);
        launch_maxpool_backward(dY.data(), amc.data(), B, g, dX.data(), NULL);
        CHECK_OK(cpu->ops->maxpool_backward(cpu, dY.data(), amc.data(), dXc.data(), B, &g));
        if (!same_bits("maxpool dX", dX.data(), dXc.data(), nx)) test_failures++;
    }
    cnn_backend_destroy(cpu);
}

int main(void) {
    test_conv();
    test_gemm_ladder();
    test_ops();
    printf("test_cuda_emu: %ld emulated launches\n", emu_launches);
    return test_finish("test_cuda_emu");
}
