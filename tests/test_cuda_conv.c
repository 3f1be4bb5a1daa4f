// Convolutional layers on CUDA against the CPU backend: conv2d and maxpool
// layers (backend ops plus each backend's GEMM) on odd, padded and strided
// shapes, then whole LeNet-5 training steps through the model API (the
// same initial parameters, then parameters, gradients and momentum after 1
// and 3 steps), eager and as a captured CUDA graph, with the default GEMM
// and cuBLAS; and, with the shared MNIST data, LeNet trained on CUDA to
// 0.97 test accuracy. Skipped (exit 77) without a GPU.
//
// How the comparisons stay exact where they can. The layer tests use values
// that are multiples of 1/4 in [-1, 1]: every product is a multiple of 1/16
// and every sum (at most 50176 terms, under 2^24 sixteenths) is exact in
// float32, so the order in which a GEMM adds does not matter and both
// backends must give the same bits, forward and backward. The LeNet steps
// start from the same parameters rounded to multiples of 1/64 and gather the
// pixels as multiples of 1/64 (scale 1/64, shift -2). Then conv1's sums are
// exact (25 terms on a 2^-12 grid, below 10), and conv2's too as long as its
// partial sums stay below 2^24 · 2^-18 = 64 (they stay below a few units),
// so the ReLU and max-pool choices up to the first linear layer cannot
// differ between backends. From the linear
// layers on, sums round differently (and the GPU's exp is not the CPU's):
// a float32 sum of K terms is within √K·u·Σ|terms| of the exact one in
// practice (u = 2^-24, K <= 400 here: ≈ 1.2e-6). Each parameter tensor is
// compared by its largest difference over its largest element (ggml's
// normalised error): 1e-3 for gradients and momentum, 1e-4 for parameters
// after one step; the loss sum within 1e-5 relative, the hits within 1.
// After 3 steps the parameters are off the grid and a ReLU near 0 may flip:
// 10 times looser, loss within 1e-3, hits within 3.
// A wiring error (a wrong layout, a missing transpose) is off by O(1).
#include <math.h>
#include <stdio.h>

#include "datasets/dataset.h"
#include "layers/layers.h"
#include "models/model.h"
#include "models/train.h"
#include "test_cuda_common.h"
#include "test_cuda_mlp.h"
#include "test_util.h"

static cnn_backend *gpu, *cpu;
static cnn_rng rng;

// max |got - want| <= tol * max |want| (+ 1e-30 so that all-zero tensors compare).
static bool close_normalised(const char *what, const float *got, const float *want, size_t n, double tol) {
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)want[i]));
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (isnan(d)) d = INFINITY;
        if (d > worst) worst = d, at = i;
    }
    if (worst <= tol * scale + 1e-30) return true;
    fprintf(stderr, "  %s: normalised error %.3g > %.3g (element %zu of %zu: %.9g vs %.9g, scale %.3g)\n", what,
            worst / (scale > 0 ? scale : 1), tol, at, n, (double)got[at], (double)want[at], scale);
    return false;
}

