// File helpers shared by the stages that write (the run record, the idle
// cache, the report's plots): mkdir -p and atomic writes.
#ifndef CNN_ENERGY_FILES_H
#define CNN_ENERGY_FILES_H

#include <stdio.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Writes dir/name through a temporary file renamed into place; fill writes the content.
cnn_status cnn_energy_write_file(const char *dir, const char *name, void (*fill)(FILE *f, const void *ctx),
                                 const void *ctx);
// mkdir -p.
cnn_status cnn_energy_mkdirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
