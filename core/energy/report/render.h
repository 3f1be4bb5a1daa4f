// cnn-train report: the SVG plots of a run directory, drawn from its record
// (run.json, power.csv) on disk. Part of the public API (energy.h includes it).
#ifndef CNN_ENERGY_RENDER_H
#define CNN_ENERGY_RENDER_H

#include <stdio.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// cnn-train report DIR: reads DIR/run.json and DIR/power.csv and writes
// the SVG plots (power.svg, accuracy_energy.svg, step_energy.svg) into DIR.
// Says what it wrote on `log` unless NULL.
cnn_status cnn_report_render(const char *run_dir, FILE *log);
// The same with options: hide_idle drops the idle baseline's segment from power.svg (report --no-idle).
cnn_status cnn_report_render_opts(const char *run_dir, int hide_idle, FILE *log, int *n_plots);
// The same, also giving the number of plots written.
cnn_status cnn_report_render_count(const char *run_dir, FILE *log, int *n_plots);

#ifdef __cplusplus
}
#endif
#endif
