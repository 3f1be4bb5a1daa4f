// Every CUDA op against the CPU backend on the same random inputs, plus the
// CUDA-only behaviour: errors found by kernels reported at sync, and graph
// capture (recorded, not run; replays advance the cursor and accumulate).
//
// Tolerances (|gpu - cpu| <= atol + rtol |cpu|), and why:
//   fill, copy, bias_add, relu, relu_backward, sgd, gather: bitwise equal (the
//     same IEEE operations; SGD and gather use round-to-nearest intrinsics so
//     nvcc cannot fuse them into FMAs);
//   softmax_xent dlogits: atol 1e-6, rtol 1e-4 (fast-math expf and division
//     against the CPU's double precision); loss sum: rtol 1e-5; hits: exact;
//   mse dpred: atol 1e-7, rtol 1e-5; loss: rtol 1e-5; hits: exact;
//   colsum: atol 1e-5, rtol 1e-5 (a different but fixed summation order);
//   im2col, col2im, transpose, maxpool forward/backward: bitwise (same adds, same order).
// Skipped (exit 77) without a GPU.
#include <math.h>
#include <string.h>

#include "core/backend.h"
#include "test_cuda_common.h"
#include "test_util.h"

static cnn_backend *cpu, *gpu;
static cnn_rng rng;

static float *rand_floats(size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof *x);
    test_fill_uniform(&rng, x, n, lo, hi);
    return x;
}

static void test_memory(void) {
    const size_t n = 10007;
    float *host = rand_floats(n, -1, 1), *back = calloc(n, sizeof *back);
    float *d = NULL, *d2 = NULL;
    CHECK_OK(gpu->ops->alloc(gpu, n * sizeof(float), (void **)&d));
    CHECK_OK(gpu->ops->alloc(gpu, n * sizeof(float), (void **)&d2));
    CHECK(((uintptr_t)d % 64) == 0);
    for (size_t i = 0; i < n; i++) back[i] = 1.0f;
    CHECK_OK(gpu->ops->download(gpu, d, back, n * sizeof(float)));
    bool zero = true;
    for (size_t i = 0; i < n; i++) zero = zero && back[i] == 0.0f;
    CHECK(zero); // alloc returns zeroed memory
    CHECK_OK(gpu->ops->upload(gpu, host, d, n * sizeof(float)));
    CHECK_OK(gpu->ops->copy(gpu, d, d2, n * sizeof(float)));
    CHECK_OK(gpu->ops->download(gpu, d2, back, n * sizeof(float)));
    CHECK(same_bits_floats("upload/copy/download", back, host, n));
    CHECK_OK(gpu->ops->fill(gpu, d2 + 1, n - 2, -2.5f));
    CHECK_OK(gpu->ops->download(gpu, d2, back, n * sizeof(float)));
    CHECK(back[0] == host[0] && back[n - 1] == host[n - 1]);
    bool filled = true;
    for (size_t i = 1; i + 1 < n; i++) filled = filled && back[i] == -2.5f;
    CHECK(filled);
    gpu->ops->free(gpu, d);
    gpu->ops->free(gpu, d2);
    free(host);
    free(back);
}

