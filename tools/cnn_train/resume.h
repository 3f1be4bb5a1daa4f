// cnn-train resume DIR: continues the run recorded in DIR from its checkpoint,
// with the configuration it was started with (--epochs N extends it; other
// options given after DIR override the saved ones, e.g. --backend).
#ifndef CNN_TRAIN_RESUME_H
#define CNN_TRAIN_RESUME_H

#include "core/energy/energy.h"
#include "models/train.h"
#include "options.h"

// Remembers the arguments of this cnn-train invocation (saved in checkpoints).
void cli_checkpoint_args(int argc, char **argv);
// The checkpoint hook of a training run into run_dir (NULL: none): the checkpoint carries the run's earlier
// segments (resume) and the current one so far, measured by the energy session.
typedef struct {
    const char *run_dir;
    cnn_backend *be;
    const cnn_model *model;
    const cnn_dataset *ds;
    struct cnn_energy_session *energy;
    const cnn_energy_segment *prior; // (n_prior) the earlier segments, oldest first
    int n_prior;
} cli_checkpointer;
cnn_status cli_checkpoint_save(void *user, const cnn_train_progress *p);

int resume_main(int argc, char **argv);

#endif
