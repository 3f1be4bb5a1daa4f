// The energy hook: meters (NVML, RAPL, an estimated CPU model), a sampler
// thread, windows from the training loop (epochs, evaluations, accuracy
// steps), the functional-unit summary with its impacts, the run record
// (run.json, epochs.csv, power.csv, emissions.csv) and the SVG report.
//
// Every energy figure carries its provenance: "measured-counter" (a
// cumulative energy counter: NVML total energy, RAPL), "measured-power"
// (power samples integrated over time) or "estimated" (a model). docs/ENERGY.md
// explains the method and the meters' limits.
//
// Use from a training program:
//   cnn_energy_options eo; cnn_energy_options_default(&eo);
//   ... cnn_energy_parse_option(&eo, name, value) for each unknown --name[=value] ...
//   cnn_energy_session *es = NULL;
//   cnn_energy_start(&eo, "cpu", stderr, &es);           // meters, idle baseline, sampler
//   observers[k] = cnn_energy_observer(es);               // pass to cnn_train()
//   cnn_train(...);
//   cnn_energy_finish(es, stdout, &dir);                  // tables, summary, files
//   cnn_energy_free(es);
// With --no-energy, cnn_energy_start gives es = NULL; the other calls accept
// NULL and do nothing (cnn_energy_observer(NULL) is an observer with no callbacks).
#ifndef CNN_ENERGY_H
#define CNN_ENERGY_H

#include <stdio.h>

#include "core/energy/accounting/segment.h"
#include "core/energy/common/options.h"
#include "core/energy/report/render.h"
#include "core/status.h"
#include "core/train_events.h"

#ifdef __cplusplus
extern "C" {
#endif

void cnn_energy_options_default(cnn_energy_options *o);

// Parses one long option of cnn-train (name without the leading "--";
// value NULL for a flag). Returns 1 if it was a valid energy option, 0 if
// it is not an energy option, -1 on a bad value (cnn_error set: the
// message names the option and the accepted values).
int cnn_energy_parse_option(cnn_energy_options *o, const char *name, const char *value);

// 1 when `name` is an energy option that takes no value (--no-energy), so
// a command-line parser does not consume the next argument as its value.
int cnn_energy_option_is_flag(const char *name);

// The energy options' lines for cnn-train --help.
void cnn_energy_print_usage(FILE *f);

typedef struct cnn_energy_session cnn_energy_session;

// Opens the meters for this backend ("cpu" or "cuda"), creates the run
// directory, measures the idle baseline and starts the sampler thread.
// Meter notes (e.g. "RAPL: permission denied ... falling back to the
// estimated cpu-model") go to `log` unless NULL. With o->enabled == 0,
// *out is NULL and nothing is measured.
cnn_status cnn_energy_start(const cnn_energy_options *o, const char *backend_name, FILE *log,
                            cnn_energy_session **out);

// Called once the backend has opened the device, before training: when the
// idle baseline is measured now (no cache, or --idle-seconds given), measures
// the device's idle with its context open too (docs/ENERGY.md, "Idle
// baseline"). NULL s: nothing.
cnn_status cnn_energy_device_ready(cnn_energy_session *s, FILE *log);

// The observer the training loop calls at window edges. Never NULL.
const cnn_train_observer *cnn_energy_observer(cnn_energy_session *s);

// Stops the sampler, prints the per-epoch and per-step tables and the
// functional-unit summary to `out` (unless NULL), writes run.json,
// epochs.csv, power.csv and emissions.csv into the run directory (each to
// a temporary name, then renamed) and returns the directory via run_dir
// (may be NULL; the string lives as long as the session).
cnn_status cnn_energy_finish(cnn_energy_session *s, FILE *out, const char **run_dir);

void cnn_energy_free(cnn_energy_session *s);

// The current segment so far, for a checkpoint: the energy of every meter over [the start of training, now]
// (computed as every window is, once the sampler has a reading past now; at most ~3 meter update periods
// of waiting), the wall-clock times, the training seconds. signal: the signal that stops the run (0: none).
// NULL s: CNN_ERR_INVALID_ARG. A data-parallel run: every rank calls it at the same checkpoint (it gathers),
// and rank 0's segment holds every rank's meters (rK:NAME).
cnn_status cnn_energy_segment_now(cnn_energy_session *s, int signal, cnn_energy_segment *out);
// cnn-train resume: the run's earlier segments (from the checkpoint, oldest first). Their energy and training
// seconds are added to the functional unit's; run.json lists them with the unmeasured gaps between them.
cnn_status cnn_energy_add_prior_segments(cnn_energy_session *s, const cnn_energy_segment *segs, int n);

// The run directory (NULL for a NULL session).
const char *cnn_energy_run_dir(const cnn_energy_session *s);

// After cnn_energy_finish: one line with the energy (and climate impact) to
// the target, or of the whole run, and the run directory (cnn-train --quiet).
void cnn_energy_print_brief(const cnn_energy_session *s, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
