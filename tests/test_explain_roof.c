// explain's roofline with cache levels (tools/cnn_train/explain_roof*.c,
// explain_probe.c): the level an op's working set fits in, with made-up
// cache sizes (small sets in L1d/L2/L3, large ones in DRAM; a level
// without a bandwidth is skipped; capacities per thread count and
// sharing); t_min and the bound from that level; the caches read from a
// fake sysfs tree (instruction caches skipped, sizes and shared CPU lists
// parsed, levels sorted); and the cache file written, read back, and
// refused when its key differs or it is over a week old.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "explain_probe.h"
#include "explain_roof.h"
#include "explain_roof_cache.h"
#include "test_util.h"

// A roofline of 100 GFLOP/s with L1d 32 KiB, L2 1 MiB (private), L3 8 MiB shared by 4 CPUs, DRAM.
static explain_roof fake(int threads) {
    explain_roof r;
    memset(&r, 0, sizeof r);
    r.peak_gflops = 100;
    const char *names[] = {"L1d", "L2", "L3", "DRAM"};
    const double size[] = {32768, 1048576, 8388608, 0}, gbs[] = {400, 200, 50, 10};
    const int shared[] = {1, 1, 4, 0};
    for (int i = 0; i < 4; i++) {
        snprintf(r.level[i].name, sizeof r.level[i].name, "%s", names[i]);
        r.level[i].size = size[i];
        r.level[i].shared_by = shared[i];
        r.level[i].gbs = gbs[i];
    }
    r.n_levels = 4;
    explain_roof_set_capacities(&r, threads);
    return r;
}

static void test_levels(void) {
    explain_roof r = fake(2);
    CHECK(r.level[0].capacity == 65536 && r.level[1].capacity == 2097152); // private: one per thread
    CHECK(r.level[2].capacity == 8388608 && r.level[3].capacity == 0);     // shared by 4: one instance
    CHECK(explain_roof_level(&r, 1000) == 0);
    CHECK(explain_roof_level(&r, 65536) == 0);
    CHECK(explain_roof_level(&r, 65537) == 1);
    CHECK(explain_roof_level(&r, 3e6) == 2);
    CHECK(explain_roof_level(&r, 9e6) == 3);
    CHECK(explain_roof_level(&r, 1e12) == 3);
    explain_roof one = fake(1);
    CHECK(explain_roof_level(&one, 40000) == 1); // over one L1d, within two
    explain_roof eight = fake(8);
    CHECK(eight.level[2].capacity == 2 * 8388608.0); // 8 threads span two L3 instances
    // t_min and the bound take the level's bandwidth: 1 MFLOP on 40 KB: L1d (two threads) 0.1 µs of
    // bytes vs 10 µs of FLOPs: compute; the same op on 4 MB: DRAM, 400 µs of bytes: memory
    CHECK(fabs(explain_roof_t_min(&r, 1e6, 40000) - 1e-5) < 1e-12);
    CHECK(explain_roof_compute_bound(&r, 1e6, 40000));
    CHECK(fabs(explain_roof_t_min(&r, 1e6, 9e6) - 9e-4) < 1e-12);
    CHECK(!explain_roof_compute_bound(&r, 1e6, 9e6));
    // a level without a bandwidth (not measured) is skipped; one level only: always it
    r.level[0].gbs = 0;
    CHECK(explain_roof_level(&r, 1000) == 1);
    explain_roof mem = {.peak_gflops = 100, .n_levels = 1};
    mem.level[0].gbs = 10;
    CHECK(explain_roof_level(&mem, 1) == 0 && fabs(explain_roof_t_min(&mem, 0, 1e9) - 0.1) < 1e-12);
}

// Writes text to dir/name.
static void put(const char *dir, const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fputs(text, f), fclose(f);
}

