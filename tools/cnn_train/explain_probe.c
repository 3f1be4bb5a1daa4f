// explain's probes of this machine (explain_probe.h).
//  - Caches: sysfs's size and shared_cpu_list of each data/unified cache.
//  - Peak: the backend's selected GEMM on a square shape whose A, B and C
//    fit in half the L2 of the threads used, so memory does not limit it;
//    the best of repeated calls over about 60 ms.
//  - Bandwidths: each thread copies (memcpy) its own buffer, half of its
//    share of the level, so source and destination stay in that level
//    (capped at 4x the previous level's share, so that a huge shared L3
//    does not need a huge buffer); DRAM: 2 x 64 MiB in all, or 4x the last
//    level when that is larger (at most 2 x 128 MiB). Bytes read plus
//    bytes written, as STREAM counts a copy; the best of 3 trials.
#include "explain_probe.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/gemm.h"
#include "core/backend.h"
#include "core/clock.h"

#define MiB (1024.0 * 1024.0)

// Reads a small sysfs file into buf (trailing newline removed); false when unreadable.
static bool read_line(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok) buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

// "48K", "2048K", "1M", "32768" -> bytes (0 when unreadable).
static double parse_size(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v > 0)) return 0;
    if (*end == 'K') v *= 1024;
    else if (*end == 'M') v *= MiB;
    else if (*end == 'G') v *= 1024 * MiB;
    return v;
}

// The number of CPUs in a list such as "0-1,4,6-7" (at least 1).
static int count_cpus(const char *s) {
    int n = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s) break;
        if (*end == '-') b = strtol(end + 1, &end, 10);
        n += b >= a ? (int)(b - a + 1) : 1;
        s = *end == ',' ? end + 1 : end;
    }
    return n > 0 ? n : 1;
}

// Adds a cache level to r, keeping them in order of level.
static void add_level(explain_roof *r, int level, bool data_only, double size, int shared_by) {
    if (r->n_levels >= ROOF_MAX_LEVELS - 1 || !(size > 0)) return;
    int at = r->n_levels;
    while (at > 0 && r->level[at - 1].name[1] - '0' > level) at--;
    memmove(&r->level[at + 1], &r->level[at], sizeof r->level[0] * (size_t)(r->n_levels - at));
    roof_level *l = &r->level[at];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "L%d%s", level, data_only ? "d" : "");
    l->size = size;
    l->shared_by = shared_by;
    r->n_levels++;
}

int explain_read_caches(const char *root, int threads, explain_roof *r) {
    r->n_levels = 0;
    for (int i = 0; i < 16; i++) {
        char path[1024], level[16], type[32], size[32], shared[256] = "0";
        int n = snprintf(path, sizeof path, "%s/cpu0/cache/index%d/", root, i);
        if (n <= 0 || (size_t)n >= sizeof path - 32) break;
        strcpy(path + n, "level");
        if (!read_line(path, level, sizeof level)) continue;
        strcpy(path + n, "type");
        if (!read_line(path, type, sizeof type) || !strcmp(type, "Instruction")) continue;
        strcpy(path + n, "size");
        if (!read_line(path, size, sizeof size)) continue;
        strcpy(path + n, "shared_cpu_list");
        read_line(path, shared, sizeof shared);
        add_level(r, atoi(level), !strcmp(type, "Data"), parse_size(size), count_cpus(shared));
    }
    if (r->n_levels == 0) { // no sysfs: glibc's figures, sharing unknown (taken as private, the last as shared)
        const long sz[] = {sysconf(_SC_LEVEL1_DCACHE_SIZE), sysconf(_SC_LEVEL2_CACHE_SIZE),
                           sysconf(_SC_LEVEL3_CACHE_SIZE)};
        const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        for (int i = 0; i < 3; i++)
            if (sz[i] > 0) add_level(r, i + 1, i == 0, (double)sz[i], i == 2 && ncpu > 0 ? (int)ncpu : 1);
    }
    const int caches = r->n_levels;
    roof_level *mem = &r->level[r->n_levels++];
    memset(mem, 0, sizeof *mem);
    snprintf(mem->name, sizeof mem->name, "DRAM");
    explain_roof_set_capacities(r, threads);
    return caches;
}

// Fills n floats with pseudo-random values in [-1, 1) (never zeros: they hide work).
static void fill(float *x, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(seed >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
    }
}

