// gemm-bench's parts besides main.c: validation (validate.c) and the
// probes of the machine (probe.c, ukernel.c).
#ifndef GEMM_BENCH_H
#define GEMM_BENCH_H

#include <stdbool.h>

#include "core/rng.h"

// One GEMM problem: C (M,N) = op(A) op(B), K the inner size.
typedef struct {
    char name[48]; // "fc1.fwd", "square1024", "100x200x300"
    bool ta, tb;
    int M, N, K;
} gemm_shape;

// ---- validate.c ----

// The largest error over the checked elements of C (M,N) = op(A) op(B),
// each divided by S = sum_k |a_ik b_kj| (the scale of float rounding error
// in a K-term sum), computed in double. All elements when the product is
// small, else 1024 random ones and the four corners.
double max_rel_error(const gemm_shape *sh, const float *A, int lda, const float *B, int ldb, const float *C,
                     cnn_rng *rng);

// The most a variant may convert an input float by, relative to it, from
// its name ("tf32": 2^-10; 0 for variants that multiply floats as they are).
double gemm_input_roundoff(const char *variant);

// The largest max_rel_error a correct variant can show at inner size K:
// the input conversions' error plus float accumulation's (2K + 8) 2^-24.
double gemm_tolerance(const char *variant, int K);

// ---- probe.c, ukernel.c ----

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