static float *host_floats(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

// x is (n): multiples of 1/4 in [-1, 1] (exact products and sums, see above).
static void fill_quarters(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (float)((int)(cnn_rng_u64(&rng) % 9) - 4) / 4.0f;
}
static float *fetch(const void *dev, size_t n) {
    float *h = host_floats(n);
    CHECK_OK(gpu->ops->download(gpu, dev, h, n * sizeof(float)));
    return h;
}

// conv2d forward (with ReLU), maxpool forward and backward, conv2d backward: the same bits on both backends.
static void test_layers_parity(int B, int C, int H, int W, int Cout, int k, int s, int p) {
    cnn_window g, pg;
    CHECK_OK(cnn_window_init(&g, C, H, W, k, s, p));
    if (g.Hout < 2 || g.Wout < 2) return;
    CHECK_OK(cnn_window_init(&pg, Cout, g.Hout, g.Wout, 2, 2, 0));
    const int K = C * k * k, P = g.Hout * g.Wout;
    const size_t nx = (size_t)B * C * H * W, nw = (size_t)Cout * K, ny = (size_t)B * Cout * P,
                 ncol = (size_t)B * P * K, np = (size_t)B * Cout * pg.Hout * pg.Wout;
    float *X = host_floats(nx), *Wt = host_floats(nw), *b = host_floats(Cout), *G = host_floats(np);
    fill_quarters(X, nx);
    fill_quarters(Wt, nw);
    fill_quarters(b, Cout);
    fill_quarters(G, np);
    // CPU
    float *col = host_floats(ncol), *Z = host_floats(ny), *Y = host_floats(ny), *pool = host_floats(np);
    float *dY = host_floats(ny), *dW = host_floats(nw), *db = host_floats(Cout), *dX = host_floats(nx);
    int32_t *am = calloc(np, sizeof *am);
    CHECK_OK(cnn_conv2d_forward(cpu, X, Wt, b, col, Z, Y, B, &g, Cout, true));
    CHECK_OK(cnn_maxpool_forward(cpu, Y, pool, am, B, &pg));
    CHECK_OK(cnn_maxpool_backward(cpu, G, am, dY, B, &pg));
    CHECK_OK(cnn_conv2d_backward(cpu, Wt, dY, col, Z, dW, db, dX, B, &g, Cout));
    // GPU, from the same inputs
    float *dX_ = dev_copy_of(gpu, X, nx * 4), *dWt = dev_copy_of(gpu, Wt, nw * 4), *db_ = dev_copy_of(gpu, b, Cout * 4);
    float *dG = dev_copy_of(gpu, G, np * 4), *dcol = dev_copy_of(gpu, NULL, ncol * 4);
    float *dZ = dev_copy_of(gpu, NULL, ny * 4);
    float *dYo = dev_copy_of(gpu, NULL, ny * 4), *dpool = dev_copy_of(gpu, NULL, np * 4);
    float *ddY = dev_copy_of(gpu, NULL, ny * 4), *ddW = dev_copy_of(gpu, NULL, nw * 4);
    float *ddb = dev_copy_of(gpu, NULL, Cout * 4), *ddX = dev_copy_of(gpu, NULL, nx * 4);
    int32_t *dam = dev_copy_of(gpu, NULL, np * 4);
    if (test_failures) return;
    CHECK_OK(cnn_conv2d_forward(gpu, dX_, dWt, db_, dcol, dZ, dYo, B, &g, Cout, true));
    CHECK_OK(cnn_maxpool_forward(gpu, dYo, dpool, dam, B, &pg));
    CHECK_OK(cnn_maxpool_backward(gpu, dG, dam, ddY, B, &pg));
    CHECK_OK(cnn_conv2d_backward(gpu, dWt, ddY, dcol, dZ, ddW, ddb, ddX, B, &g, Cout));
    char what[128], tag[80];
    snprintf(tag, sizeof tag, "B=%d C=%d %dx%d Cout=%d k=%d s=%d p=%d", B, C, H, W, Cout, k, s, p);
    struct {
        const char *name;
        const void *dev;
        const float *want;
        size_t n;
    } cmp[] = {{"conv2d+relu Y", dYo, Y, ny}, {"maxpool Y", dpool, pool, np}, {"maxpool dX", ddY, dY, ny},
               {"conv2d dW", ddW, dW, nw},    {"conv2d db", ddb, db, Cout},  {"conv2d dX", ddX, dX, nx}};
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++) {
        float *got = fetch(cmp[i].dev, cmp[i].n);
        snprintf(what, sizeof what, "%s %s", cmp[i].name, tag);
        CHECK(same_bits_floats(what, got, cmp[i].want, cmp[i].n));
        free(got);
    }
    int32_t *got_am = calloc(np, sizeof *got_am);
    CHECK_OK(gpu->ops->download(gpu, dam, got_am, np * sizeof *got_am));
    CHECK(memcmp(got_am, am, np * sizeof *am) == 0);
    free(got_am);
    void *bufs[] = {dX_, dWt, db_, dG, dcol, dZ, dYo, dpool, ddY, ddW, ddb, ddX, dam};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) gpu->ops->free(gpu, bufs[i]);
    free(X), free(Wt), free(b), free(G), free(col), free(Z), free(Y), free(pool), free(dY), free(dW), free(db),
        free(dX), free(am);
}

// ---- whole LeNet steps -----------------------------------------------------------------

static mlp_data data; // 28x28 digit-like images (tests/test_cuda_mlp.h)

typedef struct {
    float *arena, *arena0; // 3n after the steps | n before
    size_t n;
    float stats[2];
    cnn_arena plan;        // slot names and offsets
} lenet_result;

