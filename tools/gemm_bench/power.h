// gemm-bench --power: watts, J/TFLOP and TFLOP/s per data kind (power.c).
#ifndef GEMM_BENCH_POWER_H
#define GEMM_BENCH_POWER_H

// Runs the data-dependent power measurement; returns the exit status
// (1 with one line saying why where no energy counter exists).
int power_main(int argc, char **argv);

#endif
