// Runs the fused MLP training step (backends/cuda/fused/mlp_step.cuh) on the
// CPU through the emulator (cuda_emu_shim.h: every block of the cooperative
// grid at once, per-block shared memory, grid barriers) and checks it
// against the CPU backend running the op-by-op step of models/train.c
// (gather, forward, softmax cross-entropy, backward, SGD) on the same model,
// whose arena the fused step updates in place:
//  - after 1 and after 3 steps (1 launch of 1 step, then 1 launch of 2):
//    parameters, gradients, momentum, the loss sum and the hit count, and
//    the cursor (moved on by B per step on the device);
//  - determinism: 3 steps in one launch on another grid size, twice, give
//    the same bits as each other and as the 1 + 2 launches;
//  - errors: a label outside [0, C) and a batch past the data are flagged;
//    bad arguments are refused;
//  - the evaluation pass (mlp_eval.cuh): every row from the cursor to the
//    data's end in chunks of B (the last one ragged) against the CPU's
//    chunks op by op (gather, forward, softmax_xent), the same bits on 1, 2
//    and 5 blocks, the cursor moved on, the parameters untouched, without
//    the gradient and momentum pointers.
// Shapes are small but odd (batch 13..16, 784 or 97 inputs, one hidden
// layer of 64 or two of 48 and 33) so that every tile has a ragged edge.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vector>

extern "C" {
#include "core/backend.h"
#include "layers/layers.h"
#include "models/model.h"
#include "test_util.h"
}

#include "cuda_emu_shim.h"

#define cnn_cuda cnn_cuda_emulated
#include "backends/cuda/fused/mlp_step_launch.cuh"

using namespace cnn_cuda_emulated;

namespace {

struct Case {
    const char *name;
    int B, D, n_hidden, hidden[2], C, n_examples, grid;
};

// The data set: random pixels and labels, the same for both backends.
struct Data {
    std::vector<uint8_t> images, labels;
    cnn_batch_cursor cursor;
    float scale = 1.0f / (255.0f * 0.3f), shift = -0.45f;
};

Data make_data(const Case &c, uint64_t seed) {
    cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    Data d;
    d.images.resize((size_t)c.n_examples * c.D);
    d.labels.resize(c.n_examples);
    for (auto &p : d.images) p = (uint8_t)(cnn_rng_u64(&rng) & 255);
    for (auto &l : d.labels) l = (uint8_t)(cnn_rng_u64(&rng) % (uint64_t)c.C);
    memset(&d.cursor, 0, sizeof d.cursor);
    d.cursor.perm = cnn_perm_make((uint32_t)c.n_examples, 0x5eed1234ull);
    d.cursor.start = 3;
    return d;
}

const float LR = 0.1f, MOMENTUM = 0.9f, WD = 5e-4f;

// The op-by-op reference: the CPU backend, the model's own passes (as models/train.c's train_step).
struct CpuRun {
    cnn_backend *be = NULL;
    cnn_model m;
    std::vector<float> X;
    std::vector<int32_t> y;
    float stats[2] = {0.0f, 0.0f};
};

bool cpu_start(const Case &c, CpuRun *r) {
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &r->be));
    if (!r->be) return false;
    const int before = test_failures;
    CHECK_OK(cnn_model_create(r->be, "mlp", c.D, 1, 1, c.hidden, c.n_hidden, c.C, 42, &r->m));
    CHECK_OK(cnn_model_reserve(&r->m, r->be, c.B));
    r->X.resize((size_t)c.B * c.D);
    r->y.resize(c.B);
    return test_failures == before;
}

