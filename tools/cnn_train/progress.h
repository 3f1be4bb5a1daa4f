// The training observer that prints progress: a header, one line per
// evaluation, and a live progress bar when stdout is a terminal (the last
// training loss known, steps per second, the time left in the epoch and,
// at most, in the run). --quiet: nothing.
#ifndef CNN_TRAIN_PROGRESS_H
#define CNN_TRAIN_PROGRESS_H

#include <stdbool.h>

#include "models/train.h"

typedef struct {
    cnn_train_observer observer;
    bool quiet;     // no evaluation lines, no bar
    bool bar;       // stdout is a terminal: draw the bar
    bool bar_shown; // a bar is on the current line and must be cleared first
    double last_bar_t;
    double target;
    int max_epochs;
    double epoch_t0;         // start of the current epoch (steps per second over it)
    double last_loss;        // mean training loss at the last evaluation; < 0 before the first
    const char *backend_why; // "default: ..." or "chosen with --backend", for the header
    int world_size, ranks_per_node, n_nodes; // a data-parallel run (0 or 1: one process), for the header
} progress_printer;

void progress_init(progress_printer *p, bool quiet);

#endif
