// explain's roofline measurements cached between runs, like the energy
// hook's idle baseline: $XDG_CACHE_HOME/cnn-train (or ~/.cache/cnn-train),
// one JSON file per host, GEMM and thread count, keyed by host, CPU model,
// GEMM, micro-kernel, threads and cache sizes, reused for a week
// (explain_roof_cache.c).
#ifndef CNN_TRAIN_EXPLAIN_ROOF_CACHE_H
#define CNN_TRAIN_EXPLAIN_ROOF_CACHE_H

#include "core/status.h"
#include "explain_roof.h"

// The cache file's path for this GEMM and thread count; false when neither
// XDG_CACHE_HOME nor HOME is set.
bool explain_roof_cache_path(const char *gemm, int threads, char *path, size_t len);

// What the measurement depends on: host, CPU model, GEMM and kernel, threads, r's cache sizes.
void explain_roof_cache_key(const char *gemm, const char *kernel, int threads, const explain_roof *r, char *key,
                            size_t len);

// Fills r's peak, bandwidths, sources and cached_utc / cache_age_s from the
// file when its key is `key` and it is under a week old; returns true then.
bool explain_roof_cache_read(const char *path, const char *key, explain_roof *r);

// Writes r to the file (through a temporary file and a rename), creating its folder.
cnn_status explain_roof_cache_write(const char *path, const char *key, const explain_roof *r);

#endif
