// cnn-train explain: prints, without training, what one training step of a
// model does, layer by layer: the forward and backward passes as GEMMs with
// their operands' shapes and transposes, and the other ops, each with its
// FLOPs, the bytes it must move at least, its arithmetic intensity (FLOPs
// per byte) and whether the machine's roofline makes it compute- or
// memory-bound. Then the totals per step and per epoch. --json gives the
// same as data; --measure also times every op on the backend (profile.c).
//
// The op list comes from models/cost.c, which reads the model's layer table
// the way the layer code runs it; tests/test_explain.c checks its GEMMs
// against the GEMMs the layer code actually calls.
#include "explain.h"
#include "device.h"
#include "explain_precision.h"
#include "explain_roof.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/energy/energy.h"
#include "core/energy/common/json.h"
#include "layers/layers.h"
#include "models/cost.h"
#include "options.h"
#include "profile.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

// The test-set batch of models/train.c's evaluation (its EVAL_BATCH).
#define EVAL_BATCH 1000

// The datasets' shapes (all IDX files of 28x28 digits or clothes, 10 classes).
static const struct {
    const char *name;
    int c, h, w, classes, n_train, n_test;
} shapes[] = {
    {"mnist", 1, 28, 28, 10, 60000, 10000},
    {"fashion-mnist", 1, 28, 28, 10, 60000, 10000},
};

typedef struct {
    cli_options cli;
    bool json;
    int measure;      // timed steps (0: no measurement)
    double peak_given, bw_given; // --peak-gflops, --bandwidth-gbs (0: not given)
    explain_roof_mode roof_mode;   // --probe, --no-probe
    explain_roof roof;             // filled by explain_roof_get once the options are valid
    long n_train, n_test;
} explain_options;

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "cnn-train explain: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see cnn-train explain --help)\n");
    return EXIT_USAGE;
}

static void explain_usage(FILE *f) {
    fprintf(f, "usage: cnn-train explain [DATASET] [--model=mlp|lenet] [--hidden=N,...] [--batch=B] [options]\n"
               "\n"
               "Prints, without training, each layer's forward and backward passes written as GEMMs\n"
               "(operand shapes and transposes), with the FLOPs of each op, the bytes it must move at\n"
               "least, its arithmetic intensity and whether it is compute- or memory-bound on the\n"
               "roofline (peak FLOP/s and memory bandwidth); then the totals per training step and\n"
               "per epoch and the share of FLOPs in GEMMs. DATASET (mnist, fashion-mnist) gives the\n"
               "input shape [mnist].\n"
               "\n"
               "  --model, --hidden, --batch, --backend, --gemm, --threads   as for training\n"
               "  --peak-gflops=F     the roofline's peak [cpu: measured, see below; cuda: 67000, a data sheet's]\n"
               "  --bandwidth-gbs=F   one memory bandwidth for every op, no cache levels [cpu: measured per\n"
               "                      cache level and DRAM; cuda: 3000, a data sheet's]\n"
               "  --probe             measure the CPU's peak and bandwidths now (and refresh the cache)\n"
               "  --no-probe          neither measure nor read the cache: a stated default of another\n"
               "                      machine (140 GFLOP/s, 12.2 GB/s), said so in the output\n"
               "                      (without either: the cached measurement of this host, GEMM and\n"
               "                      thread count, under a week old, else a probe of about 0.3 s,\n"
               "                      cached in $XDG_CACHE_HOME/cnn-train; docs/gemm.md says how)\n"
               "  --train-size=N      training examples per epoch [60000]\n"
               "  --test-size=N       test examples evaluated per epoch [10000]\n"
               "  --measure[=STEPS]   also run STEPS training steps [20] on --backend with random data\n"
               "                      and time every op (each bracketed by device syncs)\n"
               "  --json              the same as one JSON object\n");
}

static bool parse_pos_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || errno || *end || !(v > 0) || !isfinite(v)) return false;
    *out = v;
    return true;
}

static bool parse_pos_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