static void test_elementwise(void) {
    // bias_add on the MLP's hidden shape and an odd one, with and without ReLU.
    const int shapes[2][2] = {{128, 512}, {37, 45}};
    for (int s = 0; s < 2; s++)
        for (int relu = 0; relu < 2; relu++) {
            const int B = shapes[s][0], N = shapes[s][1];
            const size_t n = (size_t)B * N;
            float *Y = rand_floats(n, -1, 1), *b = rand_floats(N, -1, 1), *got = malloc(n * sizeof *got);
            float *dY = dev_copy_of(gpu, Y, n * sizeof(float)), *db = dev_copy_of(gpu, b, N * sizeof(float));
            CHECK_OK(gpu->ops->bias_add(gpu, db, dY, B, N, relu));
            CHECK_OK(cpu->ops->bias_add(cpu, b, Y, B, N, relu));
            CHECK_OK(gpu->ops->download(gpu, dY, got, n * sizeof(float)));
            CHECK(same_bits_floats(relu ? "bias_add relu" : "bias_add", got, Y, n));
            gpu->ops->free(gpu, dY);
            gpu->ops->free(gpu, db);
            free(Y), free(b), free(got);
        }
    // relu forward (out of place and in place) and backward.
    const size_t n = 65536 + 3;
    float *x = rand_floats(n, -1, 1), *dy = rand_floats(n, -1, 1);
    float *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx), *got = malloc(n * sizeof *got);
    float *dxd = dev_copy_of(gpu, x, n * sizeof(float)), *dyd = NULL, *ddy = dev_copy_of(gpu, dy, n * sizeof(float));
    CHECK_OK(gpu->ops->alloc(gpu, n * sizeof(float), (void **)&dyd));
    CHECK_OK(gpu->ops->relu_forward(gpu, dxd, dyd, n));
    CHECK_OK(cpu->ops->relu_forward(cpu, x, y, n));
    CHECK_OK(gpu->ops->download(gpu, dyd, got, n * sizeof(float)));
    CHECK(same_bits_floats("relu_forward", got, y, n));
    CHECK_OK(gpu->ops->relu_forward(gpu, dxd, dxd, n));
    CHECK_OK(gpu->ops->download(gpu, dxd, got, n * sizeof(float)));
    CHECK(same_bits_floats("relu_forward in place", got, y, n));
    CHECK_OK(gpu->ops->relu_backward(gpu, dyd, ddy, ddy, n)); // in place (dx == dy)
    CHECK_OK(cpu->ops->relu_backward(cpu, y, dy, dx, n));
    CHECK_OK(gpu->ops->download(gpu, ddy, got, n * sizeof(float)));
    CHECK(same_bits_floats("relu_backward", got, dx, n));
    gpu->ops->free(gpu, dxd), gpu->ops->free(gpu, dyd), gpu->ops->free(gpu, ddy);
    free(x), free(dy), free(y), free(dx), free(got);
}

// logits are random, with a row of equal values and a tie (first argmax wins).
static void test_softmax_xent(int B, int C, bool with_grad) {
    const size_t n = (size_t)B * C;
    float *z = rand_floats(n, -5, 5), *d = malloc(n * sizeof *d), *got = malloc(n * sizeof *got);
    int32_t *labels = malloc(B * sizeof *labels);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)(cnn_rng_u64(&rng) % (uint64_t)C);
    for (int c = 0; c < C; c++) z[c] = 0.25f;
    if (B > 1 && C > 2) z[C + 1] = z[C + C - 1] = 7.0f, labels[1] = 1;
    float stats[2] = {3.0f, 4.0f}, gstats[2];
    float *dz = dev_copy_of(gpu, z, n * sizeof(float)), *dd = NULL;
    int32_t *dl = dev_copy_of(gpu, labels, B * sizeof(int32_t));
    float *ds = dev_copy_of(gpu, stats, sizeof stats);
    if (with_grad) CHECK_OK(gpu->ops->alloc(gpu, n * sizeof(float), (void **)&dd));
    CHECK_OK(gpu->ops->softmax_xent(gpu, dz, dl, dd, ds, B, C, 1.0f / B));
    CHECK_OK(cpu->ops->softmax_xent(cpu, z, labels, with_grad ? d : NULL, stats, B, C, 1.0f / B));
    CHECK_OK(gpu->ops->download(gpu, ds, gstats, sizeof gstats));
    char what[96];
    snprintf(what, sizeof what, "softmax_xent loss B=%d C=%d", B, C);
    CHECK(close_to_floats(what, &gstats[0], &stats[0], 1, 0.0, 1e-5));
    CHECK(gstats[1] == stats[1]);
    if (with_grad) {
        CHECK_OK(gpu->ops->download(gpu, dd, got, n * sizeof(float)));
        snprintf(what, sizeof what, "softmax_xent dlogits B=%d C=%d", B, C);
        CHECK(close_to_floats(what, got, d, n, 1e-6, 1e-4));
    }
    gpu->ops->free(gpu, dz), gpu->ops->free(gpu, dd), gpu->ops->free(gpu, dl), gpu->ops->free(gpu, ds);
    free(z), free(d), free(got), free(labels);
}

