// The roofline explain draws: a peak FLOP rate and one bandwidth per level
// of the memory hierarchy (L1d, L2, L3 from sysfs, then DRAM), each with
// where it comes from (measured now, cached from an earlier measurement,
// given on the command line, a data sheet, or a stated default of another
// machine). An op is bounded by the bandwidth of the fastest level that can
// hold its minimum bytes (explain_roof.c); the figures come from
// explain_roof_get.c (probe: explain_probe.c, cache: explain_roof_cache.c).
#ifndef CNN_TRAIN_EXPLAIN_ROOF_H
#define CNN_TRAIN_EXPLAIN_ROOF_H

#include <stdbool.h>
#include <stdio.h>

enum { ROOF_MAX_LEVELS = 5 };

typedef struct {
    char name[8];    // "L1d", "L2", "L3", "DRAM"
    double size;     // bytes of one instance of the cache (0 for DRAM: unbounded)
    int shared_by;   // logical CPUs sharing one instance
    double capacity; // bytes the threads used can keep in this level: size x instances they run on (0: unbounded)
    double gbs;      // copy bandwidth (bytes read + written per second / 1e9), 0 when unknown
} roof_level;

typedef struct {
    double peak_gflops;
    roof_level level[ROOF_MAX_LEVELS]; // fastest first; the last one is the memory (DRAM, HBM)
    int n_levels;
    int threads;               // the probe's threads (0: not a CPU probe)
    char peak_source[200];     // e.g. "packed SGEMM 416x416x416 in cache, measured now"
    char bw_source[400];       // e.g. "copy probes, cached from 2026-12-01T10:00:00Z (2.1 h old)"
    const char *peak_kind;     // "measured now", "cached", "given", "data sheet", "stated default"
    const char *bw_kind;       // the same for the bandwidths
    bool stated_default;       // a figure is another machine's, not measured here
    bool cached;               // the measured figures come from the cache file
    char cached_utc[32];       // when they were measured (cached only)
    double cache_age_s;
    char cache_file[1200];     // "" when none
    bool busy;                 // the probe ran while other processes loaded the CPUs
    char busy_note[160];       // says so ("" when not busy)
} explain_roof;

// The index of the fastest level whose capacity holds `bytes`; the last
// level (memory) when none does or the roofline has no cache levels.
int explain_roof_level(const explain_roof *r, double bytes);

// The least time the roofline allows an op of `flops` and at least `bytes`
// moved, in seconds: max(flops / peak, bytes / bandwidth of its level).
double explain_roof_t_min(const explain_roof *r, double flops, double bytes);

// true when the op's intensity times its level's bandwidth reaches the peak.
bool explain_roof_compute_bound(const explain_roof *r, double flops, double bytes);

// Fills the levels' capacity for `threads` threads placed one per logical
// CPU from CPU 0 on: a level shared by k CPUs gives ceil(threads / k)
// instances (an approximation: where the threads really run is the OS's).
void explain_roof_set_capacities(explain_roof *r, int threads);

typedef enum { ROOF_AUTO, ROOF_PROBE, ROOF_NO_PROBE } explain_roof_mode;

// Fills r for `backend` (explain_roof_get.c). --peak-gflops / --bandwidth-gbs
// (peak_given, bw_given > 0) override; the CPU's other figures come from the
// cache (ROOF_AUTO), a probe now (ROOF_AUTO on a miss, ROOF_PROBE; the cache
// is refreshed), or, with ROOF_NO_PROBE or when the probe fails, a stated
// default of another machine; CUDA's from a data sheet. A given bandwidth
// is one bandwidth for every op (no cache levels). Notes (a cache that
// cannot be written, a failed probe) go to `log`.
void explain_roof_get(const char *backend, const char *gemm, int threads, explain_roof_mode mode, double peak_given,
                      double bw_given, explain_roof *r, FILE *log);

// Prints "L1d 48 KiB" style sizes (KiB, MiB) into buf. style sizes (KiB, MiB) into buf.
void explain_roof_format_bytes(double bytes, char *buf, size_t len);

#endif