// Takes explain's own options out of argv; the rest goes through cli_parse (--model, --hidden, --batch, ...).
static int parse(int argc, char **argv, explain_options *o, void *energy_opts) {
    memset(o, 0, sizeof *o);
    cli_defaults(&o->cli);
    o->cli.energy = energy_opts;
    o->n_train = 60000;
    o->n_test = 10000;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return usage("out of memory%s", "");
    int n_rest = 0;
    rest[n_rest++] = argv[0];
    int code = -1;
    for (int i = 2; i < argc && code < 0; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
#define IS(name) (len == strlen(name) && strncmp(a, name, len) == 0)
        const bool takes_value = IS("--peak-gflops") || IS("--bandwidth-gbs") || IS("--train-size") ||
                                 IS("--test-size");
        const char *v = eq ? eq + 1 : NULL;
        if (takes_value && !v) {
            if (i + 1 >= argc) code = usage("%s needs a value", a);
            else v = argv[++i];
        }
        if (code >= 0) break;
        long l;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            explain_usage(stdout);
            code = EXIT_OK;
        } else if (IS("--json")) {
            if (eq) code = usage("--json takes no value%s", "");
            o->json = true;
        } else if (IS("--measure")) {
            o->measure = 20;
            if (eq && !parse_pos_long(v, 1, 100000, &l)) code = usage("--measure=STEPS takes 1 to 100000, got '%s'", v);
            else if (eq) o->measure = (int)l;
        } else if (IS("--probe") || IS("--no-probe")) {
            if (eq) code = usage("%s takes no value", a);
            else if (o->roof_mode != ROOF_AUTO) code = usage("--probe and --no-probe exclude each other%s", "");
            o->roof_mode = IS("--probe") ? ROOF_PROBE : ROOF_NO_PROBE;
        } else if (IS("--peak-gflops")) {
            if (!parse_pos_double(v, &o->peak_given)) code = usage("--peak-gflops must be a positive number, got '%s'", v);
        } else if (IS("--bandwidth-gbs")) {
            if (!parse_pos_double(v, &o->bw_given)) code = usage("--bandwidth-gbs must be a positive number, got '%s'", v);
        } else if (IS("--train-size")) {
            if (!parse_pos_long(v, 1, 100000000, &o->n_train))
                code = usage("--train-size must be in [1, 100000000], got '%s'", v);
        } else if (IS("--test-size")) {
            if (!parse_pos_long(v, 0, 100000000, &o->n_test))
                code = usage("--test-size must be in [0, 100000000], got '%s'", v);
        } else {
            rest[n_rest++] = argv[i];
        }
#undef IS
    }
    if (code < 0) {
        int r = cli_parse(n_rest, rest, 1, &o->cli);
        if (r) code = r;
        else if (o->cli.help) {
            explain_usage(stdout);
            code = EXIT_OK;
        } else if ((r = cli_resolve_device(&o->cli)) != 0) {
            code = r;
        }
    }
    free(rest);
    if (code >= 0) return code;
    if (o->roof_mode != ROOF_AUTO && strcmp(o->cli.backend, "cpu") != 0)
        return usage("--probe and --no-probe are for the cpu backend (cuda's roofline is a data sheet's)%s", "");
    return -1;
}

// ---- numbers ---------------------------------------------------------------------

static double ai(const cnn_cost_op *op) { return op->bytes > 0 ? op->flops / op->bytes : 0; }
// The roofline's bound at the op's level: compute when its intensity times that bandwidth reaches the peak.
static const char *bound(const cnn_cost_op *op, const explain_options *o) {
    return explain_roof_compute_bound(&o->roof, op->flops, op->bytes) ? "compute" : "memory";
}
// The least time the roofline allows, in seconds.
static double t_min(const cnn_cost_op *op, const explain_options *o) {
    return explain_roof_t_min(&o->roof, op->flops, op->bytes);
}
// The memory level the op's minimum bytes fit in ("L2", "DRAM").
static const char *level(const cnn_cost_op *op, const explain_options *o) {
    return o->roof.level[explain_roof_level(&o->roof, op->bytes)].name;
}
static double t_min_total(const cnn_cost *c, const explain_options *o) {
    double t = 0;
    for (int i = 0; i < c->n_ops; i++) t += t_min(&c->ops[i], o);
    return t;
}

// Prints s left-aligned in width columns, counting UTF-8 characters rather than bytes.
static void put_padded(FILE *f, const char *s, int width) {
    int cols = 0;
    for (const char *p = s; *p; p++) cols += ((unsigned char)*p & 0xC0) != 0x80;
    fputs(s, f);
    for (; cols < width; cols++) fputc(' ', f);
}

static void layer_header(FILE *f, const cnn_model *m, int i) {
    const cnn_layer *l = &m->layers[i];
    char name[32];
    cnn_layer_name(m, i, name, sizeof name);
    const int in_c = i > 0 ? m->layers[i - 1].out_c : m->in_c, in_h = i > 0 ? m->layers[i - 1].out_h : m->in_h,
              in_w = i > 0 ? m->layers[i - 1].out_w : m->in_w;
    fprintf(f, "\n%-7s %s ", name, cnn_layer_kind_name(l->kind));
    if (in_h > 1 || in_w > 1) fprintf(f, "%dx%dx%d", in_c, in_h, in_w);
    else fprintf(f, "%d", l->in);
    if (l->out_h > 1 || l->out_w > 1) fprintf(f, " → %dx%dx%d", l->out_c, l->out_h, l->out_w);
    else fprintf(f, " → %d", l->out);
    if (l->kind == CNN_LAYER_CONV2D)
        fprintf(f, ", kernel %dx%d, stride %d, pad %d (K = C·k·k = %d, P = Hout·Wout = %d)", l->win.k, l->win.k,
                l->win.stride, l->win.pad, l->win.C * l->win.k * l->win.k, l->win.Hout * l->win.Wout);
    if (l->kind == CNN_LAYER_MAXPOOL) fprintf(f, ", window %dx%d, stride %d", l->win.k, l->win.k, l->win.stride);
    if (l->kind == CNN_LAYER_RELU && l->fused) fprintf(f, " (fused into the bias add above)");
    if (l->kind == CNN_LAYER_FLATTEN) fprintf(f, " (no work: NCHW rows are already the flat features)");
    if (l->kind == CNN_LAYER_LINEAR || l->kind == CNN_LAYER_CONV2D)
        fprintf(f, ", %zu parameters", cnn_arena_numel(&m->arena, l->w_slot) + cnn_arena_numel(&m->arena, l->b_slot));
    fputc('\n', f);
}