static void test_mse(int B, int C) {
    const size_t n = (size_t)B * C;
    float *p = rand_floats(n, -1, 1), *t = calloc(n, sizeof *t), *d = malloc(n * sizeof *d),
          *got = malloc(n * sizeof *got);
    for (int i = 0; i < B; i++) t[(size_t)i * C + (size_t)(cnn_rng_u64(&rng) % (uint64_t)C)] = 1.0f;
    for (int i = 0; i < B; i += 2) // make some rows hit
        for (int c = 0; c < C; c++)
            if (t[(size_t)i * C + c] == 1.0f) p[(size_t)i * C + c] = 3.0f;
    float stats[2] = {0, 0}, gstats[2];
    float *dp = dev_copy_of(gpu, p, n * sizeof(float)), *dt = dev_copy_of(gpu, t, n * sizeof(float));
    float *dd = NULL, *ds = dev_copy_of(gpu, stats, sizeof stats);
    CHECK_OK(gpu->ops->alloc(gpu, n * sizeof(float), (void **)&dd));
    CHECK_OK(gpu->ops->mse(gpu, dp, dt, dd, ds, B, C, 1.0f / B));
    CHECK_OK(cpu->ops->mse(cpu, p, t, d, stats, B, C, 1.0f / B));
    CHECK_OK(gpu->ops->download(gpu, ds, gstats, sizeof gstats));
    CHECK_OK(gpu->ops->download(gpu, dd, got, n * sizeof(float)));
    CHECK(close_to_floats("mse loss", &gstats[0], &stats[0], 1, 0.0, 1e-5));
    CHECK(gstats[1] == stats[1]);
    CHECK(close_to_floats("mse dpred", got, d, n, 1e-7, 1e-5));
    gpu->ops->free(gpu, dp), gpu->ops->free(gpu, dt), gpu->ops->free(gpu, dd), gpu->ops->free(gpu, ds);
    free(p), free(t), free(d), free(got);
}

static void test_colsum(int B, int N, float beta) {
    float *X = rand_floats((size_t)B * N, -1, 1), *y = rand_floats(N, -1, 1), *got = malloc(N * sizeof *got);
    float *dX = dev_copy_of(gpu, X, (size_t)B * N * sizeof(float)), *dy = dev_copy_of(gpu, y, N * sizeof(float));
    CHECK_OK(gpu->ops->colsum(gpu, dX, dy, B, N, beta));
    CHECK_OK(cpu->ops->colsum(cpu, X, y, B, N, beta));
    CHECK_OK(gpu->ops->download(gpu, dy, got, N * sizeof(float)));
    char what[64];
    snprintf(what, sizeof what, "colsum B=%d N=%d beta=%g", B, N, beta);
    CHECK(close_to_floats(what, got, y, N, 1e-5, 1e-5));
    gpu->ops->free(gpu, dX), gpu->ops->free(gpu, dy);
    free(X), free(y), free(got);
}

static void test_sgd(void) {
    const size_t n = 784 * 512 + 512 + 512 * 10 + 10;
    float *w = rand_floats(n, -1, 1), *g = rand_floats(n, -1, 1), *v = rand_floats(n, -1, 1);
    float *gw = malloc(n * sizeof *gw), *gv = malloc(n * sizeof *gv);
    float *dw = dev_copy_of(gpu, w, n * sizeof(float)), *dg = dev_copy_of(gpu, g, n * sizeof(float)),
          *dv = dev_copy_of(gpu, v, n * sizeof(float));
    for (int step = 0; step < 2; step++) {
        CHECK_OK(gpu->ops->sgd(gpu, dg, dw, dv, n, 0.05f, 0.9f, 5e-4f));
        CHECK_OK(cpu->ops->sgd(cpu, g, w, v, n, 0.05f, 0.9f, 5e-4f));
    }
    CHECK_OK(gpu->ops->download(gpu, dw, gw, n * sizeof(float)));
    CHECK_OK(gpu->ops->download(gpu, dv, gv, n * sizeof(float)));
    CHECK(same_bits_floats("sgd w", gw, w, n));
    CHECK(same_bits_floats("sgd v", gv, v, n));
    gpu->ops->free(gpu, dw), gpu->ops->free(gpu, dg), gpu->ops->free(gpu, dv);
    free(w), free(g), free(v), free(gw), free(gv);
}

