// CPUID-based feature detection (see cpu_features.h).
#include "cpu_features.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// XCR0, the OS-enabled register state (XGETBV with ECX = 0). Written as
// inline assembly so that this file needs no -mxsave.
static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(cnn_cpu_features *f) {
    unsigned int a, b, c, d;
    unsigned int max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 1) return;
    __cpuid(1, a, b, c, d);
    bool osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    bool os_ymm = (xcr0 & 0x6) == 0x6;    // SSE and AVX state
    bool os_zmm = (xcr0 & 0xe6) == 0xe6;  // plus opmask, ZMM0-15 upper halves, ZMM16-31
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        bool avx2 = (b >> 5) & 1;
        bool f512 = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
        f->avx2_fma = avx && avx2 && fma && os_ymm;
        f->avx512 = f->avx2_fma && f512 && dq && bw && vl && os_zmm;
        if (a >= 1) { // subleaf 1 exists
            unsigned int a1, b1, c1, d1;
            __cpuid_count(7, 1, a1, b1, c1, d1);
            f->avx512_bf16 = f->avx512 && ((a1 >> 5) & 1);
        }
    }
    if (__get_cpuid_max(0x80000000, NULL) >= 0x80000004) {
        unsigned int w[12];
        for (unsigned int leaf = 0; leaf < 3; leaf++)
            __cpuid(0x80000002 + leaf, w[4 * leaf], w[4 * leaf + 1], w[4 * leaf + 2], w[4 * leaf + 3]);
        memcpy(f->brand, w, 48);
        f->brand[48] = '\0';
        // Some CPUs pad the brand string with leading spaces.
        size_t skip = strspn(f->brand, " ");
        memmove(f->brand, f->brand + skip, sizeof f->brand - skip);
    }
}
#else
static void detect(cnn_cpu_features *f) { (void)f; }
#endif

static cnn_cpu_features features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

static void detect_once(void) { detect(&features); }

const cnn_cpu_features *cnn_cpu_features_get(void) {
    pthread_once(&features_once, detect_once);
    return &features;
}
