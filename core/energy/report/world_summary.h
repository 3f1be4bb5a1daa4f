// The summary's section on a data-parallel run (internal to core/energy): energy per node and per rank, and
// each rank's time in communication. Nothing for one process.
#ifndef CNN_ENERGY_WORLD_SUMMARY_H
#define CNN_ENERGY_WORLD_SUMMARY_H

#include <stdio.h>

#include "core/energy/result/result.h"

#ifdef __cplusplus
extern "C" {
#endif

void cnn_energy_print_world(const cnn_energy_result *res, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