// A small dataset on both backends, for gather and the captured graph.
typedef struct {
    int n, D;
    uint8_t *images, *labels;       // host
    uint8_t *d_images, *d_labels;   // device
} toy_data;

static toy_data toy_make(int n, int D) {
    toy_data t = {n, D, malloc((size_t)n * D), malloc(n), NULL, NULL};
    for (size_t i = 0; i < (size_t)n * D; i++) t.images[i] = (uint8_t)(cnn_rng_u64(&rng) & 255);
    for (int i = 0; i < n; i++) t.labels[i] = (uint8_t)(cnn_rng_u64(&rng) % 10);
    t.d_images = dev_copy_of(gpu, t.images, (size_t)n * D);
    t.d_labels = dev_copy_of(gpu, t.labels, n);
    return t;
}

static void toy_free(toy_data *t) {
    gpu->ops->free(gpu, t->d_images), gpu->ops->free(gpu, t->d_labels);
    free(t->images), free(t->labels);
}

static void test_gather(void) {
    toy_data t = toy_make(1000, 784);
    const int B = 128;
    cnn_batch_cursor cur = {cnn_perm_make(t.n, 0xC0FFEEull), 3, 0}, gcur;
    cnn_batch_cursor *dcur = dev_copy_of(gpu, &cur, sizeof cur);
    float *X = malloc((size_t)B * t.D * sizeof *X), *got = malloc((size_t)B * t.D * sizeof *got), *dX = NULL;
    int32_t y[128], gy[128], *dy = NULL;
    CHECK_OK(gpu->ops->alloc(gpu, (size_t)B * t.D * sizeof(float), (void **)&dX));
    CHECK_OK(gpu->ops->alloc(gpu, B * sizeof(int32_t), (void **)&dy));
    const float scale = 1.0f / (255.0f * 0.3081f), shift = -0.1307f / 0.3081f;
    for (int round = 0; round < 3; round++) {
        const bool advance = round != 1;
        CHECK_OK(gpu->ops->gather(gpu, t.d_images, t.d_labels, dcur, dX, dy, B, t.D, scale, shift, advance));
        CHECK_OK(cpu->ops->gather(cpu, t.images, t.labels, &cur, X, y, B, t.D, scale, shift, advance));
        CHECK_OK(gpu->ops->download(gpu, dX, got, (size_t)B * t.D * sizeof(float)));
        CHECK_OK(gpu->ops->download(gpu, dy, gy, sizeof gy));
        CHECK_OK(gpu->ops->download(gpu, dcur, &gcur, sizeof gcur));
        CHECK(same_bits_floats("gather X", got, X, (size_t)B * t.D));
        CHECK(memcmp(gy, y, sizeof y) == 0);
        CHECK(gcur.start == cur.start);
    }
    // Past the end: reported at the next sync, and the cursor does not move.
    cur.start = (uint32_t)t.n - 5;
    CHECK_OK(gpu->ops->upload(gpu, &cur, dcur, sizeof cur));
    CHECK_OK(gpu->ops->gather(gpu, t.d_images, t.d_labels, dcur, dX, dy, B, t.D, scale, shift, false));
    CHECK(gpu->ops->sync(gpu) == CNN_ERR_INVALID_ARG);
    printf("gather past the end reports: %s\n", cnn_last_error());
    CHECK_OK(gpu->ops->sync(gpu)); // reported once
    gpu->ops->free(gpu, dcur), gpu->ops->free(gpu, dX), gpu->ops->free(gpu, dy);
    free(X), free(got);
    toy_free(&t);
}

static void test_bad_label(void) {
    const int B = 4, C = 10;
    float z[40] = {0};
    int32_t labels[4] = {1, 2, 10, 3}; // 10 is outside [0, 10)
    float *dz = dev_copy_of(gpu, z, sizeof z), *ds = NULL;
    int32_t *dl = dev_copy_of(gpu, labels, sizeof labels);
    CHECK_OK(gpu->ops->alloc(gpu, 2 * sizeof(float), (void **)&ds));
    CHECK_OK(gpu->ops->softmax_xent(gpu, dz, dl, NULL, ds, B, C, 1.0f));
    CHECK(gpu->ops->sync(gpu) == CNN_ERR_INVALID_ARG);
    printf("a bad label reports: %s\n", cnn_last_error());
    CHECK(strstr(cnn_last_error(), "label") != NULL);
    CHECK_OK(gpu->ops->sync(gpu));
    gpu->ops->free(gpu, dz), gpu->ops->free(gpu, ds), gpu->ops->free(gpu, dl);
}

