// What this CPU can run, read once with CPUID (and XGETBV, which says
// whether the operating system saves the wider registers on a context
// switch: an instruction set is usable only when both agree). The build
// targets baseline x86-64; files that use wider instructions are compiled
// for them separately and chosen at run time from these flags.
#ifndef CNN_CPU_FEATURES_H
#define CNN_CPU_FEATURES_H

#include <stdbool.h>

typedef struct {
    bool avx2_fma; // AVX2 and FMA3, with the OS saving the YMM registers
    bool avx512;   // AVX-512 F, VL, BW and DQ, with the OS saving the ZMM registers
    bool avx512_bf16; // and AVX-512 BF16 (vdpbf16ps, vcvtne2ps2bf16): CPUID leaf 7 subleaf 1, EAX bit 5
    char brand[49]; // the CPU's brand string ("" where CPUID has none)
} cnn_cpu_features;

// The features of the CPU this process runs on (detected on the first call).
const cnn_cpu_features *cnn_cpu_features_get(void);

#endif
