// The summary's section about the runs of --repeat N (internal to core/energy).
#ifndef CNN_ENERGY_REPEATS_SUMMARY_H
#define CNN_ENERGY_REPEATS_SUMMARY_H

#include <stdio.h>

#include "core/energy/result/result.h"

#ifdef __cplusplus
extern "C" {
#endif

// Each run, then the statistics across runs (repeats_summary.c): nothing for a single run.
void cnn_energy_print_repeats(const cnn_energy_result *res, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
