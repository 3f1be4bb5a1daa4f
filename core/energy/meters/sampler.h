// The sampler thread (internal to core/energy): the only reader of the meters
// while training runs; it records one series per meter.
#ifndef CNN_ENERGY_SAMPLER_H
#define CNN_ENERGY_SAMPLER_H

#include "core/energy/meters/meter.h"
#include "core/energy/meters/series.h"

#ifdef __cplusplus
extern "C" {
#endif

// The only reader of the meters while training runs: window edges are plain
// timestamps taken by the training loop, and window energies are computed
// afterwards from the series. Published counters are polled around their
// expected update instants until the change is seen; other meters every
// min(interval, max(update period, 10 ms)).
typedef struct cnn_sampler cnn_sampler;

// Takes a first reading of every meter now, then starts the thread. The meters must outlive the sampler.
cnn_status cnn_sampler_start(cnn_meter *meters, int n, double interval_s, cnn_sampler **out);
// Stops the thread once every meter has a knot after now (a published
// counter: its next change, at most three update periods away), and joins it. Idempotent.
void cnn_sampler_stop(cnn_sampler *s);
// While the thread runs: makes the meters read at the instant due now, then waits until every meter has a
// knot certainly after t (a published counter: its next change), at most 0.05 s + three update periods
// past t. Returns 1 when every meter has one (0: a window ending at t may be unbounded).
int cnn_sampler_wait_past(cnn_sampler *s, double t);
// The latest instant up to which every meter's window is bounded now (the
// earliest of the meters' last readings; a failed meter is left out), read
// without waiting: NAN when no meter has a reading.
double cnn_sampler_known_until(cnn_sampler *s);
// cnn_series_window over meter i's series, safe while the thread records it.
void cnn_sampler_window(cnn_sampler *s, int i, double resolution_j, double a, double b, double *est, double *u);
// The series of meter i (complete once stopped).
const cnn_energy_series *cnn_sampler_series(const cnn_sampler *s, int i);
// The thread's CPU time and the number of reads and wake-ups (valid once stopped).
void cnn_sampler_overhead(const cnn_sampler *s, double *thread_cpu_s, long *reads, long *wakeups);
// The first read error of any meter ("" when none).
const char *cnn_sampler_error(const cnn_sampler *s);
void cnn_sampler_free(cnn_sampler *s);

#ifdef __cplusplus
}
#endif
#endif
