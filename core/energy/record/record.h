// The run record (internal to core/energy): power.csv, epochs.csv and
// emissions.csv, then run.json, which names them with their checksums,
// written into the result's run directory.
#ifndef CNN_ENERGY_RECORD_H
#define CNN_ENERGY_RECORD_H

#include "core/energy/common/notes.h"
#include "core/energy/result/result.h"

#ifdef __cplusplus
extern "C" {
#endif

// Writes the record of res. notes: res's notes on entry; the notes the writing makes (emissions.csv's) are
// added to it, and run.json lists them all.
cnn_status cnn_energy_write_record(const cnn_energy_result *res, cnn_energy_notes *notes);

#ifdef __cplusplus
}
#endif
#endif
