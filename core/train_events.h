// What the training loop tells its observers (the progress printer, the
// energy hook): the configuration, evaluation points, the result and the
// window-edge callbacks. Plain types in core/ so that the energy hook
// (core/energy) depends on nothing above core/; models/train.h runs the loop.
#ifndef CNN_TRAIN_EVENTS_H
#define CNN_TRAIN_EVENTS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// How the training step runs: the step's own ladder (docs/cuda.md).
typedef enum {
    CNN_STEP_AUTO = 0, // fused where the backend and model allow it, else graph where the backend has graphs, else ops
    CNN_STEP_OPS,      // each layer's ops, one call at a time (the teaching view)
    CNN_STEP_GRAPH,    // the ops captured once as a graph and replayed (CUDA)
    CNN_STEP_FUSED     // whole steps in one launch (the backend's mlp_steps: the MLP on CUDA)
} cnn_step_kind;

typedef struct {
    int batch;           // mini-batch size
    int max_epochs;      // stop after this many epochs
    double target_acc;   // stop at the first evaluation reaching it; <= 0: no target
    long eval_every;     // evaluate every this many steps; 0: at the end of each epoch only
    float lr, momentum, weight_decay;
    uint64_t seed;       // initialisation and shuffling
    cnn_step_kind step;  // how each training step runs (CNN_STEP_AUTO: the fastest the backend and model allow)
    // NULL, or a flag a signal handler sets (to the signal number): training stops at the next
    // step boundary once it is non-zero, and the result says so (interrupted).
    const volatile sig_atomic_t *stop;
    // NULL, or the world of ranks this run trains in (core/dist.h): batch is then the global batch, and the
    // backend is attached to it (cnn_backend_attach_dist) when training starts. NULL: one process.
    struct cnn_dist *dist;
} cnn_train_config;

// One evaluation on the whole test set.
typedef struct {
    int epoch;           // 1-based epoch in which it happened
    long step;           // optimizer steps done so far
    double epochs_done;  // step / steps_per_epoch
    double train_loss;   // mean training loss over the steps since the previous evaluation
    double test_loss;    // mean test loss
    double test_acc;     // test accuracy in [0, 1]: test_hits / n_test (in double)
    long test_hits;      // correctly classified test examples
    long n_test;         // test examples evaluated
    double elapsed_s;    // seconds since training began
} cnn_eval_point;

typedef struct {
    int reached;             // 1 when an evaluation reached target_acc
    double time_to_target_s; // elapsed_s of that evaluation (when reached)
    int target_epoch;        // its epoch (when reached)
    long target_step;        // its step (when reached)
    int epochs;              // epochs started
    long steps;              // optimizer steps done
    double final_acc, best_acc, final_loss;
    double total_s;          // seconds from the start to the end of training
    double eval_s;           // of which in evaluations (total_s - eval_s: the training steps)
    int n_evals;
    int interrupted;         // the value of *cfg->stop that ended training early (a signal number), 0: none
    long diverged_step;      // the step whose training loss was not finite, which ended training (0: none);
                             // the training loop then still closes its windows, so the record is complete
    // Data-parallel training (core/dist.h, docs/distributed.md); a single process: 1, 1, 1, 0, 0.
    // For the energy accounting: the world's shape and this rank's seconds of communication (host clock,
    // since training began, earlier segments of a resumed run included).
    int world_size;          // ranks that trained
    int ranks_per_node;      // ranks on this rank's node
    int n_nodes;             // nodes of the world
    double allreduce_s;      // in the gradient all-reduce (waiting for slower ranks included); -1: not measured
                             // (CUDA: NCCL runs queued on the GPU's stream, not on the host clock)
    double comm_s;           // in the other collectives (evaluation and loss sums, stop flags, the start's broadcast)
} cnn_train_result;

// What observers are told when training begins.
typedef struct {
    const cnn_train_config *cfg;
    const char *dataset;      // "mnist"
    const char *backend;      // "cpu"
    const char *gemm;         // "openblas"
    const char *device_desc;  // backend->device_desc
    const char *model_desc;   // "mlp 784-512-10"
    long steps_per_epoch;
    int n_train, n_test;
    const char *step;         // how the step runs: "ops", "graph" or "fused" (cnn_step_name); NULL: not said
    const char *step_note;    // why --step=auto did not take the fused step (the GPU refuses its launch); NULL: none
} cnn_train_info;

// Observers are called on the training thread. Every call except on_step
// comes after the device has been synchronised, so time and energy line up
// at window edges. t is cnn_now_s() at the edge. Any callback may be NULL.
typedef struct {
    void *user;
    void (*on_train_begin)(void *user, const cnn_train_info *info, double t);
    void (*on_epoch_begin)(void *user, int epoch, double t);
    void (*on_step)(void *user, int epoch, long step_in_epoch, long steps_per_epoch); // no device sync
    void (*on_eval_begin)(void *user, double t);
    void (*on_eval)(void *user, const cnn_eval_point *p, double t); // after an evaluation
    void (*on_epoch_end)(void *user, int epoch, double t);
    void (*on_train_end)(void *user, const cnn_train_result *r, double t);
} cnn_train_observer;

// Whether hits correct answers out of n reach the accuracy target, compared
// exactly on integers: hits >= ceil(target * n). 8800 of 10000 reaches 0.88
// (a float 8800/10000 = 0.87999999 would not). target <= 0: never.
int cnn_acc_reaches(long hits, long n, double target);

#ifdef __cplusplus
}
#endif
#endif
