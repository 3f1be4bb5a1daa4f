// run.json's writer and its sections (internal to the run record).
#ifndef CNN_ENERGY_RECORD_JSON_H
#define CNN_ENERGY_RECORD_JSON_H

#include <stdio.h>

#include "core/energy/common/json.h"
#include "core/energy/common/notes.h"
#include "core/energy/record/record_dir.h"
#include "core/energy/result/result.h"

#ifdef __cplusplus
extern "C" {
#endif

// A record being written: the result, its notes, and the files written so far (run.json names them).
typedef struct {
    const cnn_energy_result *res;
    cnn_energy_notes *notes;
    cnn_record_file files[CNN_RECORD_MAX_FILES];
    int n_files;
} cnn_energy_record;

// run.json (record_json.c); ctx: a cnn_energy_record.
void cnn_energy_fill_run_json(FILE *f, const void *ctx);
// run.json's "repeats" section (repeats_json.c).
void cnn_energy_jw_repeats(cnn_json_writer *w, const cnn_energy_result *res);
// run.json's "segments" section (segments_json.c).
void cnn_energy_jw_segments(cnn_json_writer *w, const cnn_energy_result *res);
// run.json's "distributed" section (world_json.c): null for one process.
void cnn_energy_jw_world(cnn_json_writer *w, const cnn_energy_result *res);

#ifdef __cplusplus
}
#endif
#endif