static void op_row(FILE *f, const cnn_cost_op *op, const explain_options *o, const double *measured) {
    char kind[24];
    if (op->gemm) snprintf(kind, sizeof kind, "gemm %c%c", op->ta ? 'T' : 'N', op->tb ? 'T' : 'N');
    else snprintf(kind, sizeof kind, "%s", op->op);
    fprintf(f, "  %-6s %-16s ", cnn_pass_name(op->pass), kind);
    put_padded(f, op->eq, 36);
    fputc(' ', f);
    put_padded(f, op->dims, 28);
    if (op->gemm) fprintf(f, " %7d %5d %5d", op->M, op->N, op->K);
    else fprintf(f, " %7s %5s %5s", "", "", "");
    fprintf(f, " %9.3f %9.3f %6.2f %-6s %-7s %9.1f", op->flops / 1e6, op->bytes / 1e6, ai(op), level(op, o),
            bound(op, o), t_min(op, o) * 1e6);
    if (measured) {
        double t = *measured;
        fprintf(f, " %9.1f", t * 1e6);
        if (op->flops > 0 && t > 0) fprintf(f, " %8.2f", op->flops / t / 1e9);
        else fprintf(f, " %8s", "");
        if (t > 0) fprintf(f, " %7.2f", op->bytes / t / 1e9);
    }
    fputc('\n', f);
}

// ---- measuring -------------------------------------------------------------------------

typedef struct {
    double step_s;        // one training step, unprofiled, device synchronised at the end
    double eval_batch_s;  // one evaluation batch of EVAL_BATCH examples
    double op_s[CNN_COST_MAX_OPS]; // per op of the step, profiled, mean over the steps
    bool ops_match;       // the profiled calls matched the cost list one to one
    char device[128], gemm[32];
} measurement;

