// The training loop: upload the data once, then epochs of shuffled
// mini-batches (gather → forward → loss → backward → SGD), evaluations on
// the whole test set, early stop at the target accuracy.
//
// Data-parallel (the backend attached to a world of N ranks, core/dist.h;
// docs/distributed.md): every rank holds the model and takes rows
// r*B/N .. (r+1)*B/N-1 of each global batch of B rows (the same shuffle on
// every rank); the loss gradient is scaled by 1/B, so that the gradients
// summed over the ranks (the backend's allreduce, one call over the
// gradient arena) are the global batch's mean, and every rank applies the
// same SGD update. Evaluation shards the test set, and its sums, the
// training loss, signals and failures are agreed by every rank at the
// window edges, so that all stop at the same step.
#include "models/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/dist.h"
#include "core/mlp_step.h"
#include "core/rng.h"
#include "layers/layers.h"

#define EVAL_BATCH 1000
// A world of several ranks agrees on a signal every this many steps (and at every evaluation, checkpoint and
// epoch): one small collective, so that all ranks stop at the same step boundary.
#define STOP_EVERY 16

cnn_train_config cnn_train_config_default(void) {
    cnn_train_config c = {
        .batch = 64,
        .max_epochs = 20,
        .target_acc = 0.0,
        .eval_every = 0,
        .lr = 0.05f,
        .momentum = 0.9f,
        .weight_decay = 5e-4f,
        .seed = 1,
        .step = CNN_STEP_AUTO,
    };
    return c;
}

// Per dataset and model, the batch size and learning rate that reach the
// usual targets quickly (measured: README.md, "Defaults"). Other fields keep the
// defaults above. NULL model or dataset matches any.
static const struct {
    const char *dataset, *model;
    int batch;
    float lr;
} recipes[] = {
    {"mnist", "mlp", 64, 0.05f},          // 0.96 on the 10k-digit subset in 5 epochs
    {"fashion-mnist", "mlp", 128, 0.02f}, // 0.88 in 5 epochs (lr 0.05 plateaus near 0.86)
    {"mnist", "lenet", 64, 0.05f},        // 0.97 on the 10k-digit subset in 4 epochs
};

cnn_train_config cnn_train_config_recipe(const char *dataset, const char *model) {
    cnn_train_config c = cnn_train_config_default();
    for (size_t i = 0; i < sizeof recipes / sizeof recipes[0]; i++)
        if ((!recipes[i].dataset || !strcmp(recipes[i].dataset, dataset)) &&
            (!recipes[i].model || !strcmp(recipes[i].model, model))) {
            c.batch = recipes[i].batch;
            c.lr = recipes[i].lr;
            break;
        }
    return c;
}

cnn_status cnn_train_config_check(const cnn_train_config *c) {
    if (c->batch < 1 || c->batch > 65536)
        return cnn_error(CNN_ERR_INVALID_ARG, "--batch must be between 1 and 65536, got %d", c->batch);
    if (c->max_epochs < 1 || c->max_epochs > 100000)
        return cnn_error(CNN_ERR_INVALID_ARG, "--epochs must be between 1 and 100000, got %d", c->max_epochs);
    if (!(c->target_acc >= 0.0 && c->target_acc <= 1.0))
        return cnn_error(CNN_ERR_INVALID_ARG, "--target-acc must be in (0, 1] (a fraction: 0.97 for 97%%), got %g",
                         c->target_acc);
    if (c->eval_every < 0) return cnn_error(CNN_ERR_INVALID_ARG, "--eval-every must be >= 0, got %ld", c->eval_every);
    if (!(c->lr > 0.0f && isfinite(c->lr)))
        return cnn_error(CNN_ERR_INVALID_ARG, "--lr must be a positive number, got %g", (double)c->lr);
    if (!(c->momentum >= 0.0f && c->momentum < 1.0f))
        return cnn_error(CNN_ERR_INVALID_ARG, "--momentum must be in [0, 1), got %g", (double)c->momentum);
    if (!(c->weight_decay >= 0.0f && isfinite(c->weight_decay)))
        return cnn_error(CNN_ERR_INVALID_ARG, "--weight-decay must be >= 0, got %g", (double)c->weight_decay);
    return CNN_OK;
}

// Everything the loop keeps in the backend's memory.
typedef struct {
    uint8_t *train_images, *train_labels, *test_images, *test_labels;
    float *X;                  // (max(batch, EVAL_BATCH), D) normalised inputs
    int32_t *y;                // (max(batch, EVAL_BATCH)) labels
    float *stats;              // (4): training loss sum, correct | evaluation loss sum, correct
    cnn_batch_cursor *cursor;  // (2): training | evaluation
    float scale, shift;        // pixel → (pixel/255 - mean) / std
    cnn_step_kind step;        // how the steps run (resolved: ops, graph or fused)
    void *graph;               // the captured training step (graph)
    cnn_mlp_fused_args fused;  // the fused step's arguments (fused), steps set per launch
    double *row_stats;         // (batch, 2) the fused step's per-row loss and hit
    long fused_queued;         // fused: steps already queued beyond the loop's position
    int batch;                 // the training batch size (global: all ranks together)
    int rank_batch;            // this rank's rows of each batch (batch / world size)
    int eval_lo, eval_n;       // this rank's shard of the test set: eval_n examples from eval_lo
    cnn_mlp_fused_args fused_eval; // fused: the evaluation pass's arguments (test set, EVAL_BATCH rows a chunk)
    double *eval_row_stats;    // (n_test, 2) its per-row loss and hit
    char step_note[320];       // why auto did not take the fused step the model allows ("": it did, or no reason)
} train_state;