void cpu_step(const Case &c, Data &d, CpuRun *r) {
    cnn_backend *be = r->be;
    CHECK_OK(be->ops->gather(be, d.images.data(), d.labels.data(), &d.cursor, r->X.data(), r->y.data(), c.B, c.D,
                             d.scale, d.shift, true));
    CHECK_OK(cnn_model_forward(&r->m, be, r->X.data(), c.B));
    CHECK_OK(cnn_softmax_xent_backward(be, cnn_model_logits(&r->m), r->y.data(), cnn_model_dlogits(&r->m), r->stats,
                                       c.B, c.C));
    CHECK_OK(cnn_model_backward(&r->m, be, r->X.data(), c.B));
    CHECK_OK(cnn_sgd_step(be, &r->m.arena, LR, MOMENTUM, WD));
}

// The fused step's state: its own copy of the arena (params | grads | momentum) and scratch.
struct FusedRun {
    std::vector<float> arena, X, dlogits;
    std::vector<float> act[2], dact[2];
    std::vector<int32_t> y;
    std::vector<double> row_stats;
    float stats[2] = {0.0f, 0.0f};
    int err[ERRW_WORDS] = {0}; // the backend's error word: [ERRW_CODE] the DEVERR_* code, then the loss counters
    cnn_batch_cursor cursor;
    cnn_mlp_fused_args a;
};

// Points a at r's buffers, laid out as the model's arena says (core/mlp_step.h).
void fused_setup(const Case &c, const cnn_model &m, const std::vector<float> &arena0, Data &d, FusedRun *r) {
    r->arena = arena0;
    r->X.assign((size_t)c.B * c.D, 0.0f);
    r->y.assign(c.B, 0);
    r->dlogits.assign((size_t)c.B * c.C, 0.0f);
    r->row_stats.assign(2 * (size_t)c.B, 0.0);
    r->cursor = d.cursor;
    cnn_mlp_fused_args &a = r->a;
    memset(&a, 0, sizeof a);
    a.images = d.images.data();
    a.labels = d.labels.data();
    a.cursor = &r->cursor;
    a.scale = d.scale;
    a.shift = d.shift;
    a.B = c.B, a.D = c.D, a.C = c.C, a.n_hidden = c.n_hidden;
    const size_t n = m.arena.n;
    float *base = r->arena.data();
    int l = 0;
    for (int i = 0; i < m.n_layers; i++) {
        const cnn_layer &ly = m.layers[i];
        if (ly.kind != CNN_LAYER_LINEAR) continue;
        const size_t wo = m.arena.slots[ly.w_slot].offset, bo = m.arena.slots[ly.b_slot].offset;
        a.W[l] = base + wo, a.b[l] = base + bo;
        a.dW[l] = base + n + wo, a.db[l] = base + n + bo;
        a.vW[l] = base + 2 * n + wo, a.vb[l] = base + 2 * n + bo;
        l++;
    }
    for (int h = 0; h < c.n_hidden; h++) {
        a.hidden[h] = c.hidden[h];
        r->act[h].assign((size_t)c.B * c.hidden[h], 0.0f);
        r->dact[h].assign((size_t)c.B * c.hidden[h], 0.0f);
        a.act[h] = r->act[h].data();
        a.dact[h] = r->dact[h].data();
    }
    a.X = r->X.data();
    a.y = r->y.data();
    a.dlogits = r->dlogits.data();
    a.row_stats = r->row_stats.data();
    a.lr = LR, a.momentum = MOMENTUM, a.wd = WD;
    a.stats = r->stats;
    a.err = r->err;
    a.grid_blocks = c.grid;
}

void fused_run(FusedRun *r, int steps, int grid) {
    r->a.steps = steps;
    r->a.grid_blocks = grid;
    CHECK(launch_mlp_step_fused(&r->a, NULL) == cudaSuccess);
}