static cnn_status measure_run(const explain_options *o, const cnn_cost *c, const cnn_model *plan, measurement *me) {
    memset(me, 0, sizeof *me);
    const int B = o->cli.cfg.batch, cap = B > EVAL_BATCH ? B : EVAL_BATCH;
    cnn_backend *be = NULL;
    CNN_TRY(cnn_backend_create(o->cli.backend, o->cli.gemm, o->cli.threads, o->cli.device_index, &be));
    snprintf(me->device, sizeof me->device, "%s", be->device_desc);
    snprintf(me->gemm, sizeof me->gemm, "%s", be->gemm->name);
    cnn_model m;
    cnn_status s = cnn_model_create(be, o->cli.model, plan->in_c, plan->in_h, plan->in_w, o->cli.hidden,
                                    o->cli.n_hidden, plan->n_classes, 1, &m);
    if (s != CNN_OK) {
        cnn_backend_destroy(be);
        return s;
    }
    uint8_t *host = malloc((size_t)cap * m.in_dim + cap);
    void *images = NULL, *labels = NULL, *X = NULL, *y = NULL, *stats = NULL, *cursor = NULL;
    if (!host) s = cnn_error(CNN_ERR_NOMEM, "out of memory for the measurement's data");
    if (s == CNN_OK) {
        uint64_t r = 0x9e3779b97f4a7c15ull;
        for (size_t i = 0; i < (size_t)cap * m.in_dim; i++) { // pseudo-random pixels (an LCG's top byte)
            r = r * 6364136223846793005ull + 1;
            host[i] = (uint8_t)(r >> 56);
        }
        for (int i = 0; i < cap; i++) host[(size_t)cap * m.in_dim + i] = (uint8_t)(i % m.n_classes);
        s = cnn_model_reserve(&m, be, cap);
    }
    if (s == CNN_OK) s = be->ops->alloc(be, (size_t)cap * m.in_dim, &images);
    if (s == CNN_OK) s = be->ops->alloc(be, (size_t)cap, &labels);
    if (s == CNN_OK) s = be->ops->alloc(be, (size_t)cap * m.in_dim * sizeof(float), &X);
    if (s == CNN_OK) s = be->ops->alloc(be, (size_t)cap * sizeof(int32_t), &y);
    if (s == CNN_OK) s = be->ops->alloc(be, 4 * sizeof(float), &stats);
    if (s == CNN_OK) s = be->ops->alloc(be, sizeof(cnn_batch_cursor), &cursor);
    if (s == CNN_OK) s = be->ops->upload(be, host, images, (size_t)cap * m.in_dim);
    if (s == CNN_OK) s = be->ops->upload(be, host + (size_t)cap * m.in_dim, labels, (size_t)cap);
    if (s == CNN_OK) {
        cnn_batch_cursor cur = {cnn_perm_make((uint32_t)cap, 0), 0, 0};
        s = be->ops->upload(be, &cur, cursor, sizeof cur);
    }
    const float scale = 1.0f / (255.0f * 0.3081f), shift = -0.1307f / 0.3081f;
    const cnn_train_config *cfg = &o->cli.cfg;
    // one step as models/train.c runs it (the cursor does not advance: the same batch every time)
#define STEP(s_)                                                                                                       \
    do {                                                                                                               \
        s_ = be->ops->gather(be, images, labels, cursor, X, y, B, m.in_dim, scale, shift, false);                          \
        if (s_ == CNN_OK) s_ = cnn_model_forward(&m, be, X, B);                                                        \
        if (s_ == CNN_OK)                                                                                              \
            s_ = cnn_softmax_xent_backward(be, cnn_model_logits(&m), y, cnn_model_dlogits(&m), stats, B, m.n_classes);     \
        if (s_ == CNN_OK) s_ = cnn_model_backward(&m, be, X, B);                                                       \
        if (s_ == CNN_OK) s_ = cnn_sgd_step(be, &m.arena, cfg->lr * 0.01f, cfg->momentum, cfg->weight_decay);              \
    } while (0)
    for (int i = 0; i < 3 && s == CNN_OK; i++) STEP(s); // warm-up: caches, page faults, GPU clocks
    if (s == CNN_OK) s = be->ops->sync(be);
    double t0 = cnn_now_s();
    for (int i = 0; i < o->measure && s == CNN_OK; i++) STEP(s);
    if (s == CNN_OK) s = be->ops->sync(be);
    me->step_s = (cnn_now_s() - t0) / o->measure;
    // one evaluation batch
    if (s == CNN_OK) {
        s = be->ops->gather(be, images, labels, cursor, X, y, EVAL_BATCH, m.in_dim, scale, shift, false);
        if (s == CNN_OK) s = cnn_model_forward(&m, be, X, EVAL_BATCH);
        if (s == CNN_OK) s = be->ops->sync(be);
        t0 = cnn_now_s();
        const int evals = 3;
        for (int i = 0; i < evals && s == CNN_OK; i++) {
            s = be->ops->gather(be, images, labels, cursor, X, y, EVAL_BATCH, m.in_dim, scale, shift, false);
            if (s == CNN_OK) s = cnn_model_forward(&m, be, X, EVAL_BATCH);
            if (s == CNN_OK) s = cnn_softmax_xent_forward(be, cnn_model_logits(&m), y, stats, EVAL_BATCH, m.n_classes);
        }
        if (s == CNN_OK) s = be->ops->sync(be);
        me->eval_batch_s = (cnn_now_s() - t0) / evals;
    }
    // the breakdown: every op timed on its own
    if (s == CNN_OK) s = profile_attach(be);
    if (s == CNN_OK) {
        for (int i = 0; i < o->measure && s == CNN_OK; i++) STEP(s);
        const int n = profile_count(), per_step = n / o->measure;
        const profile_event *ev = profile_events();
        me->ops_match = n == per_step * o->measure && per_step == c->n_ops;
        for (int i = 0; me->ops_match && i < per_step; i++) me->ops_match = !strcmp(ev[i].op, c->ops[i].op);
        if (me->ops_match)
            for (int k = 0; k < n; k++) me->op_s[k % per_step] += ev[k].seconds / o->measure;
        profile_detach(be);
    }
#undef STEP
    void *bufs[] = {images, labels, X, y, stats, cursor};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) be->ops->free(be, bufs[i]);
    free(host);
    cnn_model_free(&m, be);
    cnn_backend_destroy(be);
    return s;
}

// ---- text ---------------------------------------------------------------------------

// Sums of the measured op times by kind: GEMM, im2col + col2im, transpose, the rest.
typedef struct {
    double gemm, im2col, transpose, other, total;
} shares;

static shares measured_shares(const cnn_cost *c, const measurement *me) {
    shares s = {0};
    for (int i = 0; i < c->n_ops; i++) {
        const double t = me->op_s[i];
        const char *op = c->ops[i].op;
        if (c->ops[i].gemm) s.gemm += t;
        else if (!strcmp(op, "im2col") || !strcmp(op, "col2im")) s.im2col += t;
        else if (!strcmp(op, "transpose")) s.transpose += t;
        else s.other += t;
        s.total += t;
    }
    return s;
}