static cnn_status upload_bytes(cnn_backend *be, const void *host, size_t bytes, uint8_t **dev) {
    void *p = NULL;
    CNN_TRY(be->ops->alloc(be, bytes, &p));
    *dev = p;
    return be->ops->upload(be, host, p, bytes);
}

static void state_free(cnn_backend *be, train_state *st) {
    void *bufs[] = {st->train_images, st->train_labels, st->test_images, st->test_labels, st->X,
                    st->y,            st->stats,        st->cursor,      st->row_stats, st->eval_row_stats};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) be->ops->free(be, bufs[i]);
    if (st->graph) be->ops->graph_destroy(be, st->graph);
    memset(st, 0, sizeof *st);
}

// The training images' pixel mean and standard deviation, in [0, 1] units.
static void pixel_moments(const cnn_split *s, double *mean, double *std) {
    size_t n = (size_t)s->n * s->rows * s->cols;
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = s->images[i] / 255.0;
        sum += v;
        sq += v * v;
    }
    *mean = sum / (double)n;
    double var = sq / (double)n - *mean * *mean;
    *std = var > 1e-12 ? sqrt(var) : 1.0;
}

static cnn_status state_init(cnn_backend *be, const cnn_dataset *ds, int batch, train_state *st) {
    memset(st, 0, sizeof *st);
    const int D = ds->train.rows * ds->train.cols;
    CNN_TRY(upload_bytes(be, ds->train.images, (size_t)ds->train.n * D, &st->train_images));
    CNN_TRY(upload_bytes(be, ds->train.labels, (size_t)ds->train.n, &st->train_labels));
    CNN_TRY(upload_bytes(be, ds->test.images, (size_t)ds->test.n * D, &st->test_images));
    CNN_TRY(upload_bytes(be, ds->test.labels, (size_t)ds->test.n, &st->test_labels));
    int rows = batch > EVAL_BATCH ? batch : EVAL_BATCH;
    void *p;
    CNN_TRY(be->ops->alloc(be, (size_t)rows * D * sizeof(float), &p));
    st->X = p;
    CNN_TRY(be->ops->alloc(be, (size_t)rows * sizeof(int32_t), &p));
    st->y = p;
    CNN_TRY(be->ops->alloc(be, 4 * sizeof(float), &p));
    st->stats = p;
    CNN_TRY(be->ops->alloc(be, 2 * sizeof(cnn_batch_cursor), &p));
    st->cursor = p;
    double mean, std;
    pixel_moments(&ds->train, &mean, &std);
    st->scale = (float)(1.0 / (255.0 * std));
    st->shift = (float)(-mean / std);
    st->batch = batch;
    const int N = cnn_dist_size(be->dist), r = cnn_dist_rank(be->dist);
    st->rank_batch = batch / N;
    st->eval_lo = (int)((long)ds->test.n * r / N);
    st->eval_n = (int)((long)ds->test.n * (r + 1) / N) - st->eval_lo;
    return CNN_OK;
}

const char *cnn_step_name(cnn_step_kind k) {
    switch (k) {
    case CNN_STEP_AUTO: return "auto";
    case CNN_STEP_OPS: return "ops";
    case CNN_STEP_GRAPH: return "graph";
    case CNN_STEP_FUSED: return "fused";
    }
    return "unknown";
}

bool cnn_step_parse(const char *name, cnn_step_kind *out) {
    for (int k = CNN_STEP_AUTO; k <= CNN_STEP_FUSED; k++)
        if (strcmp(name, cnn_step_name((cnn_step_kind)k)) == 0) {
            *out = (cnn_step_kind)k;
            return true;
        }
    return false;
}

// The device's word on the fused kernels' cooperative launch (a described backend, without a device, is not
// asked: it is asked again when the run's backend is open): "" when it runs them, else why not.
static void fused_refusal(const cnn_backend *be, char *why, size_t len) {
    why[0] = '\0';
    if (!be->ctx || !be->ops->mlp_fused_ready) return;
    if (be->ops->mlp_fused_ready((cnn_backend *)be) != CNN_OK) snprintf(why, len, "%s", cnn_last_error());
}

