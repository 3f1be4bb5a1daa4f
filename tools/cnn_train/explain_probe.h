// The CPU's ceilings for explain's roofline, found on this machine: its
// caches from sysfs, the peak of the backend's selected GEMM on an in-cache
// shape and the copy bandwidth of every cache level and of DRAM
// (explain_probe.c). Well under a second in all; explain caches the result
// (explain_roof_cache.c).
#ifndef CNN_TRAIN_EXPLAIN_PROBE_H
#define CNN_TRAIN_EXPLAIN_PROBE_H

#include "core/backend.h"
#include "explain_roof.h"

// Reads the data and unified caches of CPU 0 from ROOT/cpu0/cache/index*/
// (ROOT: /sys/devices/system/cpu; sysconf's _SC_LEVEL*_CACHE_SIZE when that
// is unreadable), fastest first, then appends DRAM, and sets their
// capacities for `threads`. Returns the number of cache levels found.
int explain_read_caches(const char *root, int threads, explain_roof *r);

// Measures r's peak with CPU backend be's selected GEMM on its threads, and
// the copy bandwidth of each of r's levels (read by explain_read_caches
// first); says how in r's sources. Sets r->threads to be's threads, and
// r->busy when the load average was over 3/4 of the CPUs (then the figures
// may be low and are not cached; CNN_EXPLAIN_IGNORE_LOAD=1, for tests,
// ignores the load).
cnn_status explain_probe_cpu(cnn_backend *be, explain_roof *r);

#endif