static void gemm_bench_line(FILE *f, const cnn_cost *c, const char *backend) {
    fprintf(f, "time the same GEMMs: gemm-bench --backend=%s --shapes=", backend);
    int printed = 0;
    for (int i = 0; i < c->n_ops; i++) {
        const cnn_cost_op *op = &c->ops[i];
        if (!op->gemm) continue;
        bool seen = false; // each shape once
        for (int j = 0; j < i && !seen; j++)
            seen = c->ops[j].gemm && c->ops[j].M == op->M && c->ops[j].N == op->N && c->ops[j].K == op->K &&
                   c->ops[j].ta == op->ta && c->ops[j].tb == op->tb;
        if (seen) continue;
        fprintf(f, "%s%dx%dx%d:%c%c", printed++ ? "," : "", op->M, op->N, op->K, op->ta ? 'T' : 'N',
                op->tb ? 'T' : 'N');
    }
    fputc('\n', f);
}

// "measured now", "cached from 2026-12-01T10:00:00Z", "given", "data sheet", "STATED DEFAULT ...".
static void source_label(const explain_roof *r, const char *kind, char *buf, size_t len) {
    if (!strcmp(kind, "cached")) snprintf(buf, len, "cached from %s", r->cached_utc);
    else if (!strcmp(kind, "stated default")) snprintf(buf, len, "STATED DEFAULT FOR ANOTHER MACHINE");
    else snprintf(buf, len, "%s", kind);
}

// Decimals that show v with 4 significant digits, none past the point for v >= 1000 (67000, 231.5, 12.20).
static int decimals(double v) {
    return v >= 1000 ? 0 : v >= 100 ? 1 : v >= 10 ? 2 : 3;
}

// The roofline's lines: the peak and each level's bandwidth with where they come from, then how and the sizes.
static void print_roofline(FILE *f, const explain_options *o) {
    const explain_roof *r = &o->roof;
    const roof_level *mem = &r->level[r->n_levels - 1];
    char pk[64], bk[64];
    source_label(r, r->peak_kind, pk, sizeof pk);
    source_label(r, r->bw_kind, bk, sizeof bk);
    const bool same = !strcmp(pk, bk);
    if (r->stated_default)
        fprintf(f, "WARNING: the roofline is a STATED DEFAULT FOR ANOTHER MACHINE, not measured here (see below)\n");
    fprintf(f, "roofline (%s backend%s%s): peak %.*f GFLOP/s%s%s%s, bandwidth%s%s%s", o->cli.backend, same ? ", " : "",
            same ? pk : "", decimals(r->peak_gflops), r->peak_gflops, same ? "" : " (", same ? "" : pk,
            same ? "" : ")", same ? "" : " (", same ? "" : bk, same ? "" : ")");
    for (int i = 0, n = 0; i < r->n_levels; i++)
        if (r->level[i].gbs > 0)
            fprintf(f, "%s %s %.*f GB/s", n++ ? "," : "", r->level[i].name, decimals(r->level[i].gbs), r->level[i].gbs);
    fprintf(f, "; ridge at %.3g FLOP/byte (%s)\n", r->peak_gflops / mem->gbs, mem->name);
    fprintf(f, "  peak: %s; bandwidths: %s", r->peak_source, r->bw_source);
    if (r->n_levels > 1) {
        fprintf(f, "; for %d thread%s the caches hold", r->threads, r->threads == 1 ? "" : "s");
        for (int i = 0; i + 1 < r->n_levels; i++) {
            char sz[32];
            explain_roof_format_bytes(r->level[i].capacity, sz, sizeof sz);
            fprintf(f, "%s %s %s", i ? "," : "", r->level[i].name, sz);
        }
    }
    if (r->cached) fprintf(f, "; %s, %.1f h old (--probe measures again)", r->cache_file, r->cache_age_s / 3600.0);
    else if (r->busy) fprintf(f, "; %s", r->busy_note);
    else if (!strcmp(r->bw_kind, "measured now") && r->cache_file[0]) fprintf(f, "; cached in %s", r->cache_file);
    fputc('\n', f);
}