cnn_status cnn_step_resolve_noted(const cnn_backend *be, const cnn_model *m, cnn_step_kind want, cnn_step_kind *out,
                                  char *note, size_t note_len) {
    char why[160] = "", refused[256] = "";
    if (note && note_len) note[0] = '\0';
    const bool fusable = cnn_backend_supports(be, CNN_OP_MLP_STEP) && cnn_mlp_fusable(m, why, sizeof why);
    const bool graphs = be->ops->capture_begin != NULL;
    if (fusable) fused_refusal(be, refused, sizeof refused);
    switch (want) {
    case CNN_STEP_AUTO:
        *out = fusable && !refused[0] ? CNN_STEP_FUSED : graphs ? CNN_STEP_GRAPH : CNN_STEP_OPS;
        if (refused[0] && note) // the fastest rung the device allows, and why not the fused one
            snprintf(note, note_len, "%s: the %s step instead", refused, cnn_step_name(*out));
        return CNN_OK;
    case CNN_STEP_OPS: *out = CNN_STEP_OPS; return CNN_OK;
    case CNN_STEP_GRAPH:
        if (!graphs)
            return cnn_error(CNN_ERR_INVALID_ARG, "--step=graph: the %s backend has no graphs; use --step=ops", be->name);
        *out = CNN_STEP_GRAPH;
        return CNN_OK;
    case CNN_STEP_FUSED:
        if (!cnn_backend_supports(be, CNN_OP_MLP_STEP))
            return cnn_error(CNN_ERR_INVALID_ARG, "--step=fused: the %s backend has no fused step (the CUDA backend "
                                                  "has one for the MLP); use --step=%s",
                             be->name, graphs ? "graph" : "ops");
        if (!fusable) return cnn_error(CNN_ERR_INVALID_ARG, "--step=fused: %s; use --step=graph", why);
        if (refused[0])
            return cnn_error(CNN_ERR_UNSUPPORTED, "--step=fused: %s; use --step=%s (or --step=auto)", refused,
                             graphs ? "graph" : "ops");
        *out = CNN_STEP_FUSED;
        return CNN_OK;
    }
    return cnn_error(CNN_ERR_INVALID_ARG, "unknown step kind %d", (int)want);
}

cnn_status cnn_step_resolve(const cnn_backend *be, const cnn_model *m, cnn_step_kind want, cnn_step_kind *out) {
    return cnn_step_resolve_noted(be, m, want, out, NULL, 0);
}

// The fused step's arguments for m: the model's buffers, the loop's data and scratch (steps set per launch).
static cnn_status fused_init(cnn_backend *be, const cnn_model *m, const cnn_train_config *cfg, train_state *st) {
    cnn_mlp_fused_args *a = &st->fused;
    memset(a, 0, sizeof *a);
    CNN_TRY(cnn_mlp_fused_args_fill(m, st->rank_batch, a));
    if (cnn_dist_size(be->dist) > 1) { // the gradient of this rank's rows only, summed over the ranks before SGD
        a->grad_scale = 1.0f / (float)cfg->batch;
        a->grad_only = 1;
    }
    void *p = NULL;
    CNN_TRY(be->ops->alloc(be, (size_t)cfg->batch * 2 * sizeof(double), &p));
    st->row_stats = p;
    a->images = st->train_images;
    a->labels = st->train_labels;
    a->cursor = &st->cursor[0];
    a->scale = st->scale;
    a->shift = st->shift;
    a->X = st->X;
    a->y = st->y;
    a->row_stats = st->row_stats;
    a->lr = cfg->lr;
    a->momentum = cfg->momentum;
    a->wd = cfg->weight_decay;
    a->stats = &st->stats[0];
    return CNN_OK;
}

// The fused evaluation pass's arguments: the test set through cursor[1], EVAL_BATCH rows a chunk.
static cnn_status fused_eval_init(cnn_backend *be, const cnn_model *m, const cnn_dataset *ds, train_state *st) {
    cnn_mlp_fused_args *a = &st->fused_eval;
    memset(a, 0, sizeof *a);
    CNN_TRY(cnn_mlp_fused_args_fill(m, EVAL_BATCH, a));
    void *p = NULL;
    CNN_TRY(be->ops->alloc(be, (size_t)ds->test.n * 2 * sizeof(double), &p));
    st->eval_row_stats = p;
    a->images = st->test_images, a->labels = st->test_labels, a->cursor = &st->cursor[1];
    a->scale = st->scale, a->shift = st->shift;
    a->X = st->X, a->y = st->y, a->row_stats = st->eval_row_stats, a->stats = &st->stats[2];
    a->eval_rows = st->eval_n; // this rank's shard (0: none, then evaluate() skips the call)
    return CNN_OK;
}

// The gradients of every rank summed over the ranks (a world of one: nothing), one call over the arena.
static cnn_status allreduce_grads(cnn_backend *be, cnn_model *m) {
    if (cnn_dist_size(be->dist) == 1) return CNN_OK;
    return be->ops->allreduce(be, m->arena.base + m->arena.n, m->arena.n);
}

// One optimizer step on the next batch (this rank's rows of it): gather, forward, loss (its gradient the
// mean over the global batch), backward, the gradients' sum over the ranks, SGD.
// Only queues work on the backend, so it can be captured as a graph.
static cnn_status train_step(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                             train_state *st) {
    const int B = st->rank_batch, D = ds->train.rows * ds->train.cols;
    CNN_TRY(be->ops->gather(be, st->train_images, st->train_labels, &st->cursor[0], st->X, st->y, B, D, st->scale,
            st->shift, true));
    CNN_TRY(cnn_model_forward(m, be, st->X, B));
    CNN_TRY(cnn_softmax_xent_backward_mean(be, cnn_model_logits(m), st->y, cnn_model_dlogits(m), &st->stats[0], B,
            m->n_classes, cfg->batch));
    CNN_TRY(cnn_model_backward(m, be, st->X, B));
    CNN_TRY(allreduce_grads(be, m));
    return cnn_sgd_step(be, &m->arena, cfg->lr, cfg->momentum, cfg->weight_decay);
}