// Runs `steps` SGD steps of LeNet from the parameters init (arena.n floats) at batch 64 as models/train.c
// does; with use_graph the first step is captured and every step is a graph replay.
static cnn_status lenet_run(cnn_backend *be, const float *init, int steps, bool use_graph, lenet_result *out) {
    memset(out, 0, sizeof *out);
    const int B = 64, D = MLP_D;
    cnn_model m;
    CNN_TRY(cnn_model_create(be, "lenet", 1, 28, 28, NULL, 0, MLP_CLASSES, 7, &m));
    CNN_TRY(cnn_model_reserve(&m, be, B));
    void *images, *labels, *X, *y, *stats, *cursor;
    CNN_TRY(be->ops->alloc(be, sizeof data.images, &images));
    CNN_TRY(be->ops->alloc(be, sizeof data.labels, &labels));
    CNN_TRY(be->ops->alloc(be, (size_t)B * D * sizeof(float), &X));
    CNN_TRY(be->ops->alloc(be, (size_t)B * sizeof(int32_t), &y));
    CNN_TRY(be->ops->alloc(be, 2 * sizeof(float), &stats));
    CNN_TRY(be->ops->alloc(be, sizeof(cnn_batch_cursor), &cursor));
    CNN_TRY(be->ops->upload(be, data.images, images, sizeof data.images));
    CNN_TRY(be->ops->upload(be, data.labels, labels, sizeof data.labels));
    cnn_batch_cursor cur = {cnn_perm_make(MLP_N, 0x5EED), 0, 0};
    CNN_TRY(be->ops->upload(be, &cur, cursor, sizeof cur));
    out->n = m.arena.n;
    out->plan = m.arena;
    out->arena0 = host_floats(out->n);
    out->arena = host_floats(3 * out->n);
    CNN_TRY(be->ops->upload(be, init, m.arena.base, out->n * sizeof(float)));
    CNN_TRY(be->ops->download(be, m.arena.base, out->arena0, out->n * sizeof(float)));
    const float scale = 1.0f / 64, shift = -2.0f; // pixels as exact multiples of 1/64 in [-2, 2]
    CNN_TRY(test_train_steps(be, &m, (const uint8_t *)images, (const uint8_t *)labels, D, (cnn_batch_cursor *)cursor,
                             (float *)X, (int32_t *)y, (float *)stats, B, scale, shift, steps, use_graph));
    CNN_TRY(be->ops->download(be, m.arena.base, out->arena, 3 * out->n * sizeof(float)));
    CNN_TRY(be->ops->download(be, stats, out->stats, sizeof out->stats));
    void *bufs[] = {images, labels, X, y, stats, cursor};
    for (int i = 0; i < 6; i++) be->ops->free(be, bufs[i]);
    cnn_model_free(&m, be);
    return CNN_OK;
}

static void compare_lenet(const char *label, const lenet_result *g, const lenet_result *c, int steps) {
    char what[160];
    CHECK(g->n == c->n);
    if (g->n != c->n) return;
    snprintf(what, sizeof what, "%s: initial parameters", label);
    CHECK(same_bits_floats(what, g->arena0, c->arena0, c->n));
    // after 3 steps the parameters no longer sit on the exact grid: ReLUs near 0 may flip, so looser
    const double param_tol = steps == 1 ? 1e-4 : 1e-3, grad_tol = steps == 1 ? 1e-3 : 1e-2;
    for (int s = 0; s < c->plan.n_slots; s++) { // each tensor on its own scale
        const size_t off = c->plan.slots[s].offset, n = cnn_arena_numel(&c->plan, s);
        const char *name = c->plan.slots[s].name;
        snprintf(what, sizeof what, "%s: %s", label, name);
        CHECK(close_normalised(what, g->arena + off, c->arena + off, n, param_tol));
        snprintf(what, sizeof what, "%s: %s gradient", label, name);
        CHECK(close_normalised(what, g->arena + c->n + off, c->arena + c->n + off, n, grad_tol));
        snprintf(what, sizeof what, "%s: %s momentum", label, name);
        CHECK(close_normalised(what, g->arena + 2 * c->n + off, c->arena + 2 * c->n + off, n, grad_tol));
    }
    snprintf(what, sizeof what, "%s: loss sum", label);
    CHECK(close_to_floats(what, &g->stats[0], &c->stats[0], 1, 0.0, steps == 1 ? 1e-5 : 1e-3));
    CHECK(fabsf(g->stats[1] - c->stats[1]) <= (steps == 1 ? 1.0f : 3.0f));
}