// One cache's files under root/cpu0/cache/indexI.
static void fake_cache(const char *root, int i, const char *level, const char *type, const char *size,
                       const char *shared) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/cpu0/cache/index%d", root, i);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CHECK(system(cmd) == 0);
    put(dir, "level", level), put(dir, "type", type), put(dir, "size", size), put(dir, "shared_cpu_list", shared);
}

static void test_sysfs(const char *tmp) {
    char root[1024];
    snprintf(root, sizeof root, "%s/cpu", tmp);
    // listed out of order, with an instruction cache: L3 first
    fake_cache(root, 0, "3\n", "Unified\n", "16384K\n", "0-3,8-11\n");
    fake_cache(root, 1, "1\n", "Instruction\n", "32K\n", "0\n");
    fake_cache(root, 2, "1\n", "Data\n", "48K\n", "0\n");
    fake_cache(root, 3, "2\n", "Unified\n", "2M\n", "0,8\n");
    explain_roof r;
    memset(&r, 0, sizeof r);
    CHECK(explain_read_caches(root, 2, &r) == 3);
    CHECK(r.n_levels == 4);
    CHECK(!strcmp(r.level[0].name, "L1d") && r.level[0].size == 49152 && r.level[0].shared_by == 1);
    CHECK(!strcmp(r.level[1].name, "L2") && r.level[1].size == 2097152 && r.level[1].shared_by == 2);
    CHECK(!strcmp(r.level[2].name, "L3") && r.level[2].size == 16777216 && r.level[2].shared_by == 8);
    CHECK(!strcmp(r.level[3].name, "DRAM") && r.level[3].size == 0);
    CHECK(r.level[0].capacity == 2 * 49152.0 && r.level[1].capacity == 2097152); // L2 shared by 2 hyperthreads
}

static void test_cache_file(const char *tmp) {
    char path[1024];
    snprintf(path, sizeof path, "%s/cache/cnn-train/roofline-test.json", tmp);
    explain_roof w = fake(2);
    w.peak_gflops = 231.5;
    snprintf(w.peak_source, sizeof w.peak_source, "packed SGEMM 416x416x416");
    snprintf(w.bw_source, sizeof w.bw_source, "memcpy within each level");
    CHECK_OK(explain_roof_cache_write(path, "key-1", &w));
    explain_roof r = fake(2);
    for (int i = 0; i < r.n_levels; i++) r.level[i].gbs = 0;
    CHECK(explain_roof_cache_read(path, "key-1", &r));
    CHECK(r.cached && r.peak_gflops == 231.5 && r.level[1].gbs == 200 && r.level[3].gbs == 10);
    CHECK(!strcmp(r.peak_source, "packed SGEMM 416x416x416") && r.cached_utc[0] == '2' && r.cache_age_s < 60);
    explain_roof other = fake(2);
    CHECK(!explain_roof_cache_read(path, "key-2", &other) && !other.cached); // another host, GEMM, threads...
    other.n_levels = 3;
    CHECK(!explain_roof_cache_read(path, "key-1", &other)); // other levels
    // over a week old: refused
    FILE *f = fopen(path, "rb");
    char buf[8192] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    char *at = strstr(buf, "\"measured_unix_s\"");
    CHECK(at != NULL);
    if (at) {
        char *num = at + strlen("\"measured_unix_s\"");
        while (*num && (*num < '0' || *num > '9')) num++;
        memcpy(num, "1000000000", 10); // 2001: its digits replace the first ten of now's
        f = fopen(path, "wb");
        if (f) fputs(buf, f), fclose(f);
        explain_roof old = fake(2);
        CHECK(!explain_roof_cache_read(path, "key-1", &old));
    }
    // an unwritable place: an error, not a crash
    explain_roof x = fake(2);
    CHECK(explain_roof_cache_write("/proc/no-such-dir/cnn-train/x.json", "k", &x) != CNN_OK);
}

int main(void) {
    char tmp[] = "/tmp/test_explain_roof.XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    test_levels();
    test_sysfs(tmp);
    test_cache_file(tmp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    return test_finish("test_explain_roof");
}
