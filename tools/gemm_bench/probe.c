// The machine's ceilings for the roofline: FMA throughput and memory
// bandwidth, measured here rather than taken from a data sheet (clocks
// under AVX-512 load and a virtual machine's share of memory bandwidth are
// not on data sheets). Each probe function that uses wide vectors is
// compiled for them with a target attribute and called only when CPUID
// says the CPU runs them, so the tool itself targets baseline x86-64.
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/cpu/cpu_features.h"
#include "bench.h"
#include "core/clock.h"

// Enough independent chains to cover the FMA latency (4 cycles) on two FMA
// units with room to spare: 2 x 4 = 8 would just do.
enum { CHAINS = 16 };

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// Runs `iters` rounds of CHAINS independent 512-bit FMAs; returns a value
// depending on all of them so the compiler keeps the work.
__attribute__((target("avx512f,fma"))) static float fma_chains_avx512(long iters) {
    __m512 acc[CHAINS];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c);
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], x, y);
    for (int c = 1; c < CHAINS; c++) acc[0] = _mm512_add_ps(acc[0], acc[c]);
    return _mm512_reduce_add_ps(acc[0]);
}

// The same with 256-bit AVX2 FMAs.
__attribute__((target("avx2,fma"))) static float fma_chains_avx2(long iters) {
    __m256 acc[CHAINS];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps((float)c);
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], x, y);
    for (int c = 1; c < CHAINS; c++) acc[0] = _mm256_add_ps(acc[0], acc[c]);
    float out[8];
    _mm256_storeu_ps(out, acc[0]);
    return out[0] + out[7];
}
#endif

// Without FMA: a multiply and an add per element, 4 floats per SSE vector.
static float fma_chains_plain(long iters) {
    float acc[CHAINS][4];
    for (int c = 0; c < CHAINS; c++)
        for (int l = 0; l < 4; l++) acc[c][l] = (float)c;
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++)
            for (int l = 0; l < 4; l++) acc[c][l] = acc[c][l] * 0.999999f + 1e-7f;
    float s = 0.0f;
    for (int c = 0; c < CHAINS; c++) s += acc[c][0] + acc[c][3];
    return s;
}

double probe_fma_peak(int threads, const char **isa) {
    const cnn_cpu_features *f = cnn_cpu_features_get();
    int width = 4; // floats per vector
    float (*chains)(long) = fma_chains_plain;
    *isa = "sse";
#if defined(__x86_64__) || defined(__i386__)
    if (f->avx512) chains = fma_chains_avx512, width = 16, *isa = "avx512";
    else if (f->avx2_fma) chains = fma_chains_avx2, width = 8, *isa = "avx2";
#endif
    const long iters = 4000000; // 64M FMAs per thread: ~20 ms
    volatile float sink = 0.0f;
    // The best of several trials spread over about a second, so that a
    // burst of load from another process does not set the peak.
    double best = 0.0;
    for (int trial = 0; trial < 7; trial++) {
        if (trial) nanosleep(&(struct timespec){0, 100000000}, NULL);
        double t0 = cnn_now_s();
#pragma omp parallel num_threads(threads)
        {
            float r = chains(iters);
#pragma omp atomic
            sink += r;
        }
        double gflops = 2.0 * width * CHAINS * (double)iters * threads / (cnn_now_s() - t0) / 1e9;
        if (gflops > best) best = gflops;
    }
    (void)sink;
    return best;
}

double probe_memory_bandwidth(int threads) {
    const size_t n = (size_t)16 << 20; // floats: 64 MiB per buffer
    float *a = aligned_alloc(64, n * sizeof(float)), *b = aligned_alloc(64, n * sizeof(float));
    if (!a || !b) {
        free(a);
        free(b);
        return 0.0;
    }
    // Touch the pages from the threads that will use them.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 1023), b[i] = 0.0f;
    double best = 0.0;
    for (int trial = 0; trial < 5; trial++) {
        double t0 = cnn_now_s();
#pragma omp parallel num_threads(threads)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t lo = n * t / nt, hi = n * (t + 1) / nt;
            memcpy(b + lo, a + lo, (hi - lo) * sizeof(float));
        }
        double gbs = 2.0 * n * sizeof(float) / (cnn_now_s() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    free(a);
    free(b);
    return best;
}
