// The training loop: epochs of shuffled mini-batches, evaluation on the
// whole test set, early stop at the target accuracy, and observers (the
// progress printer, the energy hook) told about every window edge.
#ifndef CNN_TRAIN_H
#define CNN_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/backend.h"
#include "datasets/dataset.h"
#include "models/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int batch;           // mini-batch size
    int max_epochs;      // stop after this many epochs
    double target_acc;   // stop at the first evaluation reaching it; <= 0: no target
    long eval_every;     // evaluate every this many steps; 0: at the end of each epoch only
    float lr, momentum, weight_decay;
    uint64_t seed;       // initialisation and shuffling
    bool use_graph;      // replay the training step as a graph where the backend can (CUDA)
} cnn_train_config;

// Defaults documented in README.md (chosen to reach the MNIST target quickly).
cnn_train_config cnn_train_config_default(void);
// The defaults with the batch size and learning rate of the recipe for this
// dataset and model ("mnist", "mlp"), where one is known.
cnn_train_config cnn_train_config_recipe(const char *dataset, const char *model);
// Checks every field; the message names the option (--lr, --batch, ...).
cnn_status cnn_train_config_check(const cnn_train_config *cfg);

// One evaluation on the whole test set.
typedef struct {
    int epoch;           // 1-based epoch in which it happened
    long step;           // optimizer steps done so far
    double epochs_done;  // step / steps_per_epoch
    double train_loss;   // mean training loss over the steps since the previous evaluation
    double test_loss;    // mean test loss
    double test_acc;     // test accuracy in [0, 1]
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

// Trains model on ds with the backend until the target is reached or
// max_epochs have run. The datasets are uploaded to the backend once.
cnn_status cnn_train(cnn_backend *be, cnn_model *model, const cnn_dataset *ds, const cnn_train_config *cfg,
                     const cnn_train_observer *const *observers, int n_observers, cnn_train_result *out);

#ifdef __cplusplus
}
#endif
#endif
