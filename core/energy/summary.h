// The terminal summary of a finished session (internal to core/energy).
#ifndef CNN_ENERGY_SUMMARY_H
#define CNN_ENERGY_SUMMARY_H

#include <stddef.h>
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
// An energy with its half-width as the terminal prints it ("12.34 ± 0.56", "3.1..4.9", "<= 0.41"; summary.c).
const char *cnn_energy_fmt_ju(char *buf, size_t len, double j, double u);
// The repeats' section of the summary (repeats_summary.c): nothing for a single run.
void cnn_energy_print_repeats(const cnn_energy_result *res, FILE *out);
// The summary's line about the earlier segments of a resumed run (segments_summary.c).
void cnn_energy_print_segments(const cnn_energy_result *res, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