// Captures gather → bias_add → softmax_xent → sgd as a graph; nothing runs while
// capturing; three replays equal three CPU steps (the cursor advances, stats add up).
static void test_graph(void) {
    if (!gpu->ops->capture_begin) {
        CHECK(gpu->ops->capture_begin != NULL);
        return;
    }
    const int D = 10, B = 16; // a toy "model": logits = X + b, 10 classes
    toy_data t = toy_make(200, D);
    cnn_batch_cursor cur = {cnn_perm_make(t.n, 77), 0, 0}, gcur;
    cnn_batch_cursor *dcur = dev_copy_of(gpu, &cur, sizeof cur);
    float *b = rand_floats(D, -1, 1), *v = calloc(D, sizeof *v), *g = rand_floats(D, -1, 1);
    float *db = dev_copy_of(gpu, b, D * sizeof(float)), *dv = dev_copy_of(gpu, v, D * sizeof(float)),
          *dg = dev_copy_of(gpu, g, D * sizeof(float));
    float X[16 * 10], dlog[16 * 10], stats[2] = {0, 0}, gstats[2], gb[10];
    int32_t y[16];
    float *dX = NULL, *dd = NULL, *ds = dev_copy_of(gpu, stats, sizeof stats);
    int32_t *dy = NULL;
    CHECK_OK(gpu->ops->alloc(gpu, sizeof X, (void **)&dX));
    CHECK_OK(gpu->ops->alloc(gpu, sizeof dlog, (void **)&dd));
    CHECK_OK(gpu->ops->alloc(gpu, sizeof y, (void **)&dy));

    void *graph = NULL;
    CHECK_OK(gpu->ops->capture_begin(gpu));
    CHECK_OK(gpu->ops->gather(gpu, t.d_images, t.d_labels, dcur, dX, dy, B, D, 1.0f / 255, -0.5f, true));
    CHECK_OK(gpu->ops->bias_add(gpu, db, dX, B, D, false));
    CHECK_OK(gpu->ops->softmax_xent(gpu, dX, dy, dd, ds, B, D, 1.0f / B));
    CHECK_OK(gpu->ops->sgd(gpu, dg, db, dv, D, 0.1f, 0.9f, 0.0f));
    CHECK(gpu->ops->sync(gpu) == CNN_ERR_INVALID_ARG); // refused while capturing
    CHECK_OK(gpu->ops->capture_end(gpu, &graph));
    CHECK(graph != NULL);
    CHECK_OK(gpu->ops->download(gpu, dcur, &gcur, sizeof gcur));
    CHECK(gcur.start == 0); // recorded, not run

    for (int step = 0; step < 3; step++) {
        CHECK_OK(gpu->ops->graph_launch(gpu, graph));
        CHECK_OK(cpu->ops->gather(cpu, t.images, t.labels, &cur, X, y, B, D, 1.0f / 255, -0.5f, true));
        CHECK_OK(cpu->ops->bias_add(cpu, b, X, B, D, false));
        CHECK_OK(cpu->ops->softmax_xent(cpu, X, y, dlog, stats, B, D, 1.0f / B));
        CHECK_OK(cpu->ops->sgd(cpu, g, b, v, D, 0.1f, 0.9f, 0.0f));
    }
    CHECK_OK(gpu->ops->download(gpu, dcur, &gcur, sizeof gcur));
    CHECK_OK(gpu->ops->download(gpu, ds, gstats, sizeof gstats));
    CHECK_OK(gpu->ops->download(gpu, db, gb, sizeof gb));
    CHECK(gcur.start == cur.start && cur.start == 3u * B);
    CHECK(close_to_floats("graph: loss sum", &gstats[0], &stats[0], 1, 0.0, 1e-5));
    CHECK(gstats[1] == stats[1]);
    CHECK(same_bits_floats("graph: sgd on b", gb, b, D));
    gpu->ops->graph_destroy(gpu, graph);

    gpu->ops->free(gpu, dcur), gpu->ops->free(gpu, db), gpu->ops->free(gpu, dv), gpu->ops->free(gpu, dg);
    gpu->ops->free(gpu, dX), gpu->ops->free(gpu, dd), gpu->ops->free(gpu, ds), gpu->ops->free(gpu, dy);
    free(b), free(v), free(g);
    toy_free(&t);
}