// Step s (0-based) of an epoch of n steps, the way st->step says: op by op;
// as a graph (captured at the first call); or fused, where one launch
// queues every step up to the next evaluation (eval_every, or the epoch's
// end) and the calls in between only count them. The steps are queued, not
// waited for.
// A launch also ends at the next checkpoint (every `checkpoint_every` steps,
// 0: none), so that a checkpoint never falls inside one.
static cnn_status run_step(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                           train_state *st, long step, long s, long n, long checkpoint_every) {
    switch (st->step) {
    case CNN_STEP_FUSED:
        if (st->fused.grad_only) { // several ranks: the fused gradient of one step, the sum over ranks, SGD
            st->fused.steps = 1;
            CNN_TRY(be->ops->mlp_steps(be, &st->fused));
            CNN_TRY(allreduce_grads(be, m));
            return cnn_sgd_step(be, &m->arena, cfg->lr, cfg->momentum, cfg->weight_decay);
        }
        if (st->fused_queued == 0) {
            long until = n - s; // to the epoch's end, or to the next evaluation or checkpoint before it
            if (cfg->eval_every > 0 && cfg->eval_every - step % cfg->eval_every < until)
                until = cfg->eval_every - step % cfg->eval_every;
            if (checkpoint_every > 0 && checkpoint_every - step % checkpoint_every < until)
                until = checkpoint_every - step % checkpoint_every;
            st->fused.steps = (int)until;
            CNN_TRY(be->ops->mlp_steps(be, &st->fused));
            st->fused_queued = until;
        }
        st->fused_queued--;
        return CNN_OK;
    case CNN_STEP_GRAPH:
        if (!st->graph) {
            CNN_TRY(be->ops->capture_begin(be));
            cnn_status cs = train_step(be, m, ds, cfg, st);
            void *g = NULL;
            cnn_status es = be->ops->capture_end(be, &g);
            CNN_TRY(cs);
            CNN_TRY(es);
            st->graph = g;
        }
        return be->ops->graph_launch(be, st->graph);
    default: return train_step(be, m, ds, cfg, st);
    }
}

// The cursor at position start of the shuffle `key` of [0, n), moving on by stride after each batch (0: by its rows).
static cnn_status set_cursor(cnn_backend *be, cnn_batch_cursor *dev, uint32_t n, uint64_t key, uint32_t start,
                             uint32_t stride) {
    cnn_batch_cursor c = {cnn_perm_make(n, key), start, stride};
    return be->ops->upload(be, &c, dev, sizeof c);
}

// The training cursor of this rank at global step s of the epoch's shuffle: its shard of batch s.
static cnn_status set_train_cursor(cnn_backend *be, const cnn_dataset *ds, const cnn_train_config *cfg,
                                   train_state *st, uint64_t key, long s) {
    const int N = cnn_dist_size(be->dist);
    const uint32_t start = (uint32_t)(s * cfg->batch + (long)cnn_dist_rank(be->dist) * st->rank_batch);
    return set_cursor(be, &st->cursor[0], (uint32_t)ds->train.n, key, start, N > 1 ? (uint32_t)cfg->batch : 0);
}

// Test loss and accuracy over the whole test set, in chunks of EVAL_BATCH rows
// (fused: all the chunks in one call, the mlp_eval entry). Several ranks: each its shard, the sums added.
static cnn_status evaluate(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, train_state *st, double *loss,
                           long *hits) {
    const int n = ds->test.n, D = ds->test.rows * ds->test.cols, end = st->eval_lo + st->eval_n;
    CNN_TRY(be->ops->fill(be, &st->stats[2], 2, 0.0f));
    CNN_TRY(set_cursor(be, &st->cursor[1], (uint32_t)n, 0, (uint32_t)st->eval_lo, 0));
    if (st->eval_row_stats && st->eval_n > 0) CNN_TRY(be->ops->mlp_eval(be, &st->fused_eval));
    for (int start = st->eval_lo; start < end && !st->eval_row_stats; start += EVAL_BATCH) {
        int B = end - start < EVAL_BATCH ? end - start : EVAL_BATCH;
        CNN_TRY(be->ops->gather(be, st->test_images, st->test_labels, &st->cursor[1], st->X, st->y, B, D, st->scale,
                st->shift, true));
        CNN_TRY(cnn_model_forward(m, be, st->X, B));
        CNN_TRY(cnn_softmax_xent_forward(be, cnn_model_logits(m), st->y, &st->stats[2], B, m->n_classes));
    }
    float host[2];
    CNN_TRY(be->ops->download(be, &st->stats[2], host, sizeof host));
    *loss = host[0] / n;
    *hits = lround(host[1]); // a float sum of 0/1 is exact below 2^24 examples
    if (cnn_dist_size(be->dist) > 1) { // the shards' sums, added in rank order (the same bits on every rank)
        double sums[2] = {host[0], host[1]};
        CNN_TRY(cnn_dist_sum_doubles(be->dist, sums, 2));
        *loss = sums[0] / n;
        *hits = lround(sums[1]);
    }
    return CNN_OK;
}