// The best GFLOP/s of be's GEMM on n x n x n over 4 slices of `seconds` / 4,
// 40 ms apart, so that a burst of load from another process does not set it.
static cnn_status gemm_peak(cnn_backend *be, int n, double seconds, double *best) {
    const size_t nn = (size_t)n * n;
    float *A = malloc(nn * sizeof *A), *B = malloc(nn * sizeof *B), *C = malloc(nn * sizeof *C);
    cnn_status s = A && B && C ? CNN_OK : cnn_error(CNN_ERR_NOMEM, "out of memory for the peak probe");
    *best = 0;
    if (s == CNN_OK) {
        fill(A, nn, 1), fill(B, nn, 2);
        s = be->gemm->fn(be, false, false, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n); // warm-up: pages, packing
    }
    for (int slice = 0; slice < 4 && s == CNN_OK; slice++) {
        if (slice) nanosleep(&(struct timespec){0, 40000000}, NULL);
        const double t_end = cnn_now_s() + seconds / 4;
        while (s == CNN_OK && cnn_now_s() < t_end) {
            const double t0 = cnn_now_s();
            s = be->gemm->fn(be, false, false, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
            const double g = 2.0 * n * n * n / (cnn_now_s() - t0) / 1e9;
            if (s == CNN_OK && g > *best) *best = g;
        }
    }
    free(A), free(B), free(C);
    return s;
}

// Copy bandwidth in GB/s: each of `threads` threads copies its own buffer
// of `per_thread` bytes (half source, half destination) in rounds of about
// 0.2 ms (at least one copy) for at least `seconds`, 3 times 10 ms apart;
// the best round, so that a thread descheduled by another process's load
// does not set it. 0 when out of memory.
static double copy_gbs(int threads, size_t per_thread, double seconds) {
    const size_t half = (per_thread / 2 + 63) & ~(size_t)63;
    char *buf = aligned_alloc(64, half * 2 * (size_t)threads);
    if (!buf) return 0;
    double best = 0;
#pragma omp parallel num_threads(threads)
    memset(buf + half * 2 * (size_t)omp_get_thread_num(), 1, half * 2); // first touch by the thread that copies
    const long reps = (long)fmax(1, 0.2e-3 * 50e9 / (2.0 * half * threads));
    const double bytes = 2.0 * half * threads * reps;
    for (int trial = 0; trial < 3; trial++) {
        if (trial) nanosleep(&(struct timespec){0, 10000000}, NULL);
        const double t_end = cnn_now_s() + seconds;
        double t = 0;
        do {
            const double t0 = cnn_now_s();
#pragma omp parallel num_threads(threads)
            {
                char *src = buf + half * 2 * (size_t)omp_get_thread_num();
                for (long i = 0; i < reps; i++) memcpy(src + half, src, half);
            }
            t = cnn_now_s();
            if (bytes / (t - t0) / 1e9 > best) best = bytes / (t - t0) / 1e9;
        } while (t < t_end);
    }
    free(buf);
    return best;
}

// Sets every level's bandwidth; returns what the DRAM probe copied, for the source text.
static void probe_levels(explain_roof *r, int threads, char *dram_how, size_t len) {
    double prev_share = 0; // the previous level's bytes per thread
    for (int i = 0; i + 1 < r->n_levels; i++) {
        roof_level *l = &r->level[i];
        double share = l->capacity / threads;
        double per_thread = share / 2;
        if (prev_share > 0 && per_thread > 4 * prev_share) per_thread = 4 * prev_share;
        l->gbs = copy_gbs(threads, (size_t)per_thread, 0.004);
        prev_share = share;
    }
    const double last = r->n_levels > 1 ? r->level[r->n_levels - 2].capacity : 0;
    double total = fmin(fmax(4 * last, 128 * MiB), 256 * MiB);
    r->level[r->n_levels - 1].gbs = copy_gbs(threads, (size_t)(total / threads), 0.03);
    char sz[32], ll[32];
    explain_roof_format_bytes(total / 2, sz, sizeof sz);
    explain_roof_format_bytes(last, ll, sizeof ll);
    int n = last > 0 && total < 4 * last
                ? snprintf(dram_how, len, "copy 2 x %s, less than 4x the %s %s: may be partly served by it", sz,
                           r->level[r->n_levels - 2].name, ll)
                : snprintf(dram_how, len, "copy 2 x %s", sz);
    // a level cannot be slower than the one behind it: a lower figure is noise (load), said so
    for (int i = r->n_levels - 2; i >= 0 && n > 0 && (size_t)n < len; i--)
        if (r->level[i].gbs < r->level[i + 1].gbs) {
            n += snprintf(dram_how + n, len - (size_t)n, "; %s measured %.3g GB/s, below %s: taken as %s's",
                          r->level[i].name, r->level[i].gbs, r->level[i + 1].name, r->level[i + 1].name);
            r->level[i].gbs = r->level[i + 1].gbs;
        }
}

cnn_status explain_probe_cpu(cnn_backend *be, explain_roof *r) {
    const int threads = r->threads = cnn_cpu_ctx_of(be)->threads;
    double load = 0;
    const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    const char *ignore = getenv("CNN_EXPLAIN_IGNORE_LOAD"); // tests only: cache whatever the load
    r->busy = !(ignore && !strcmp(ignore, "1")) && getloadavg(&load, 1) == 1 && ncpu > 0 && load > 0.75 * (double)ncpu;
    if (r->busy)
        snprintf(r->busy_note, sizeof r->busy_note, "the machine was busy (load average %.1f on %ld CPUs): the figures "
                 "may be low, so they are not cached", load, ncpu);
    // the largest multiple of 32 with A, B, C (3 n^2 floats) in half the threads' L2 (or 1 MiB), 128 to 1024
    double l2 = 0;
    for (int i = 0; i + 1 < r->n_levels; i++)
        if (r->level[i].name[1] == '2') l2 = r->level[i].capacity;
    int n = (int)(sqrt((l2 > 0 ? l2 / 2 : MiB) / 12.0) / 32) * 32;
    n = n < 128 ? 128 : n > 1024 ? 1024 : n;
    CNN_TRY(gemm_peak(be, n, 0.06, &r->peak_gflops));
    snprintf(r->peak_source, sizeof r->peak_source, "%s SGEMM %dx%dx%d in cache, %s kernel, %d thread%s",
             be->gemm->name, n, n, n, cnn_cpu_ctx_of(be)->kernel->name, threads, threads == 1 ? "" : "s");
    char dram[320];
    probe_levels(r, threads, dram, sizeof dram);
    snprintf(r->bw_source, sizeof r->bw_source, "memcpy within each level; DRAM: %s", dram);
    for (int i = 0; i < r->n_levels; i++)
        if (!(r->level[i].gbs > 0)) return cnn_error(CNN_ERR_NOMEM, "out of memory for the bandwidth probe");
    return CNN_OK;
}
