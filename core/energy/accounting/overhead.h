// The energy hook's own cost (internal to core/energy): the training span the
// sampler's overhead is measured against, and that overhead in % of it.
#ifndef CNN_ENERGY_OVERHEAD_H
#define CNN_ENERGY_OVERHEAD_H

#include "core/energy/accounting/repeats.h"

#ifdef __cplusplus
extern "C" {
#endif

// The training time the sampler's overhead is measured against: the first run's start to the last run's end
// (a: the first run; r: every run, with --repeat).
double cnn_energy_sampled_training_s(const cnn_energy_accounting *a, const cnn_energy_repeats *r);

// The hook's overhead over the training span train_s, in % of it: the sampler thread's CPU time at its steady
// rate over that span (its CPU time x span / its life life_s) plus the marks' time mark_s; NAN without a span.
double cnn_energy_overhead_pct(double train_s, double life_s, double thread_cpu_s, double mark_s);

#ifdef __cplusplus
}
#endif
#endif
