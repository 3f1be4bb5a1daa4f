// cnn-train report on a sweep directory (report_sweep.c).
#ifndef CNN_TRAIN_REPORT_SWEEP_H
#define CNN_TRAIN_REPORT_SWEEP_H

#include <stdbool.h>
#include <stdio.h>

#include "core/status.h"

// Whether dir holds a sweep (sweep.json).
bool report_sweep_is_sweep(const char *dir);
// Writes sweep_energy_target.svg, sweep_pareto.svg and sweep_budget.svg into dir, naming each on log.
cnn_status report_sweep_render(const char *dir, FILE *log);

#endif
