// A run's checkpoint (DIR/checkpoint.bin): the parameter arena (parameters
// and momentum), where the run stands (cnn_train_progress) and the command
// line that started it, so that `cnn-train resume DIR` continues it exactly.
// Layout (docs/checkpoints.md): a 40-byte header — magic "CNNCKPT\0", format
// version (u32), the progress record's size (u32), payload bytes (u64),
// FNV-1a 64 of the payload (u64), offset of the arena in the payload (u64) —
// then the payload: identity (dataset, model, example counts, arena floats),
// the arguments, the progress record, the run's segments (size of a segment
// record, count, the records: the earlier segments, then the current one so
// far), the parameters, the momentum. Written to a temporary file and renamed.
#ifndef CNN_CHECKPOINT_H
#define CNN_CHECKPOINT_H

#include "core/energy/energy.h"
#include "models/model.h"
#include "models/train.h"

#define CNN_CHECKPOINT_VERSION 3 // 2: the segments (time and energy of each part of a resumed run); 3: the world size
#define CNN_CHECKPOINT_NAME "checkpoint.bin"
#define CNN_CHECKPOINT_MAX_ARGS 128

typedef struct {
    char dataset[32], model[128];
    int n_train, n_test;
    int argc;                          // the run's arguments after "cnn-train"
    char *argv[CNN_CHECKPOINT_MAX_ARGS];
    cnn_train_progress progress;
    int n_segments;                    // the earlier segments, then the one that wrote this checkpoint (last)
    cnn_energy_segment segments[CNN_ENERGY_MAX_SEGMENTS];
    size_t n;                          // floats in each arena section
    float *params, *momentum;          // (n) each, host memory
} cnn_checkpoint;

// Writes dir/checkpoint.bin from the model's arena (downloaded), p and the run's n_segs segments (at most
// CNN_ENERGY_MAX_SEGMENTS).
cnn_status cnn_checkpoint_save(const char *dir, cnn_backend *be, const cnn_model *m, const cnn_dataset *ds,
                               int argc, char *const *argv, const cnn_train_progress *p,
                               const cnn_energy_segment *segs, int n_segs);
// Reads dir/checkpoint.bin: a missing, truncated, foreign, version-mismatched or corrupt file is refused
// with one message saying which.
cnn_status cnn_checkpoint_load(const char *dir, cnn_checkpoint *ck);
// Checks the checkpoint is of this model and dataset, then uploads its parameters and momentum.
cnn_status cnn_checkpoint_restore(const cnn_checkpoint *ck, cnn_backend *be, cnn_model *m, const cnn_dataset *ds);
void cnn_checkpoint_free(cnn_checkpoint *ck);

#endif
