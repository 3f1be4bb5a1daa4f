// cnn-train's choice of device: --backend/--device cpu|cuda|cuda:N, --gpu N,
// the default (cuda when a GPU is usable and the CUDA backend is built in,
// else cpu) with the reason, and the GEMM names of every built-in backend.
#ifndef CNN_TRAIN_DEVICE_H
#define CNN_TRAIN_DEVICE_H

#include <stdio.h>

#include "options.h"

// Parses "cpu", "cuda" or "cuda:N" (N a GPU ordinal in [0, 63]).
// Returns 0 and sets *backend ("cpu" or "cuda") and *index (-1 when none was
// given), or -1 when spec is none of these.
int cli_parse_device(const char *spec, const char **backend, int *index);

// Resolves o->backend (the default when none was given), o->device_index and
// o->backend_why. Returns 0, or 2 after printing one usage-error line.
int cli_resolve_device(cli_options *o);
// For training on o->backend: 0, or 1 after one line when it is cuda and no GPU is usable (checked before
// anything is measured or created).
int cli_require_gpu(const cli_options *o);

// "  cpu:  naive, reorder, ... (default packed)\n  cuda: ..." for --help.
void cli_print_gemm_names(FILE *f);

#endif
