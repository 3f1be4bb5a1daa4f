// The training observer that prints progress: a header, one line per
// evaluation, and a live progress bar when stdout is a terminal.
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
} progress_printer;

void progress_init(progress_printer *p, bool quiet);

#endif