static void print_text(FILE *f, const explain_options *o, const cnn_model *m, const cnn_cost *step,
                       const cnn_cost *eval, const measurement *me) {
    const int B = o->cli.cfg.batch;
    const long steps = o->n_train / B, eval_batches = (o->n_test + EVAL_BATCH - 1) / EVAL_BATCH;
    fprintf(f, "%s on %dx%dx%d inputs, %d classes: %d layers, %zu parameters; batch B = %d\n", m->desc, m->in_c,
            m->in_h, m->in_w, m->n_classes, m->n_layers, m->arena.n_params, B);
    print_roofline(f, o);
    fprintf(f, "GEMM C = op(A)·op(B), op(A) (M×K), op(B) (K×N), row-major, ᵀ = transposed (NT: B transposed): "
               "2·M·N·K FLOPs,\nat least 4·(M·K + K·N + M·N) bytes; AI = FLOPs/bytes; level = the fastest one "
               "that holds those bytes;\nt_min = max(FLOPs/peak, bytes/bandwidth of that level).\n");
    if (me)
        fprintf(f, "measured on %s, GEMM %s: each op timed alone between device syncs, mean of %d steps%s\n",
                me->device, me->gemm, o->measure,
                me->ops_match ? "" : " (the calls did not match the list: per-op times not shown)");
    fprintf(f, "\n  %-6s %-16s ", "pass", "op");
    put_padded(f, "equation", 36);
    fputc(' ', f);
    put_padded(f, "operands", 28);
    fprintf(f, " %7s %5s %5s %9s %9s %6s %-6s %-7s %9s", "M", "N", "K", "MFLOP", "MB", "AI", "level", "bound",
            "t_min µs");
    if (me && me->ops_match) fprintf(f, " %9s %8s %7s", "meas µs", "GFLOP/s", "GB/s");
    fputc('\n', f);
    const double *meas = me && me->ops_match ? me->op_s : NULL;
    // data first, then each layer's forward and backward ops, then the loss and the update
    for (int i = 0; i < step->n_ops; i++)
        if (step->ops[i].pass == CNN_PASS_DATA) op_row(f, &step->ops[i], o, meas ? &meas[i] : NULL);
    for (int l = 0; l < m->n_layers; l++) {
        layer_header(f, m, l);
        for (int i = 0; i < step->n_ops; i++)
            if (step->ops[i].layer == l) op_row(f, &step->ops[i], o, meas ? &meas[i] : NULL);
    }
    fputc('\n', f);
    for (int i = 0; i < step->n_ops; i++)
        if (step->ops[i].pass == CNN_PASS_LOSS || step->ops[i].pass == CNN_PASS_UPDATE)
            op_row(f, &step->ops[i], o, meas ? &meas[i] : NULL);

    fprintf(f, "\none training step (B = %d): %.4g MFLOP, %.1f%% of them in GEMMs; at least %.4g MB moved; "
               "roofline time >= %.4g ms\n",
            B, step->flops / 1e6, 100 * step->gemm_flops / step->flops, step->bytes / 1e6, t_min_total(step, o) * 1e3);
    fprintf(f, "  per example: %.4g MFLOP, of which GEMM %.4g MFLOP\n", step->flops / B / 1e6,
            step->gemm_flops / B / 1e6);
    fprintf(f, "one evaluation batch (B = %d, forward only): %.4g MFLOP (GEMM %.1f%%), at least %.4g MB\n", EVAL_BATCH,
            eval->flops / 1e6, 100 * eval->gemm_flops / eval->flops, eval->bytes / 1e6);
    const double ef = steps * step->flops + eval_batches * eval->flops,
                 eg = steps * step->gemm_flops + eval_batches * eval->gemm_flops,
                 eb = steps * step->bytes + eval_batches * eval->bytes,
                 et = steps * t_min_total(step, o) + eval_batches * t_min_total(eval, o);
    fprintf(f, "one epoch (%ld training examples = %ld steps, then %ld test examples in %ld batches): %.4g GFLOP, "
               "%.1f%% in GEMMs; at least %.4g GB moved; roofline time >= %.3g s\n",
            o->n_train, steps, o->n_test, eval_batches, ef / 1e9, 100 * eg / ef, eb / 1e9, et);
    explain_precision_table(f, step);
    if (me) {
        fprintf(f, "measured: %.3f ms per training step, %.3f ms per evaluation batch: %.3g s per epoch of this size\n",
                me->step_s * 1e3, me->eval_batch_s * 1e3, steps * me->step_s + eval_batches * me->eval_batch_s);
        if (me->ops_match) {
            shares s = measured_shares(step, me);
            fprintf(f, "  time of the ops timed alone: %.3f ms per step: GEMM %.1f%%, im2col+col2im %.1f%%, "
                       "transpose %.1f%%, the rest %.1f%%\n",
                    s.total * 1e3, 100 * s.gemm / s.total, 100 * s.im2col / s.total, 100 * s.transpose / s.total,
                    100 * s.other / s.total);
        }
    }
    gemm_bench_line(f, step, o->cli.backend);
}

// ---- JSON -------------------------------------------------------------------------------

