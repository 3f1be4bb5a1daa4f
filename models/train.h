// The training loop: epochs of shuffled mini-batches, evaluation on the
// whole test set, early stop at the target accuracy, and observers (the
// progress printer, the energy hook) told about every window edge.
#ifndef CNN_TRAIN_H
#define CNN_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/train_events.h"
#include "datasets/dataset.h"
#include "models/model.h"

#ifdef __cplusplus
extern "C" {
#endif

// Defaults documented in README.md (chosen to reach the MNIST target quickly).
// "auto", "ops", "graph", "fused"; and back (false for an unknown name).
const char *cnn_step_name(cnn_step_kind k);
bool cnn_step_parse(const char *name, cnn_step_kind *out);
// The step kind cnn_train uses for cfg on be with model m: CNN_STEP_AUTO
// resolves to fused, graph or ops (the first the backend and model allow);
// an explicit kind they do not allow is an error that says why and what to use.
cnn_status cnn_step_resolve(const cnn_backend *be, const cnn_model *m, cnn_step_kind want, cnn_step_kind *out);
// The same, with a note (note_len bytes; "" when none) when auto could not take the fused step because the
// device refuses its cooperative launch (the backend's mlp_fused_ready): the run then takes the graph step
// (or ops), and says why. An explicit --step=fused on such a device is CNN_ERR_UNSUPPORTED, saying what to use.
cnn_status cnn_step_resolve_noted(const cnn_backend *be, const cnn_model *m, cnn_step_kind want, cnn_step_kind *out,
                                  char *note, size_t note_len);

cnn_train_config cnn_train_config_default(void);
// The defaults with the batch size and learning rate of the recipe for this
// dataset and model ("mnist", "mlp"), where one is known.
cnn_train_config cnn_train_config_recipe(const char *dataset, const char *model);
// Checks every field; the message names the option (--lr, --batch, ...).
cnn_status cnn_train_config_check(const cnn_train_config *cfg);
// cnn_train_config_check, and that the batch fits the dataset's training examples and divides among the
// world_size ranks: what cnn_train would refuse about cfg and ds before it touches the backend.
cnn_status cnn_train_precheck(const cnn_dataset *ds, const cnn_train_config *cfg, int world_size);

// Where a run stands at a step boundary: what a checkpoint saves besides the
// parameter arena, and what a resumed run starts from.
typedef struct {
    long step;              // optimizer steps done
    int epoch;              // the epoch the next step belongs to (1-based)
    uint32_t cursor_start;  // that epoch's batch cursor (the shuffle itself comes from the seed and the epoch)
    long steps_since_eval;  // steps whose training loss is summed in train_stats
    float train_stats[2];   // the device's training loss sum and hits since the last evaluation
    cnn_train_result result; // the result so far (total_s: seconds of training measured so far)
    int world_size;         // the ranks that trained (train_stats: their sums); a resumed run needs as many
} cnn_train_progress;

// Checkpoints and resume (NULL members: none).
typedef struct {
    long checkpoint_every; // also call save every this many steps (0: at each epoch's end only)
    // Called at each epoch's end (and every checkpoint_every steps) after a device sync; the model's
    // arena is current. An error stops training. Several ranks: called on every rank at the same step (so
    // that it may gather from them); it is for the hook to let rank 0 alone write.
    cnn_status (*save)(void *user, const cnn_train_progress *p);
    void *user;
    const cnn_train_progress *resume; // start from here (the arena already holds the saved parameters)
} cnn_train_hooks;

// Trains model on ds with the backend until the target is reached or
// max_epochs have run. The datasets are uploaded to the backend once.
cnn_status cnn_train_hooked(cnn_backend *be, cnn_model *model, const cnn_dataset *ds, const cnn_train_config *cfg,
                            const cnn_train_hooks *hooks, const cnn_train_observer *const *observers,
                            int n_observers, cnn_train_result *out);
cnn_status cnn_train(cnn_backend *be, cnn_model *model, const cnn_dataset *ds, const cnn_train_config *cfg,
                     const cnn_train_observer *const *observers, int n_observers, cnn_train_result *out);

// For benchmarks (tools/step-bench): runs `warmup` training steps of m on ds
// as cfg says (cfg->step: the rung; no evaluation), then times `steps` more
// with the backend's timer (cnn_backend_timer_*: CUDA events, else sync and
// the host clock) and sets *seconds to their total. Epochs wrap as in
// training (a new shuffle each); the fused rung launches once per epoch's
// worth of steps. *used says which rung ran.
cnn_status cnn_train_time_steps(cnn_backend *be, cnn_model *m, const cnn_dataset *ds, const cnn_train_config *cfg,
                                long warmup, long steps, double *seconds, cnn_step_kind *used);

#ifdef __cplusplus
}
#endif
#endif