// One arena section of the fused run against the CPU model's. Tolerances: the GEMMs sum in another
// order than the CPU GEMM and the softmax runs in float (the CPU: double), so gradients differ by a
// few float roundings of their terms; parameters and momentum carry that through lr and momentum
// for 3 steps. Seen here: at most 4e-6 relative, except where terms cancel (a momentum of 4e-3 off
// by 1.6e-6, when the section's largest is 6). So: atol 2e-6 of the section's largest magnitude +
// rtol 3e-5, a margin of ~8x that still catches a dropped weight-decay term or a wrong index.
bool section_close(const char *what, const Case &c, const float *got, const float *want, size_t n) {
    std::vector<double> w(want, want + n);
    double biggest = 0.0;
    for (double v : w) biggest = fmax(biggest, fabs(v));
    char label[128];
    snprintf(label, sizeof label, "%s: %s", c.name, what);
    return test_close(label, got, w.data(), n, 2e-6 * biggest, 3e-5);
}

void compare(const Case &c, const char *when, const FusedRun &f, const CpuRun &cpu, bool grads) {
    const cnn_arena &ar = cpu.m.arena;
    const float *want = ar.base;
    const float *got = f.arena.data();
    char what[96];
    snprintf(what, sizeof what, "params after %s", when);
    if (!section_close(what, c, got, want, ar.n)) test_failures++;
    snprintf(what, sizeof what, "momentum after %s", when);
    if (!section_close(what, c, got + 2 * ar.n, want + 2 * ar.n, ar.n)) test_failures++;
    snprintf(what, sizeof what, "grads after %s", when);
    if (grads && !section_close(what, c, got + ar.n, want + ar.n, ar.n)) test_failures++;
    // The loss sum: rows' float-vs-double softmax differ by ~1e-7 relative each.
    const double wl = cpu.stats[0];
    if (fabs(f.stats[0] - wl) > 1e-5 * fabs(wl) + 1e-5) {
        fprintf(stderr, "  %s: loss sum after %s: %.9g, the CPU %.9g\n", c.name, when, (double)f.stats[0], wl);
        test_failures++;
    }
    if (f.stats[1] != cpu.stats[1]) {
        fprintf(stderr, "  %s: hits after %s: %g, the CPU %g\n", c.name, when, (double)f.stats[1],
                (double)cpu.stats[1]);
        test_failures++;
    }
}

bool same_bits(const char *what, const void *a, const void *b, size_t bytes) {
    if (memcmp(a, b, bytes) == 0) return true;
    fprintf(stderr, "  %s: the bits differ\n", what);
    return false;
}

void test_case(const Case &c) {
    Data d = make_data(c, 1000u + (uint64_t)c.D);
    CpuRun cpu;
    if (!cpu_start(c, &cpu)) return;
    const cnn_arena &ar = cpu.m.arena;
    const std::vector<float> arena0(ar.base, ar.base + 3 * ar.n);
    const uint32_t start0 = d.cursor.start;

    FusedRun f; // 1 step, then 2 more in one launch, against the CPU after 1 and 3
    fused_setup(c, cpu.m, arena0, d, &f);
    cpu_step(c, d, &cpu);
    fused_run(&f, 1, c.grid);
    compare(c, "1 step", f, cpu, true);
    CHECK(f.cursor.start == start0 + (uint32_t)c.B);
    cpu_step(c, d, &cpu);
    cpu_step(c, d, &cpu);
    fused_run(&f, 2, c.grid);
    compare(c, "3 steps", f, cpu, true);
    CHECK(f.cursor.start == d.cursor.start);
    CHECK(f.err[ERRW_CODE] == 0);

    // Deterministic, and independent of the grid and of how the steps are split into launches.
    FusedRun g1, g2;
    fused_setup(c, cpu.m, arena0, d, &g1);
    fused_setup(c, cpu.m, arena0, d, &g2);
    g1.cursor.start = g2.cursor.start = start0;
    fused_run(&g1, 3, c.grid + 1);
    fused_run(&g2, 3, c.grid + 1);
    char what[96];
    snprintf(what, sizeof what, "%s: 3 steps twice (arena)", c.name);
    if (!same_bits(what, g1.arena.data(), g2.arena.data(), g1.arena.size() * sizeof(float))) test_failures++;
    snprintf(what, sizeof what, "%s: 3 steps twice (stats)", c.name);
    if (!same_bits(what, g1.stats, g2.stats, sizeof g1.stats)) test_failures++;
    snprintf(what, sizeof what, "%s: 3 steps in one launch vs 1 + 2, another grid (arena)", c.name);
    if (!same_bits(what, g1.arena.data(), f.arena.data(), f.arena.size() * sizeof(float))) test_failures++;
    snprintf(what, sizeof what, "%s: 3 steps in one launch vs 1 + 2, another grid (stats)", c.name);
    if (!same_bits(what, g1.stats, f.stats, sizeof f.stats)) test_failures++;
    cnn_model_free(&cpu.m, cpu.be);
    cnn_backend_destroy(cpu.be);
}