static void test_lenet_steps(void) {
    mlp_data_make(&data, 11);
    // LeNet's initial parameters (seed 7), rounded to multiples of 1/64
    cnn_model m;
    CHECK_OK(cnn_model_create(cpu, "lenet", 1, 28, 28, NULL, 0, MLP_CLASSES, 7, &m));
    if (test_failures) return;
    float *init = host_floats(m.arena.n);
    for (size_t i = 0; i < m.arena.n; i++) init[i] = roundf(m.arena.base[i] * 64.0f) / 64.0f;
    cnn_model_free(&m, cpu);
    for (int steps = 1; steps <= 3; steps += 2) {
        lenet_result c;
        CHECK_OK(lenet_run(cpu, init, steps, false, &c));
        printf("CPU (%s), LeNet, %d step(s): loss sum %.6f, hits %.0f\n", cpu->gemm->name, steps, c.stats[0],
               c.stats[1]);
        const char *gemms[] = {NULL, "cublas"};
        for (int gi = 0; gi < 2; gi++)
            for (int graph = 0; graph < 2; graph++) {
                if (cnn_backend_select_gemm(gpu, gemms[gi] ? gemms[gi] : gpu->default_gemm) != CNN_OK) continue;
                lenet_result g;
                char label[96];
                snprintf(label, sizeof label, "LeNet %d step(s), gemm %s, %s", steps, gpu->gemm->name,
                         graph ? "graph" : "eager");
                cnn_status s = lenet_run(gpu, init, steps, graph, &g);
                CHECK_OK(s);
                if (s == CNN_OK) compare_lenet(label, &g, &c, steps);
                free(g.arena), free(g.arena0);
            }
        free(c.arena), free(c.arena0);
    }
    free(init);
    CHECK_OK(cnn_backend_select_gemm(gpu, gpu->default_gemm));
}

// LeNet on the shared MNIST on CUDA (default GEMM, graph replay): 0.97 within 10 epochs, as on the CPU.
static void test_lenet_mnist(void) {
    const char *dir = test_data_dir("mnist");
    if (!dir) {
        printf("note: no shared MNIST data (CNN_DATA_DIR): LeNet not trained on CUDA\n");
        return;
    }
    cnn_dataset ds;
    cnn_dataset_options opt = {dir, 0, 1};
    CHECK_OK(cnn_dataset_load("mnist", &opt, &ds));
    if (test_failures) return;
    cnn_model m;
    CHECK_OK(cnn_model_create(gpu, "lenet", 1, ds.train.rows, ds.train.cols, NULL, 0, ds.n_classes, 1, &m));
    cnn_train_config cfg = cnn_train_config_default();
    cfg.target_acc = 0.97;
    cfg.max_epochs = 10;
    cnn_train_result r;
    CHECK_OK(cnn_train(gpu, &m, &ds, &cfg, NULL, 0, &r));
    printf("LeNet on CUDA (%s): reached=%d at epoch %d, %.2f s to target (%.3f s per epoch), best acc %.4f\n",
           gpu->gemm->name, r.reached, r.target_epoch, r.time_to_target_s,
           r.reached ? r.time_to_target_s / r.target_epoch : 0.0, r.best_acc);
    CHECK(r.reached && r.best_acc >= 0.97);
    cnn_model_free(&m, gpu);
    cnn_dataset_free(&ds);
}

int main(void) {
    gpu = cuda_or_skip(NULL);
    printf("CUDA backend: %s\n", gpu->device_desc);
    CHECK_OK(cnn_backend_create("cpu", NULL, 0, 0, &cpu));
    if (!cpu) return test_finish("test_cuda_conv");
    if (!cnn_backend_supports(gpu, CNN_OP_IM2COL) || !cnn_backend_supports(gpu, CNN_OP_MAXPOOL) ||
        !cnn_backend_supports(gpu, CNN_OP_TRANSPOSE)) {
        fprintf(stderr, "the CUDA backend lacks im2col, transpose or maxpool\n");
        test_failures++;
        return test_finish("test_cuda_conv");
    }
    cnn_rng_seed(&rng, 2026);
    //                 B  C   H   W Cout k  s  p
    test_layers_parity(2, 3, 11, 9, 4, 3, 1, 1);
    test_layers_parity(3, 2, 13, 10, 5, 3, 2, 1);
    test_layers_parity(64, 1, 28, 28, 6, 5, 1, 2); // LeNet's conv1 at batch 64
    test_layers_parity(64, 6, 14, 14, 16, 5, 1, 0); // and conv2
    test_lenet_steps();
    test_lenet_mnist();
    cnn_backend_destroy(gpu);
    cnn_backend_destroy(cpu);
    return test_finish("test_cuda_conv");
}
