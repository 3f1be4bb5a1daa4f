// A monotonic clock in seconds, shared by the training loop, the energy hook and the benchmarks.
#ifndef CNN_CLOCK_H
#define CNN_CLOCK_H

#include <time.h>

static inline double cnn_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
