// gemm-bench's probes of the machine (probe.c), used by main.c.
#ifndef GEMM_BENCH_H
#define GEMM_BENCH_H

// The CPU's FP32 FMA throughput with `threads` threads, in GFLOP/s (one
// FMA = 2 FLOPs), measured with independent FMA chains in the widest
// vectors this CPU runs; *isa is set to "avx512", "avx2" or "sse".
double probe_fma_peak(int threads, const char **isa);

// Main-memory bandwidth with `threads` threads, in GB/s: a copy between two
// 64 MiB buffers, counting the bytes read plus the bytes written (as STREAM does).
double probe_memory_bandwidth(int threads);

// --ukernel: times each packed micro-kernel this CPU runs on L2-resident
// panels, one thread, against the one-thread peak; returns the exit code.
#include <stdio.h>
int ukernel_report(FILE *out, int repeat);

#endif
