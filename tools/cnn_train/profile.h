// A timer around every backend op (cnn-train explain --measure): each call is
// bracketed by device synchronisations, so the time logged is that op's own
// (on a GPU this serialises the step, which is what a breakdown needs).
#ifndef CNN_TRAIN_PROFILE_H
#define CNN_TRAIN_PROFILE_H

#include "core/backend.h"

typedef struct {
    const char *op; // the op's name as models/cost.h names it ("gemm", "im2col", "bias_add+relu", ...)
    double seconds;
} profile_event;

// Wraps be's ops and its selected GEMM with timers (one backend at a time) and clears the log.
cnn_status profile_attach(cnn_backend *be);
// Puts be's own ops back.
void profile_detach(cnn_backend *be);
// Clears the log.
void profile_reset(void);
// The calls logged since the last reset, in order (at most PROFILE_MAX_EVENTS; later ones are dropped).
int profile_count(void);
const profile_event *profile_events(void);

#define PROFILE_MAX_EVENTS 8192

#endif
