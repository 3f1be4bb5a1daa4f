// Repeated runs in one session (cnn-train --repeat N): each run's own
// accounting (a training window from its on_train_begin to its
// on_train_end), one window spanning all of them from the first run's start
// to the last run's target, and statistics across runs. The mean energy to
// target is that one window's energy divided by N, so its uncertainty is the
// span's bound over N (a counter's edge error is paid twice, not 2N times).
#ifndef CNN_ENERGY_REPEATS_H
#define CNN_ENERGY_REPEATS_H

#include <stdint.h>

#include "core/energy/accounting/accounting.h"
#include "core/energy/accounting/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n;                           // runs recorded (1 without --repeat)
    cnn_energy_accounting *runs;     // (n) each run's accounting, as a single run's
    uint64_t *seeds;                 // (n)
    int n_reached;                   // runs that reached the target
    int all_reached;
    cnn_energy_window span;          // first run's start .. last run's target (or end)
    double mean_j, mean_u;           // energy to target per run: span / n when all reached, with its bound / n
    double between_j;                // span minus the runs' windows to target: re-initialisation between runs
    const char *mean_method;         // how mean_j was obtained (for the record)
    cnn_stats time_s, energy_j, epochs; // to target, over the runs that reached it (energy's mean: mean_j)
    cnn_stats step_j[CNN_ENERGY_MAX_STEPS];   // each step's marginal energy over the runs that reached it
    double step_u[CNN_ENERGY_MAX_STEPS];      // the mean of those runs' bounds: a bound on the mean's error
    int epochs_hist_max;             // the largest epochs-to-target
} cnn_energy_repeats;

// Splits in->events at each on_train_begin and accounts every run (seeds[k]
// is run k's seed; n_seeds may be fewer than the runs, then 0). Allocates.
cnn_status cnn_energy_repeats_account(const cnn_energy_input *in, const uint64_t *seeds, int n_seeds,
                                      cnn_energy_repeats *out);
void cnn_energy_repeats_free(cnn_energy_repeats *r);

// Absolute time at which run r reached its target (its evaluation's end), NaN when it did not.
double cnn_energy_run_target_t(const cnn_energy_accounting *r);

// How many of the runs needed exactly `epochs` epochs to reach the target.
int cnn_energy_repeats_epochs_count(const cnn_energy_repeats *r, int epochs);

// How many back-to-back repeats bring an energy j ± u taking time_s under 2% with >= 10 s of windows (-1: unknown).
int cnn_energy_repeats_needed(double j, double u, double time_s);

#ifdef __cplusplus
}
#endif
#endif