// The evaluation pass against the CPU's chunks (this file's header). Loss sum tolerance: as the step's
// (the rows' float-vs-double softmax and the GEMMs' order), plus the CPU adding each chunk's sum in float.
void test_eval(const Case &c) {
    Data d = make_data(c, 2000u + (uint64_t)c.D);
    CpuRun cpu;
    if (!cpu_start(c, &cpu)) return;
    const cnn_arena &ar = cpu.m.arena;
    const std::vector<float> arena0(ar.base, ar.base + 3 * ar.n);
    const int rows = c.n_examples - (int)d.cursor.start, grids[3] = {1, 2, 5};
    FusedRun runs[3];
    for (int g = 0; g < 3; g++) {
        FusedRun &f = runs[g];
        fused_setup(c, cpu.m, arena0, d, &f);
        f.row_stats.assign(2 * (size_t)rows, -1.0);
        f.a.row_stats = f.row_stats.data();
        f.a.eval_rows = rows;
        f.a.grid_blocks = grids[g];
        f.a.dlogits = NULL; // the pass reads neither gradients nor momentum
        for (int l = 0; l <= c.n_hidden; l++) {
            f.a.dW[l] = f.a.db[l] = f.a.vW[l] = f.a.vb[l] = NULL;
            if (l < c.n_hidden) f.a.dact[l] = NULL;
        }
        CHECK(launch_mlp_eval_fused(&f.a, NULL) == cudaSuccess);
        CHECK(f.cursor.start == d.cursor.start + (uint32_t)rows);
        CHECK(f.err[ERRW_CODE] == 0);
        char what[96];
        snprintf(what, sizeof what, "%s: eval on %d blocks: the arena untouched", c.name, grids[g]);
        if (!same_bits(what, f.arena.data(), arena0.data(), arena0.size() * sizeof(float))) test_failures++;
        if (g == 0) continue;
        snprintf(what, sizeof what, "%s: eval on %d and %d blocks (stats)", c.name, grids[0], grids[g]);
        if (!same_bits(what, runs[0].stats, f.stats, sizeof f.stats)) test_failures++;
        snprintf(what, sizeof what, "%s: eval on %d and %d blocks (rows)", c.name, grids[0], grids[g]);
        if (!same_bits(what, runs[0].row_stats.data(), f.row_stats.data(), f.row_stats.size() * sizeof(double)))
            test_failures++;
    }
    for (int r0 = 0; r0 < rows; r0 += c.B) {
        const int chunk = rows - r0 < c.B ? rows - r0 : c.B;
        CHECK_OK(cpu.be->ops->gather(cpu.be, d.images.data(), d.labels.data(), &d.cursor, cpu.X.data(), cpu.y.data(),
                                     chunk, c.D, d.scale, d.shift, true));
        CHECK_OK(cnn_model_forward(&cpu.m, cpu.be, cpu.X.data(), chunk));
        CHECK_OK(cnn_softmax_xent_forward(cpu.be, cnn_model_logits(&cpu.m), cpu.y.data(), cpu.stats, chunk, c.C));
    }
    const FusedRun &f = runs[0];
    printf("%s: eval of %d rows: loss sum %.7g hits %g, the CPU %.7g %g\n", c.name, rows, (double)f.stats[0],
           (double)f.stats[1], (double)cpu.stats[0], (double)cpu.stats[1]);
    CHECK(fabs(f.stats[0] - cpu.stats[0]) <= 1e-5 * fabs(cpu.stats[0]) + 1e-5);
    CHECK(f.stats[1] == cpu.stats[1]);
    CHECK(f.cursor.start == d.cursor.start);
    cnn_model_free(&cpu.m, cpu.be);
    cnn_backend_destroy(cpu.be);
}