static cnn_status check_compatible(cnn_backend *be, const cnn_model *m, const cnn_dataset *ds,
                                   const cnn_train_config *cfg) {
    const cnn_op needed[] = {CNN_OP_GEMM, CNN_OP_BIAS_ADD, CNN_OP_RELU, CNN_OP_SOFTMAX_XENT,
                             CNN_OP_COLSUM, CNN_OP_SGD, CNN_OP_GATHER};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!cnn_backend_supports(be, needed[i]))
            return cnn_error(CNN_ERR_UNSUPPORTED, "the %s backend does not implement '%s', which training needs",
                             be->name, cnn_op_name(needed[i]));
    if (m->in_dim != ds->train.rows * ds->train.cols || m->n_classes != ds->n_classes)
        return cnn_error(CNN_ERR_INVALID_ARG, "the model (%s) does not fit %s (%dx%d images, %d classes)", m->desc,
                         ds->name, ds->train.rows, ds->train.cols, ds->n_classes);
    return cnn_train_precheck(ds, cfg, cnn_dist_size(be->dist));
}

cnn_status cnn_train_precheck(const cnn_dataset *ds, const cnn_train_config *cfg, int world_size) {
    CNN_TRY(cnn_train_config_check(cfg));
    if (cfg->batch > ds->train.n)
        return cnn_error(CNN_ERR_INVALID_ARG, "--batch %d is larger than the %d training examples", cfg->batch,
                         ds->train.n);
    const int N = world_size > 0 ? world_size : 1;
    if (cfg->batch % N != 0)
        return cnn_error(CNN_ERR_INVALID_ARG, "--batch %d (the global batch) is not divisible by the %d ranks: "
                         "give a multiple of %d", cfg->batch, N, N);
    return CNN_OK;
}

#define NOTIFY(call, ...)                                                                                              \
    do {                                                                                                               \
        for (int o_ = 0; o_ < n_observers; o_++)                                                                       \
            if (observers[o_]->call) observers[o_]->call(observers[o_]->user, __VA_ARGS__);                            \
    } while (0)

// What a sync needs to name the step where training diverged: the backend's count of training
// loss calls when this loop began, the step it began at, and the configuration.
typedef struct {
    long loss_base, step_base, steps_per_epoch;
    float lr;
    long *diverged_step; // set to the step where the loss stopped being finite (the result's)
} sync_ctx;

// Syncs the device and returns the time: every window edge goes through here. A non-finite
// training loss the backend flagged (softmax_xent) is reported with the step where it happened.
// Several ranks: every rank passes every edge, and they agree there on whether one failed.
static cnn_status edge_local(cnn_backend *be, const sync_ctx *sc, double *t);
static cnn_status agree_diverged_step(cnn_backend *be, const sync_ctx *sc);
static cnn_status edge(cnn_backend *be, const sync_ctx *sc, double *t) {
    cnn_status s = cnn_dist_agree(be->dist, edge_local(be, sc, t));
    if (s == CNN_ERR_DIVERGED && sc && cnn_dist_size(be->dist) > 1) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", cnn_last_error());
        CNN_TRY(agree_diverged_step(be, sc));
        s = cnn_error(s, "%s", msg);
    }
    return s;
}

// Every rank learnt that some rank diverged (cnn_dist_agree): the earliest step any rank named becomes every
// rank's, so that each closes its windows and rank 0 writes the record as for one process.
static cnn_status agree_diverged_step(cnn_backend *be, const sync_ctx *sc) {
    const int n = cnn_dist_size(be->dist);
    double mine = (double)*sc->diverged_step, *all = calloc((size_t)n, sizeof *all), first = 0.0;
    if (!all) return cnn_error(CNN_ERR_NOMEM, "out of memory agreeing on the step of a divergence");
    cnn_status s = cnn_dist_gather_doubles(be->dist, &mine, 1, all, 0);
    for (int k = 0; s == CNN_OK && k < n; k++)
        if (all[k] > 0 && (first == 0.0 || all[k] < first)) first = all[k];
    if (s == CNN_OK) s = cnn_dist_broadcast(be->dist, &first, sizeof first, 0);
    free(all);
    if (s == CNN_OK) *sc->diverged_step = (long)first;
    return s;
}

static cnn_status edge_local(cnn_backend *be, const sync_ctx *sc, double *t) {
    cnn_status s = be->ops->sync(be);
    if (s == CNN_ERR_DIVERGED && sc && be->nonfinite_loss_call > sc->loss_base) {
        long step = sc->step_base + (be->nonfinite_loss_call - sc->loss_base);
        *sc->diverged_step = step;
        return cnn_error(CNN_ERR_DIVERGED,
                         "training diverged: the training loss became non-finite at step %ld (epoch %ld): lower --lr "
                         "(now %g)",
                         step, (step - 1) / sc->steps_per_epoch + 1, (double)sc->lr);
    }
    if (s == CNN_ERR_DIVERGED) {
        if (sc) *sc->diverged_step = sc->step_base + (be->loss_calls - sc->loss_base); // at the latest this step
        return cnn_error(CNN_ERR_DIVERGED, "training diverged (the training loss became non-finite): lower --lr (now %g)",
                         sc ? (double)sc->lr : 0.0);
    }
    CNN_TRY(s);
    *t = cnn_now_s();
    return CNN_OK;
}