// im2col, col2im, transpose and max pooling: bitwise equal to the CPU (same
// operations, same order) on padded, strided and overlapping windows, with ties.
static void test_conv(void) {
    if (!cnn_backend_supports(gpu, CNN_OP_IM2COL) || !cnn_backend_supports(cpu, CNN_OP_IM2COL)) {
        printf("note: no im2col on one of the backends: conv ops not compared\n");
        return;
    }
    const int B = 5;
    const int convs[][6] = {{3, 11, 9, 3, 2, 1}, {1, 28, 28, 5, 1, 0}, {6, 12, 12, 5, 1, 2}}; // C H W k stride pad
    for (int i = 0; i < 3; i++) {
        cnn_window g;
        CHECK_OK(cnn_window_init(&g, convs[i][0], convs[i][1], convs[i][2], convs[i][3], convs[i][4], convs[i][5]));
        const size_t nx = (size_t)B * g.C * g.H * g.W, ncol = (size_t)B * g.Hout * g.Wout * g.C * g.k * g.k;
        float *X = rand_floats(nx, -1, 1), *col = malloc(ncol * sizeof *col), *got = malloc(ncol * sizeof *got);
        float *dX = malloc(nx * sizeof *dX), *gotx = malloc(nx * sizeof *gotx);
        float *dXd = dev_copy_of(gpu, X, nx * sizeof(float)), *dcol = NULL;
        CHECK_OK(gpu->ops->alloc(gpu, ncol * sizeof(float), (void **)&dcol));
        CHECK_OK(gpu->ops->im2col(gpu, dXd, dcol, B, &g));
        CHECK_OK(cpu->ops->im2col(cpu, X, col, B, &g));
        CHECK_OK(gpu->ops->download(gpu, dcol, got, ncol * sizeof(float)));
        CHECK(same_bits_floats("im2col", got, col, ncol));
        test_fill_uniform(&rng, col, ncol, -1, 1);
        CHECK_OK(gpu->ops->upload(gpu, col, dcol, ncol * sizeof(float)));
        CHECK_OK(gpu->ops->col2im(gpu, dcol, dXd, B, &g));
        CHECK_OK(cpu->ops->col2im(cpu, col, dX, B, &g));
        CHECK_OK(gpu->ops->download(gpu, dXd, gotx, nx * sizeof(float)));
        CHECK(same_bits_floats("col2im", gotx, dX, nx));
        gpu->ops->free(gpu, dXd), gpu->ops->free(gpu, dcol);
        free(X), free(col), free(got), free(dX), free(gotx);
    }
    {
        const int n = 64, rows = 24 * 24, cols = 6; // NHWC -> NCHW of a LeNet conv output
        const size_t total = (size_t)n * rows * cols;
        float *src = rand_floats(total, -1, 1), *dst = malloc(total * sizeof *dst), *got = malloc(total * sizeof *got);
        float *ds = dev_copy_of(gpu, src, total * sizeof(float)), *dd = NULL;
        CHECK_OK(gpu->ops->alloc(gpu, total * sizeof(float), (void **)&dd));
        CHECK_OK(gpu->ops->transpose(gpu, ds, dd, n, rows, cols));
        CHECK_OK(cpu->ops->transpose(cpu, src, dst, n, rows, cols));
        CHECK_OK(gpu->ops->download(gpu, dd, got, total * sizeof(float)));
        CHECK(same_bits_floats("transpose", got, dst, total));
        gpu->ops->free(gpu, ds), gpu->ops->free(gpu, dd);
        free(src), free(dst), free(got);
    }
    const int pools[][5] = {{6, 24, 24, 2, 2}, {3, 9, 9, 3, 2}, {2, 7, 8, 2, 2}}; // C H W k stride
    for (int i = 0; i < 3; i++) {
        cnn_window g;
        CHECK_OK(cnn_window_init(&g, pools[i][0], pools[i][1], pools[i][2], pools[i][3], pools[i][4], 0));
        const size_t nx = (size_t)B * g.C * g.H * g.W, ny = (size_t)B * g.C * g.Hout * g.Wout;
        float *X = malloc(nx * sizeof *X), *Y = malloc(ny * sizeof *Y), *gotY = malloc(ny * sizeof *gotY);
        float *dY = rand_floats(ny, -1, 1), *dX = malloc(nx * sizeof *dX), *gotX = malloc(nx * sizeof *gotX);
        int32_t *am = malloc(ny * sizeof *am), *gotam = malloc(ny * sizeof *gotam);
        for (size_t j = 0; j < nx; j++) X[j] = (float)(cnn_rng_u64(&rng) % 4); // ties
        float *dXd = dev_copy_of(gpu, X, nx * sizeof(float)), *dYd = NULL, *ddY = dev_copy_of(gpu, dY,
                                 ny * sizeof(float));
        int32_t *dam = NULL;
        CHECK_OK(gpu->ops->alloc(gpu, ny * sizeof(float), (void **)&dYd));
        CHECK_OK(gpu->ops->alloc(gpu, ny * sizeof(int32_t), (void **)&dam));
        CHECK_OK(gpu->ops->maxpool_forward(gpu, dXd, dYd, dam, B, &g));
        CHECK_OK(cpu->ops->maxpool_forward(cpu, X, Y, am, B, &g));
        CHECK_OK(gpu->ops->download(gpu, dYd, gotY, ny * sizeof(float)));
        CHECK_OK(gpu->ops->download(gpu, dam, gotam, ny * sizeof(int32_t)));
        CHECK(same_bits_floats("maxpool Y", gotY, Y, ny));
        CHECK(memcmp(gotam, am, ny * sizeof(int32_t)) == 0);
        CHECK_OK(gpu->ops->maxpool_backward(gpu, ddY, dam, dXd, B, &g));
        CHECK_OK(cpu->ops->maxpool_backward(cpu, dY, am, dX, B, &g));
        CHECK_OK(gpu->ops->download(gpu, dXd, gotX, nx * sizeof(float)));
        CHECK(same_bits_floats("maxpool dX", gotX, dX, nx));
        gpu->ops->free(gpu, dXd), gpu->ops->free(gpu, dYd), gpu->ops->free(gpu, ddY), gpu->ops->free(gpu, dam);
        free(X), free(Y), free(gotY), free(dY), free(dX), free(gotX), free(am), free(gotam);
    }
}

