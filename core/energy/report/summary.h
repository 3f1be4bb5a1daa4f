// The terminal summary of a finished session (internal to core/energy).
#ifndef CNN_ENERGY_SUMMARY_H
#define CNN_ENERGY_SUMMARY_H

#include <stdio.h>

#include "core/energy/result/result.h"

#ifdef __cplusplus
extern "C" {
#endif

// Meters, idle baseline, energy per epoch and per accuracy step, segments, the functional unit, impacts,
// repeats and the sampler's overhead (summary.c).
void cnn_energy_print_summary(const cnn_energy_result *res, FILE *out);
// One line with the energy (and climate impact) to the target, or of the whole run, and the run directory (brief.c).
void cnn_energy_print_result_brief(const cnn_energy_result *res, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