// A label outside [0, C) and a batch past the data are flagged (as the op-by-op kernels do);
// arguments the kernel cannot run are refused.
void test_errors(void) {
    const Case c = {"errors", 8, 40, 1, {16, 0}, 10, 30, 2};
    Data d = make_data(c, 7);
    CpuRun cpu;
    if (!cpu_start(c, &cpu)) return;
    const std::vector<float> arena0(cpu.m.arena.base, cpu.m.arena.base + 3 * cpu.m.arena.n);
    const std::vector<uint8_t> labels = d.labels;
    for (auto &l : d.labels) l = 12; // every label is outside [0, 10)
    FusedRun f;
    fused_setup(c, cpu.m, arena0, d, &f);
    fused_run(&f, 1, 2);
    CHECK(f.err[ERRW_CODE] == DEVERR_LABEL);
    CHECK(f.stats[0] == 0.0f && f.stats[1] == 0.0f); // no row counted
    for (float v : f.dlogits) CHECK(v == 0.0f);
    d.labels = labels;
    FusedRun g;
    fused_setup(c, cpu.m, arena0, d, &g);
    g.cursor.start = (uint32_t)c.n_examples - 3; // 3 rows left, 8 asked
    fused_run(&g, 1, 2);
    CHECK(g.err[ERRW_CODE] == DEVERR_GATHER_RANGE);
    for (size_t i = 3 * (size_t)c.D; i < g.X.size(); i++) CHECK(g.X[i] == 0.0f);

    FusedRun h;
    fused_setup(c, cpu.m, arena0, d, &h);
    h.a.steps = 1;
    h.a.C = CNN_FUSED_MAX_CLASSES + 1;
    CHECK(launch_mlp_step_fused(&h.a, NULL) == cudaErrorInvalidValue);
    h.a.C = c.C;
    h.a.n_hidden = 3;
    CHECK(launch_mlp_step_fused(&h.a, NULL) == cudaErrorInvalidValue);
    h.a.n_hidden = 1;
    h.a.steps = 0;
    CHECK(launch_mlp_step_fused(&h.a, NULL) == cudaErrorInvalidValue);
    h.a.steps = 1;
    h.a.dact[0] = NULL;
    CHECK(launch_mlp_step_fused(&h.a, NULL) == cudaErrorInvalidValue);
    h.a.eval_rows = 0; // the evaluation pass: no rows, or a missing forward buffer
    CHECK(launch_mlp_eval_fused(&h.a, NULL) == cudaErrorInvalidValue);
    h.a.eval_rows = 5;
    h.a.act[0] = NULL;
    CHECK(launch_mlp_eval_fused(&h.a, NULL) == cudaErrorInvalidValue);
    cnn_model_free(&cpu.m, cpu.be);
    cnn_backend_destroy(cpu.be);
}

} // namespace

int main(void) {
    const Case cases[] = {
        {"784-64-10 batch 16", 16, 784, 1, {64, 0}, 10, 60, 3},
        {"97-48-33-10 batch 13", 13, 97, 2, {48, 33}, 10, 50, 2},
    };
    for (const Case &c : cases) test_case(c);
    for (const Case &c : cases) test_eval(c);
    test_errors();
    printf("test_cuda_emu_fused: %ld emulated launches\n", emu_launches);
    return test_finish("test_cuda_emu_fused");
}
