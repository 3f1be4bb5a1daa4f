// The run directory belongs to one run: claiming it (created or found
// writable, locked with flock for the whole run, refused when it holds
// another run's record or another live run holds it) and the consistency of
// its record (run.json, written last, names every other file with its size
// and FNV-1a 64 checksum; `report` refuses a directory whose files do not
// match it, e.g. after a failed rewrite or a file copied from another run).
#ifndef CNN_ENERGY_RECORD_DIR_H
#define CNN_ENERGY_RECORD_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/energy/common/json.h"
#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_RECORD_LOCK ".cnn-train.lock"
#define CNN_RECORD_MAX_FILES 8

// The files of a record other than run.json, with what run.json says of them.
typedef struct {
    char name[32];
    uint64_t fnv1a64;
    long long bytes;
} cnn_record_file;

// Creates dir (mkdir -p) or checks it is a writable directory, takes its lock
// (*lock_fd, -1 on failure) and, unless resuming, refuses a directory that
// already holds a record. Every refusal is one message ending in what to do.
// created (len bytes) gets the top-most directory the claim created ("runs"
// for a new runs/<time>), "" when dir existed: what release may remove.
cnn_status cnn_record_dir_claim(const char *dir, int resuming, int *lock_fd, char *created, size_t len);
// Releases the lock and removes the lock file (a finished record has none); with remove_if_empty, also removes
// dir and its parents up to `created` (what the claim created) while they are empty: a run that failed leaves
// no directory behind, and never removes one it did not create.
void cnn_record_dir_release(const char *dir, int lock_fd, int remove_if_empty, const char *created);

// FNV-1a 64 of a file's bytes, and its size.
cnn_status cnn_record_file_sum(const char *dir, const char *name, cnn_record_file *out);
// run.json's "files" member (an object: name -> {"bytes", "fnv1a64"}).
void cnn_record_write_files(cnn_json_writer *w, const cnn_record_file *files, int n);
// Checks the files run.json names against the directory: a missing, resized or changed file is refused with
// a message naming it. A record without "files" (written before they were recorded) passes.
cnn_status cnn_record_verify(const char *dir, const cnn_json *run);

#ifdef __cplusplus
}
#endif
#endif
