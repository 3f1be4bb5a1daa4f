// One full training step of the 784-512-10 MLP on CUDA against the CPU
// backend (models/ and layers/ code, each backend's own ops): the same
// initial parameters, then parameters, gradients and momentum after the
// step within tolerance, for the default GEMM and for cuBLAS, eager and as a
// captured CUDA graph. Then three steps, to see the small differences stay small.
//
// Tolerances (|gpu - cpu| <= atol + rtol |cpu|): the GEMMs sum in a
// different order than the CPU's, so gradients differ in the last bits:
// gradients and momentum atol 1e-6, rtol 1e-3 (their scale is ~1e-2);
// parameters atol 1e-6, rtol 1e-4 (one step moves them by lr * gradient);
// loss sum rtol 1e-5; hits exact after one step (the logits match to ~1e-6).
// Skipped (exit 77) without a GPU.
#include <math.h>
#include <stdio.h>

#include "test_cuda_common.h"
#include "test_cuda_mlp.h"
#include "test_util.h"

static mlp_data data;

static void compare(const char *label, const mlp_result *g, const mlp_result *c, bool exact_hits) {
    char what[128];
    CHECK(g->n == c->n);
    if (g->n != c->n) return;
    snprintf(what, sizeof what, "%s: initial parameters", label);
    CHECK(same_bits_floats(what, g->arena0, c->arena0, c->n));
    snprintf(what, sizeof what, "%s: parameters", label);
    CHECK(close_to_floats(what, g->arena, c->arena, c->n, 1e-6, 1e-4));
    snprintf(what, sizeof what, "%s: gradients", label);
    CHECK(close_to_floats(what, g->arena + c->n, c->arena + c->n, c->n, 1e-6, 1e-3));
    snprintf(what, sizeof what, "%s: momentum", label);
    CHECK(close_to_floats(what, g->arena + 2 * c->n, c->arena + 2 * c->n, c->n, 1e-6, 1e-3));
    snprintf(what, sizeof what, "%s: loss sum", label);
    CHECK(close_to_floats(what, &g->stats[0], &c->stats[0], 1, 0.0, 1e-5));
    if (exact_hits) CHECK(g->stats[1] == c->stats[1]);
    else CHECK(fabsf(g->stats[1] - c->stats[1]) <= 2.0f);
}

int main(void) {
    cnn_backend *gpu = cuda_or_skip(NULL), *cpu = NULL;
    printf("CUDA backend: %s\n", gpu->device_desc);
    CHECK_OK(cnn_backend_create("cpu", NULL, 0, 0, &cpu));
    if (!cpu) return test_finish("test_cuda_step");
    mlp_data_make(&data, 11);
    for (int steps = 1; steps <= 3; steps += 2) {
        mlp_result c;
        CHECK_OK(mlp_run(cpu, &data, steps, false, 0x5EEDull, &c));
        printf("CPU (%s), %d step(s): loss sum %.6f, hits %.0f\n", cpu->gemm->name, steps, c.stats[0], c.stats[1]);
        const char *gemms[] = {NULL, "cublas"};
        for (int gi = 0; gi < 2; gi++)
            for (int graph = 0; graph < 2; graph++) {
                CHECK_OK(cnn_backend_select_gemm(gpu, gemms[gi] ? gemms[gi] : gpu->default_gemm));
                mlp_result g;
                char label[96];
                snprintf(label, sizeof label, "%d step(s), gemm %s, %s", steps, gpu->gemm->name,
                         graph ? "graph" : "eager");
                cnn_status s = mlp_run(gpu, &data, steps, graph, 0x5EEDull, &g);
                CHECK_OK(s);
                if (s == CNN_OK) {
                    printf("CUDA %s: loss sum %.6f, hits %.0f\n", label, g.stats[0], g.stats[1]);
                    compare(label, &g, &c, steps == 1);
                }
                mlp_result_free(&g);
            }
        mlp_result_free(&c);
    }
    cnn_backend_destroy(cpu);
    cnn_backend_destroy(gpu);
    return test_finish("test_cuda_step");
}