// One evaluation window: edge, train-loss readout, test pass, edge, target check, observers.
// The only place the host waits for the device.
static cnn_status eval_window(cnn_backend *be, const sync_ctx *sc, cnn_model *m, const cnn_dataset *ds,
                              const cnn_train_config *cfg, train_state *st, int epoch, long step,
                              long steps_since_eval, double t0,
                              const cnn_train_observer *const *observers, int n_observers, cnn_train_result *r) {
    const long steps_per_epoch = ds->train.n / cfg->batch;
    double t_eval, t;
    CNN_TRY(edge(be, sc, &t_eval));
    NOTIFY(on_eval_begin, t_eval);
    float train_stats[2];
    CNN_TRY(be->ops->download(be, &st->stats[0], train_stats, sizeof train_stats));
    CNN_TRY(be->ops->fill(be, &st->stats[0], 2, 0.0f));
    cnn_eval_point p = {
        .epoch = epoch, .step = step, .epochs_done = (double)step / steps_per_epoch, .n_test = ds->test.n};
    double train_loss = train_stats[0];
    CNN_TRY(cnn_dist_sum_doubles(be->dist, &train_loss, 1)); // every rank's rows (a world of one: as it is)
    p.train_loss = train_loss / ((double)steps_since_eval * cfg->batch);
    CNN_TRY(evaluate(be, m, ds, st, &p.test_loss, &p.test_hits));
    p.test_acc = (double)p.test_hits / (double)p.n_test;
    CNN_TRY(edge(be, sc, &t));
    r->eval_s += t - t_eval;
    p.elapsed_s = t - t0;
    if (!isfinite(p.train_loss)) {
        r->diverged_step = step; // not flagged by the backend: the evaluation's step is the first known bad one
        return cnn_error(CNN_ERR_DIVERGED, "training diverged (loss is %g at epoch %d, step %ld): lower --lr (now %g)",
                         p.train_loss, epoch, step, (double)cfg->lr);
    }
    r->n_evals++;
    r->final_acc = p.test_acc;
    r->final_loss = p.test_loss;
    if (p.test_acc > r->best_acc) r->best_acc = p.test_acc;
    if (!r->reached && cnn_acc_reaches(p.test_hits, p.n_test, cfg->target_acc)) {
        r->reached = 1;
        r->time_to_target_s = p.elapsed_s;
        r->target_epoch = epoch;
        r->target_step = step;
    }
    NOTIFY(on_eval, &p, t);
    return CNN_OK;
}

// Saves a checkpoint at a step boundary: syncs, reads the training statistics, calls the hook.
static cnn_status save_point(cnn_backend *be, const sync_ctx *sc, const cnn_train_hooks *h, train_state *st,
                             int epoch, long s, long step, long steps_since_eval, double t_offset, double t0,
                             const cnn_train_result *r) {
    double t = 0.0;
    CNN_TRY(edge(be, sc, &t));
    cnn_train_progress p = {.step = step, .epoch = epoch, .steps_since_eval = steps_since_eval, .result = *r};
    if (s == sc->steps_per_epoch) p.epoch = epoch + 1; // the epoch is done: the next one starts afresh
    else p.cursor_start = (uint32_t)(s * (long)st->batch);
    p.result.steps = step;
    p.result.total_s = t_offset + (t - t0);
    CNN_TRY(be->ops->download(be, &st->stats[0], p.train_stats, sizeof p.train_stats));
    p.world_size = cnn_dist_size(be->dist);
    if (p.world_size > 1) { // the sums over every rank's rows (a resumed run puts them on rank 0)
        double sums[2] = {p.train_stats[0], p.train_stats[1]};
        CNN_TRY(cnn_dist_sum_doubles(be->dist, sums, 2));
        p.train_stats[0] = (float)sums[0], p.train_stats[1] = (float)sums[1];
    }
    // every rank calls the hook (its energy's share of the segment goes to rank 0); rank 0 writes the checkpoint
    return h && h->save ? h->save(h->user, &p) : CNN_OK;
}

// Whether training stops at this step boundary: the signal flag (a signal number, 0: none) in *sig. Several
// ranks agree on it at their check points only (`check`, or every STOP_EVERY steps), where every rank asks.
static cnn_status stop_check(cnn_backend *be, const cnn_train_config *cfg, long step, bool check, int *sig) {
    *sig = cfg->stop ? (int)*cfg->stop : 0;
    if (!cfg->stop || cnn_dist_size(be->dist) == 1) return CNN_OK;
    if (!check && step % STOP_EVERY != 0) {
        *sig = 0;
        return CNN_OK;
    }
    return cnn_dist_max_int(be->dist, sig);
}

// Several ranks: rank 0's parameters and momentum to every rank (they were made from the same seed, or
// restored from the same checkpoint, but one source makes sure), so that every rank starts the same.
static cnn_status broadcast_arena(cnn_backend *be, cnn_model *m) {
    if (cnn_dist_size(be->dist) == 1) return CNN_OK;
    const size_t bytes = 3 * m->arena.n * sizeof(float);
    float *host = malloc(bytes ? bytes : 1);
    if (!host) return cnn_error(CNN_ERR_NOMEM, "out of memory broadcasting the parameters");
    cnn_status s = be->ops->download(be, m->arena.base, host, bytes);
    if (s == CNN_OK) s = cnn_dist_broadcast(be->dist, host, bytes, 0);
    if (s == CNN_OK) s = be->ops->upload(be, host, m->arena.base, bytes);
    free(host);
    return s;
}

