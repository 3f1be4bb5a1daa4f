// The summary's line about a resumed run's earlier segments (internal to core/energy).
#ifndef CNN_ENERGY_SEGMENTS_SUMMARY_H
#define CNN_ENERGY_SEGMENTS_SUMMARY_H

#include <stdio.h>

#include "core/energy/result/result.h"

#ifdef __cplusplus
extern "C" {
#endif

// Nothing for a run that was not resumed (segments_summary.c).
void cnn_energy_print_segments(const cnn_energy_result *res, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
