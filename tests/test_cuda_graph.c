// The CUDA backend's graph capture, which only it has: the work queued
// between capture_begin and capture_end is recorded, not run; replays advance
// the cursor and accumulate, and equal the same steps on the CPU backend.
// Every op's values (and errors found by kernels) are compared with the CPU
// in test_backend_ops. Skipped (exit 77) without a GPU.
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

int main(void) {
    gpu = cuda_or_skip(NULL);
    printf("CUDA backend: %s, default GEMM %s\n", gpu->device_desc, gpu->gemm->name);
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &cpu));
    if (!cpu) return test_finish("test_cuda_graph");
    cnn_rng_seed(&rng, 2024);
    test_graph();
    cnn_backend_destroy(cpu);
    cnn_backend_destroy(gpu);
    return test_finish("test_cuda_graph");
}