static cnn_status train_loop(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                             const cnn_train_hooks *h, const cnn_train_observer *const *observers, int n_observers,
                             train_state *st, cnn_train_result *r) {
    const long steps_per_epoch = ds->train.n / cfg->batch; // the last incomplete batch is dropped
    cnn_dist *world = be->dist;
    cnn_train_info info = {cfg,         ds->name,    be->name,   be->gemm->name,         be->device_desc, m->desc,
                           steps_per_epoch, ds->train.n, ds->test.n, cnn_step_name(st->step),
                           st->step_note[0] ? st->step_note : NULL};
    const double grad_s0 = world ? world->grad_s : 0.0, other_s0 = world ? world->other_s : 0.0;
    // checkpoints where rank 0 writes them: every rank takes part (their sums), so every rank must know
    int saving = h && h->save;
    CNN_TRY(cnn_dist_max_int(world, &saving));
    const long checkpoint_every = h ? h->checkpoint_every : 0; // the same option on every rank
    double t, t0;
    CNN_TRY(edge(be, NULL, &t0));
    const cnn_train_progress *from = h ? h->resume : NULL;
    const sync_ctx sc_ = {be->loss_calls, from ? from->step : 0, steps_per_epoch, cfg->lr, &r->diverged_step},
                   *sc = &sc_;
    const double t_offset = from ? from->result.total_s : 0.0; // training time of the earlier segments
    NOTIFY(on_train_begin, &info, t0);
    long step = 0, steps_since_eval = 0;
    CNN_TRY(be->ops->fill(be, &st->stats[0], 2, 0.0f));
    if (from) {
        *r = from->result;
        r->interrupted = 0;
        r->diverged_step = 0;
        step = from->step;
        steps_since_eval = from->steps_since_eval;
        if (cnn_dist_rank(world) == 0) // the sums over every rank's rows: counted once
            CNN_TRY(be->ops->upload(be, from->train_stats, &st->stats[0], sizeof from->train_stats));
    }
    const double allreduce_prior = r->allreduce_s, comm_prior = r->comm_s; // the earlier segments'
    int sig = 0;
    // A divergence inside an epoch ends training like a signal does: the epoch's and the run's windows are
    // closed, so the observers (the energy record) keep what was measured; its message is returned at the end.
    cnn_status diverged = CNN_OK;
    char diverged_msg[512] = "";
#define STEP_TRY(call)                                                                                                 \
    do {                                                                                                               \
        cnn_status s_ = (call);                                                                                        \
        if (s_ == CNN_ERR_DIVERGED && r->diverged_step > 0) {                                                          \
            diverged = s_;                                                                                             \
            snprintf(diverged_msg, sizeof diverged_msg, "%s", cnn_last_error());                                       \
            goto epoch_end;                                                                                            \
        }                                                                                                              \
        CNN_TRY(s_);                                                                                                   \
    } while (0)
    for (int epoch = from ? from->epoch : 1;
         epoch <= cfg->max_epochs && !r->reached && !r->interrupted && diverged == CNN_OK; epoch++) {
        CNN_TRY(stop_check(be, cfg, step, true, &sig));
        if (sig) { // a signal between epochs: no empty epoch is started
            r->interrupted = sig;
            break;
        }
        r->epochs = epoch;
        const long s0 = from && epoch == from->epoch ? (long)from->cursor_start / cfg->batch : 0;
        CNN_TRY(set_train_cursor(be, ds, cfg, st, cnn_mix64(cfg->seed * 1000003u + epoch) | 1, s0));
        CNN_TRY(edge(be, sc, &t));
        NOTIFY(on_epoch_begin, epoch, t);
        for (long s = s0; s < steps_per_epoch && !r->reached; s++) {
            // A signal: stop at this step boundary (fused: at the end of the launch already queued), keep what was
            // measured.
            if (st->fused_queued == 0) STEP_TRY(stop_check(be, cfg, step, false, &sig));
            if (sig) {
                r->interrupted = sig;
                if (saving) STEP_TRY(save_point(be, sc, h, st, epoch, s, step, steps_since_eval, t_offset, t0, r));
                break;
            }
            STEP_TRY(run_step(be, m, ds, cfg, st, step, s, steps_per_epoch, checkpoint_every));
            step++;
            r->steps = step;
            steps_since_eval++;
            NOTIFY(on_step, epoch, s + 1, steps_per_epoch);
            bool last = s + 1 == steps_per_epoch;
            if (last || (cfg->eval_every > 0 && step % cfg->eval_every == 0)) {
                STEP_TRY(eval_window(be, sc, m, ds, cfg, st, epoch, step, steps_since_eval, t0 - t_offset, observers,
                                     n_observers, r));
                steps_since_eval = 0;
            }
            if (saving && (last || (checkpoint_every > 0 && step % checkpoint_every == 0)))
                STEP_TRY(save_point(be, sc, h, st, epoch, s + 1, step, steps_since_eval, t_offset, t0, r));
        }
    epoch_end:
        r->steps = step;
        CNN_TRY(edge(be, sc, &t)); // after a divergence the backend has reported it: this sync succeeds
        NOTIFY(on_epoch_end, epoch, t);
    }
#undef STEP_TRY
    CNN_TRY(edge(be, sc, &t));
    r->total_s = t_offset + (t - t0);
    r->world_size = cnn_dist_size(world);
    r->ranks_per_node = world ? world->local_size : 1;
    r->n_nodes = world ? world->n_nodes : 1;
    r->allreduce_s = be->device == CNN_DEVICE_CUDA && r->world_size > 1 && be->ops->dist_attach
                         ? -1.0 // NCCL: queued on the GPU's stream
                         : allreduce_prior + (world ? world->grad_s - grad_s0 : 0.0);
    r->comm_s = comm_prior + (world ? world->other_s - other_s0 : 0.0);
    NOTIFY(on_train_end, r, t);
    if (diverged != CNN_OK) return cnn_error(diverged, "%s", diverged_msg);
    return CNN_OK;
}