static void json_ops(cnn_json_writer *w, const cnn_cost *c, const explain_options *o, const measurement *me) {
    cnn_jw_array(w, "ops");
    for (int i = 0; i < c->n_ops; i++) {
        const cnn_cost_op *op = &c->ops[i];
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "layer", op->layer);
        cnn_jw_string(w, "pass", cnn_pass_name(op->pass));
        cnn_jw_string(w, "op", op->op);
        cnn_jw_bool(w, "gemm", op->gemm);
        if (op->gemm) {
            cnn_jw_bool(w, "transa", op->ta);
            cnn_jw_bool(w, "transb", op->tb);
            cnn_jw_int(w, "M", op->M);
            cnn_jw_int(w, "N", op->N);
            cnn_jw_int(w, "K", op->K);
        }
        cnn_jw_string(w, "equation", op->eq);
        cnn_jw_string(w, "operands", op->dims);
        cnn_jw_number(w, "flops", op->flops);
        cnn_jw_number(w, "bytes", op->bytes);
        cnn_jw_number(w, "intensity", ai(op));
        cnn_jw_string(w, "bound", bound(op, o));
        cnn_jw_string(w, "level", level(op, o));
        cnn_jw_number(w, "level_gbs", o->roof.level[explain_roof_level(&o->roof, op->bytes)].gbs);
        cnn_jw_number(w, "t_min_s", t_min(op, o));
        if (me && me->ops_match) cnn_jw_number(w, "measured_s", me->op_s[i]);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
}

static void json_int3(cnn_json_writer *w, const char *key, int a, int b, int c) {
    cnn_jw_array(w, key);
    cnn_jw_int(w, NULL, a);
    cnn_jw_int(w, NULL, b);
    cnn_jw_int(w, NULL, c);
    cnn_jw_end_array(w);
}

// "flops", "gemm_flops", "bytes", "t_min_s" of a step or an evaluation batch.
static void json_totals(cnn_json_writer *w, const cnn_cost *c, const explain_options *o) {
    cnn_jw_number(w, "flops", c->flops);
    cnn_jw_number(w, "gemm_flops", c->gemm_flops);
    cnn_jw_number(w, "bytes", c->bytes);
    cnn_jw_number(w, "t_min_s", t_min_total(c, o));
}

