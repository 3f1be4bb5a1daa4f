// The energy hook's overhead: the sampler thread's CPU time and the window
// marks' time over the training span.
#include "core/energy/accounting/overhead.h"

#include <math.h>

// The first run's start to the last run's end.
double cnn_energy_sampled_training_s(const cnn_energy_accounting *a, const cnn_energy_repeats *r) {
    if (r->n < 2) return a->train.t1 - a->train.t0;
    return r->runs[r->n - 1].train.t1 - r->runs[0].train.t0;
}

// The sampler's CPU time over the training span, plus the marks', in % of the span.
double cnn_energy_overhead_pct(double train_s, double life_s, double thread_cpu_s, double mark_s) {
    if (!(train_s > 0)) return NAN;
    // The sampler reads at a steady rate from its start to its stop (the idle baselines included): its
    // CPU time over the training span is its CPU time per second of life, times that span.
    const double sampler_s = life_s > train_s ? thread_cpu_s * train_s / life_s : thread_cpu_s;
    return 100.0 * (sampler_s + mark_s) / train_s;
}