cnn_status cnn_train_hooked(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                            const cnn_train_hooks *hooks, const cnn_train_observer *const *observers,
                            int n_observers, cnn_train_result *r) {
    memset(r, 0, sizeof *r);
    CNN_TRY(cnn_train_config_check(cfg));
    if (be->dist != cfg->dist) CNN_TRY(cnn_backend_attach_dist(be, cfg->dist));
    CNN_TRY(check_compatible(be, m, ds, cfg));
    const cnn_train_progress *from = hooks ? hooks->resume : NULL;
    if (from && from->world_size != cnn_dist_size(be->dist))
        return cnn_error(CNN_ERR_INVALID_ARG, "the checkpoint was written by a run of %d rank%s and this run has %d: "
                         "resume it with as many (mpirun -np %d cnn-train resume DIR)", from->world_size,
                         from->world_size == 1 ? "" : "s", cnn_dist_size(be->dist), from->world_size);
    CNN_TRY(cnn_model_reserve(m, be, cfg->batch > EVAL_BATCH ? cfg->batch : EVAL_BATCH));
    train_state st;
    cnn_status s = state_init(be, ds, cfg->batch, &st);
    if (s == CNN_OK) s = cnn_step_resolve_noted(be, m, cfg->step, &st.step, st.step_note, sizeof st.step_note);
    if (s == CNN_OK && st.step == CNN_STEP_FUSED) s = fused_init(be, m, cfg, &st);
    if (s == CNN_OK && st.step == CNN_STEP_FUSED && cnn_backend_supports(be, CNN_OP_MLP_EVAL))
        s = fused_eval_init(be, m, ds, &st);
    if (s == CNN_OK) s = broadcast_arena(be, m);
    if (s == CNN_OK) s = train_loop(be, m, ds, cfg, hooks, observers, n_observers, &st, r);
    state_free(be, &st);
    return s;
}

cnn_status cnn_train(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                     const cnn_train_observer *const *observers, int n_observers, cnn_train_result *r) {
    return cnn_train_hooked(be, m, ds, cfg, NULL, observers, n_observers, r);
}

// Runs n steps from epoch position *pos (a new shuffle at each epoch's start), as cnn_train's loop does.
static cnn_status steps_from(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                             train_state *st, long n, long *pos) {
    const long per_epoch = ds->train.n / cfg->batch;
    for (long i = 0; i < n; i++, (*pos)++) {
        const long s = *pos % per_epoch;
        if (s == 0) {
            st->fused_queued = 0; // a launch never crosses an epoch: the cursor is reset between
            CNN_TRY(set_train_cursor(be, ds, cfg, st,
                                     cnn_mix64(cfg->seed * 1000003u + (uint64_t)(*pos / per_epoch) + 1) | 1, 0));
        }
        CNN_TRY(run_step(be, m, ds, cfg, st, *pos, s, s + (n - i) < per_epoch ? s + (n - i) : per_epoch, 0));
    }
    return CNN_OK;
}

cnn_status cnn_train_time_steps(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                                long warmup, long steps, double *seconds, cnn_step_kind *used) {
    *seconds = 0.0;
    CNN_TRY(cnn_train_config_check(cfg));
    CNN_TRY(check_compatible(be, m, ds, cfg));
    if (warmup < 0 || steps < 1)
        return cnn_error(CNN_ERR_INVALID_ARG, "time steps: warmup %ld and steps %ld (need >= 0 and >= 1)", warmup,
                         steps);
    CNN_TRY(cnn_model_reserve(m, be, cfg->batch));
    train_state st;
    cnn_status s = state_init(be, ds, cfg->batch, &st);
    if (s == CNN_OK) s = cnn_step_resolve(be, m, cfg->step, &st.step);
    if (s == CNN_OK && st.step == CNN_STEP_FUSED) s = fused_init(be, m, cfg, &st);
    if (s == CNN_OK) s = be->ops->fill(be, &st.stats[0], 2, 0.0f);
    long pos = 0;
    if (s == CNN_OK) s = steps_from(be, m, ds, cfg, &st, warmup, &pos);
    void *timer = NULL;
    if (s == CNN_OK) s = cnn_backend_timer_start(be, &timer);
    if (s == CNN_OK) s = steps_from(be, m, ds, cfg, &st, steps, &pos);
    if (timer) {
        cnn_status stop = cnn_backend_timer_stop(be, timer, seconds);
        if (s == CNN_OK) s = stop;
    }
    *used = st.step;
    state_free(be, &st);
    return s;
}
