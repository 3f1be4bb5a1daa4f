// cnn-train sweep: a grid of training runs and its table (sweep.c).
#ifndef CNN_TRAIN_SWEEP_H
#define CNN_TRAIN_SWEEP_H

#include "options.h"

// One training run as `cnn-train DATASET [options]` does it (main.c):
// returns its exit status (0 reached or no target, 3 not reached, 2 usage, 1 error).
int cli_train(cli_options *o, void *energy_options);
// `cnn-train sweep DATASET ...`: returns the exit status.
int sweep_main(int argc, char **argv);

#endif
