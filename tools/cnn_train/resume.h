// cnn-train resume DIR: continues the run recorded in DIR from its checkpoint,
// with the configuration it was started with (--epochs N extends it; other
// options given after DIR override the saved ones, e.g. --backend).
#ifndef CNN_TRAIN_RESUME_H
#define CNN_TRAIN_RESUME_H

#include "models/train.h"
#include "options.h"

// Remembers the arguments of this cnn-train invocation (saved in checkpoints).
void cli_checkpoint_args(int argc, char **argv);
// The checkpoint hook of a training run into run_dir (NULL: none).
typedef struct {
    const char *run_dir;
    cnn_backend *be;
    const cnn_model *model;
    const cnn_dataset *ds;
} cli_checkpointer;
cnn_status cli_checkpoint_save(void *user, const cnn_train_progress *p);

int resume_main(int argc, char **argv);

#endif