int main(void) {
    gpu = cuda_or_skip(NULL);
    printf("CUDA backend: %s, default GEMM %s\n", gpu->device_desc, gpu->gemm->name);
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &cpu));
    if (!cpu) return test_finish("test_cuda_ops");
    cnn_rng_seed(&rng, 2024);
    for (int op = 0; op < CNN_OP_COUNT; op++)
        if (!cnn_backend_supports(gpu, (cnn_op)op)) printf("note: the CUDA backend lacks optional op %s\n",
            cnn_op_name((cnn_op)op));
    CHECK(cnn_backend_supports(gpu, CNN_OP_GEMM) && cnn_backend_supports(gpu, CNN_OP_GATHER));

    test_memory();
    test_elementwise();
    test_softmax_xent(128, 10, true);  // a training batch
    test_softmax_xent(1000, 10, false); // an evaluation chunk: many blocks of partial sums
    test_softmax_xent(77, 100, true);  // more classes than lanes
    test_softmax_xent(1, 1, true);
    test_mse(128, 10);
    test_mse(33, 70);
    test_colsum(128, 512, 0.0f);
    test_colsum(128, 10, 0.0f);
    test_colsum(1000, 33, 0.5f);
    test_sgd();
    test_gather();
    test_bad_label();
    test_graph();
    test_conv();

    cnn_backend_destroy(cpu);
    cnn_backend_destroy(gpu);
    // One CUDA backend at a time: after destroying it, a new one can be made.
    gpu = cuda_or_skip(NULL);
    cnn_backend_destroy(gpu);
    return test_finish("test_cuda_ops");
}