// "roofline": the figures, their sources and the levels.
static void json_roofline(cnn_json_writer *w, const explain_options *o) {
    const explain_roof *r = &o->roof;
    cnn_jw_object(w, "roofline");
    cnn_jw_string(w, "backend", o->cli.backend);
    cnn_jw_number(w, "peak_gflops", r->peak_gflops);
    cnn_jw_number(w, "bandwidth_gbs", r->level[r->n_levels - 1].gbs);
    cnn_jw_string(w, "peak_source", r->peak_kind);
    cnn_jw_string(w, "peak_how", r->peak_source);
    cnn_jw_string(w, "bandwidth_source", r->bw_kind);
    cnn_jw_string(w, "bandwidth_how", r->bw_source);
    cnn_jw_bool(w, "stated_default", r->stated_default);
    cnn_jw_string(w, "cached_from_utc", r->cached ? r->cached_utc : NULL);
    if (r->cached) cnn_jw_number(w, "cache_age_s", r->cache_age_s);
    else cnn_jw_null(w, "cache_age_s");
    cnn_jw_string(w, "cache_file", r->cache_file[0] ? r->cache_file : NULL);
    cnn_jw_string(w, "busy", r->busy ? r->busy_note : NULL);
    if (r->threads > 0) cnn_jw_int(w, "threads", r->threads);
    cnn_jw_array(w, "levels");
    for (int i = 0; i < r->n_levels; i++) {
        const roof_level *l = &r->level[i];
        cnn_jw_object(w, NULL);
        cnn_jw_string(w, "name", l->name);
        cnn_jw_number(w, "size_bytes", l->size > 0 ? l->size : NAN);
        if (l->size > 0) cnn_jw_int(w, "shared_by_cpus", l->shared_by);
        cnn_jw_number(w, "capacity_bytes", l->capacity > 0 ? l->capacity : NAN);
        cnn_jw_number(w, "gbs", l->gbs > 0 ? l->gbs : NAN);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    cnn_jw_end_object(w);
}

static void print_json(FILE *f, const explain_options *o, const cnn_model *m, const cnn_cost *step,
                       const cnn_cost *eval, const measurement *me) {
    const int B = o->cli.cfg.batch;
    const long steps = o->n_train / B, eval_batches = (o->n_test + EVAL_BATCH - 1) / EVAL_BATCH;
    cnn_json_writer jw, *w = &jw;
    cnn_jw_init(w, f);
    cnn_jw_object(w, NULL);
    cnn_jw_string(w, "model", o->cli.model);
    cnn_jw_string(w, "description", m->desc);
    json_int3(w, "input", m->in_c, m->in_h, m->in_w);
    cnn_jw_int(w, "classes", m->n_classes);
    cnn_jw_int(w, "parameters", (long long)m->arena.n_params);
    cnn_jw_int(w, "batch", B);
    json_roofline(w, o);
    cnn_jw_array(w, "layers");
    for (int l = 0; l < m->n_layers; l++) {
        const cnn_layer *ly = &m->layers[l];
        char name[32];
        cnn_layer_name(m, l, name, sizeof name);
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "index", l);
        cnn_jw_string(w, "name", name);
        cnn_jw_string(w, "kind", cnn_layer_kind_name(ly->kind));
        cnn_jw_int(w, "in", ly->in);
        json_int3(w, "out", ly->out_c, ly->out_h, ly->out_w);
        if (ly->kind == CNN_LAYER_CONV2D || ly->kind == CNN_LAYER_MAXPOOL) {
            cnn_jw_int(w, "kernel", ly->win.k);
            cnn_jw_int(w, "stride", ly->win.stride);
            cnn_jw_int(w, "pad", ly->win.pad);
        }
        if (ly->kind == CNN_LAYER_LINEAR || ly->kind == CNN_LAYER_CONV2D)
            cnn_jw_int(w, "parameters",
                       (long long)(cnn_arena_numel(&m->arena, ly->w_slot) + cnn_arena_numel(&m->arena, ly->b_slot)));
        cnn_jw_bool(w, "fused", ly->fused);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    cnn_jw_object(w, "step");
    cnn_jw_int(w, "batch", B);
    json_totals(w, step, o);
    json_ops(w, step, o, me);
    cnn_jw_end_object(w);
    cnn_jw_object(w, "eval_batch");
    cnn_jw_int(w, "batch", EVAL_BATCH);
    json_totals(w, eval, o);
    cnn_jw_end_object(w);
    const double ef = steps * step->flops + eval_batches * eval->flops,
                 eg = steps * step->gemm_flops + eval_batches * eval->gemm_flops,
                 eb = steps * step->bytes + eval_batches * eval->bytes,
                 et = steps * t_min_total(step, o) + eval_batches * t_min_total(eval, o);
    cnn_jw_object(w, "epoch");
    cnn_jw_int(w, "train_examples", o->n_train);
    cnn_jw_int(w, "steps", steps);
    cnn_jw_int(w, "test_examples", o->n_test);
    cnn_jw_int(w, "eval_batches", eval_batches);
    cnn_jw_number(w, "flops", ef);
    cnn_jw_number(w, "gemm_flops", eg);
    cnn_jw_number(w, "gemm_share", eg / ef);
    cnn_jw_number(w, "bytes", eb);
    cnn_jw_number(w, "t_min_s", et);
    cnn_jw_end_object(w);
    if (me) {
        cnn_jw_object(w, "measured");
        cnn_jw_string(w, "device", me->device);
        cnn_jw_string(w, "gemm", me->gemm);
        cnn_jw_int(w, "steps", o->measure);
        cnn_jw_number(w, "step_s", me->step_s);
        cnn_jw_number(w, "eval_batch_s", me->eval_batch_s);
        cnn_jw_number(w, "epoch_s", steps * me->step_s + eval_batches * me->eval_batch_s);
        if (me->ops_match) {
            shares sh = measured_shares(step, me);
            cnn_jw_number(w, "ops_total_s", sh.total);
            cnn_jw_number(w, "gemm_share", sh.gemm / sh.total);
            cnn_jw_number(w, "im2col_share", sh.im2col / sh.total);
            cnn_jw_number(w, "transpose_share", sh.transpose / sh.total);
            cnn_jw_number(w, "other_share", sh.other / sh.total);
        }
        cnn_jw_end_object(w);
    }
    cnn_jw_end_object(w);
}

int explain_main(int argc, char **argv) {
    cnn_energy_options eo; // cli_parse hands unknown options to the energy hook's parser
    cnn_energy_options_default(&eo);
    explain_options o;
    int code = parse(argc, argv, &o, &eo);
    if (code >= 0) return code;
    const char *ds = o.cli.dataset ? o.cli.dataset : "mnist";
    int si = -1;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (!strcmp(shapes[i].name, ds)) si = (int)i;
    if (si < 0) return usage("no input shape known for dataset '%s'", ds);
    cnn_model m;
    cnn_status s = cnn_model_plan(o.cli.model, shapes[si].c, shapes[si].h, shapes[si].w, o.cli.hidden, o.cli.n_hidden,
                                  shapes[si].classes, &m);
    static cnn_cost step, eval; // large: not on the stack
    if (s == CNN_OK) s = cnn_model_cost(&m, o.cli.cfg.batch, false, &step);
    if (s == CNN_OK) s = cnn_model_cost(&m, EVAL_BATCH, true, &eval);
    if (s == CNN_OK)
        explain_roof_get(o.cli.backend, o.cli.gemm, o.cli.threads, o.roof_mode, o.peak_given, o.bw_given, &o.roof,
                         stderr);
    static measurement me;
    if (s == CNN_OK && o.measure) s = measure_run(&o, &step, &m, &me);
    if (s != CNN_OK) {
        fprintf(stderr, "cnn-train explain: %s\n", cnn_last_error());
        return s == CNN_ERR_INVALID_ARG ? EXIT_USAGE : EXIT_ERROR;
    }
    if (o.json) print_json(stdout, &o, &m, &step, &eval, o.measure ? &me : NULL);
    else print_text(stdout, &o, &m, &step, &eval, o.measure ? &me : NULL);
    return EXIT_OK;
}
