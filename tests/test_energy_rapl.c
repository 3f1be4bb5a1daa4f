// The RAPL meter on fake powercap trees: energy deltas, wrap-around at
// max_energy_range_uj, domains that must be skipped (core, psys, mmio),
// missing domains and files, and permission denied (as an unprivileged
// user: a child process drops to nobody when the test runs as root), with
// the session falling back to the estimated cpu-model.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/energy/energy.h"
#include "core/energy/meters/meter.h"
#include "test_util.h"

static void put(const char *dir, const char *zone, const char *file, const char *value) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, zone);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, zone, file);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "%s\n", value);
    fclose(f);
}

static void put_u64(const char *dir, const char *zone, const char *file, unsigned long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    put(dir, zone, file, buf);
}

static void make_root(char *buf, size_t len, const char *tag) {
    snprintf(buf, len, "/tmp/cnn_rapl_%s_XXXXXX", tag);
    CHECK(mkdtemp(buf) != NULL);
    chmod(buf, 0755);
}

static void rm_rf(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static double read_j(cnn_meter *m) {
    double v = NAN;
    CHECK_OK(m->read(m, &v));
    return v;
}

#define MAX_PKG 262143328850ULL

static void test_delta(void) {
    CHECK(cnn_rapl_delta(100, 250, MAX_PKG) == 150);
    CHECK(cnn_rapl_delta(MAX_PKG - 100, 50, MAX_PKG) == 150); // wrapped
    CHECK(cnn_rapl_delta(5, 5, MAX_PKG) == 0);
}

static void test_tree(void) {
    char root[256];
    make_root(root, sizeof root, "tree");
    put(root, "intel-rapl:0", "name", "package-0");
    put_u64(root, "intel-rapl:0", "max_energy_range_uj", MAX_PKG);
    put_u64(root, "intel-rapl:0", "energy_uj", MAX_PKG - 1000000); // near the wrap
    put(root, "intel-rapl:0:0", "name", "core"); // inside the package: skipped
    put_u64(root, "intel-rapl:0:0", "energy_uj", 7);
    put_u64(root, "intel-rapl:0:0", "max_energy_range_uj", MAX_PKG);
    put(root, "intel-rapl:0:1", "name", "dram");
    put_u64(root, "intel-rapl:0:1", "max_energy_range_uj", 65532610987ULL);
    put_u64(root, "intel-rapl:0:1", "energy_uj", 5000);
    put(root, "intel-rapl:1", "name", "psys"); // includes the package: skipped
    put_u64(root, "intel-rapl:1", "energy_uj", 1);
    put_u64(root, "intel-rapl:1", "max_energy_range_uj", MAX_PKG);
    put(root, "intel-rapl-mmio:0", "name", "package-0"); // the same package through MMIO: skipped
    put_u64(root, "intel-rapl-mmio:0", "energy_uj", 1);

    cnn_meter m[8];
    char note[512];
    int n = cnn_meter_rapl_open(root, m, 8, note, sizeof note);
    CHECK(n == 2);
    if (n == 2) {
        CHECK(!strcmp(m[0].info.name, "rapl:package-0") && !strcmp(m[0].info.component, "cpu"));
        CHECK(!strcmp(m[1].info.name, "rapl:dram-0") && !strcmp(m[1].info.component, "dram"));
        CHECK(m[0].info.prov == CNN_PROV_MEASURED_COUNTER && !m[0].reads_power);
        CHECK(strstr(note, "psys") != NULL); // said why it was skipped
        CHECK(read_j(&m[0]) == 0.0);
        put_u64(root, "intel-rapl:0", "energy_uj", MAX_PKG - 400000);
        put_u64(root, "intel-rapl:0:1", "energy_uj", 1005000);
        CHECK(fabs(read_j(&m[0]) - 0.6) < 1e-12);
        CHECK(fabs(read_j(&m[1]) - 1.0) < 1e-12);
        put_u64(root, "intel-rapl:0", "energy_uj", 500000); // wrapped: +400000 to the top, +500000 after
        CHECK(fabs(read_j(&m[0]) - 1.5) < 1e-12);
        put_u64(root, "intel-rapl:0", "energy_uj", 500000);
        CHECK(fabs(read_j(&m[0]) - 1.5) < 1e-12); // no change, no energy
        // A domain that disappears is a read error, not 0 J.
        char path[512];
        snprintf(path, sizeof path, "%s/intel-rapl:0:1/energy_uj", root);
        unlink(path);
        double v;
        CHECK(m[1].read(&m[1], &v) == CNN_ERR_IO && strstr(cnn_last_error(), "energy_uj"));
    }
    for (int i = 0; i < n; i++) cnn_meter_close(&m[i]);
    // max = 1 opens only the first domain.
    put_u64(root, "intel-rapl:0:1", "energy_uj", 5000);
    n = cnn_meter_rapl_open(root, m, 1, note, sizeof note);
    CHECK(n == 1);
    for (int i = 0; i < n; i++) cnn_meter_close(&m[i]);
    rm_rf(root);
}

static void test_missing(void) {
    cnn_meter m[8];
    char note[512];
    CHECK(cnn_meter_rapl_open("/nonexistent/powercap", m, 8, note, sizeof note) == 0);
    CHECK(strstr(note, "absent") != NULL);

    char root[256];
    make_root(root, sizeof root, "empty");
    CHECK(cnn_meter_rapl_open(root, m, 8, note, sizeof note) == 0);
    CHECK(strstr(note, "no package or dram domain") != NULL);

    put(root, "intel-rapl:0", "name", "package-0"); // no energy_uj
    put_u64(root, "intel-rapl:0", "max_energy_range_uj", MAX_PKG);
    put(root, "intel-rapl:1", "name", "package-1"); // no max_energy_range_uj
    put_u64(root, "intel-rapl:1", "energy_uj", 10);
    CHECK(cnn_meter_rapl_open(root, m, 8, note, sizeof note) == 0);
    CHECK(strstr(note, "intel-rapl:0") && strstr(note, "energy_uj"));
    CHECK(strstr(note, "intel-rapl:1") && strstr(note, "wrap-around"));
    put_u64(root, "intel-rapl:1", "max_energy_range_uj", MAX_PKG); // now package-1 is usable
    int n = cnn_meter_rapl_open(root, m, 8, note, sizeof note);
    CHECK(n == 1 && !strcmp(m[0].info.name, "rapl:package-1"));
    for (int i = 0; i < n; i++) cnn_meter_close(&m[i]);
    rm_rf(root);
}

// Runs as an unprivileged user: RAPL is denied, the note says so with the
// fix, and a session falls back to the cpu-model. Returns the failures.
static int denied_checks(const char *root, const char *out_dir) {
    cnn_meter m[8];
    char note[512];
    int n = cnn_meter_rapl_open(root, m, 8, note, sizeof note);
    CHECK(n == 0);
    CHECK(strstr(note, "permission denied") && strstr(note, "chmod"));
    setenv("CNN_POWERCAP_ROOT", root, 1);
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    o.idle_seconds = 0;
    snprintf(o.out_dir, sizeof o.out_dir, "%s", out_dir);
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    cnn_energy_session *s = NULL;
    CHECK_OK(cnn_energy_start(&o, "cpu", log, &s));
    fclose(log);
    CHECK(logbuf && strstr(logbuf, "permission denied") && strstr(logbuf, "falling back to the estimated cpu-model"));
    CHECK(logbuf && strstr(logbuf, "meter cpu-model") && strstr(logbuf, "estimated"));
    free(logbuf);
    cnn_energy_free(s);
    // Explicitly asking for RAPL is an error that says why.
    snprintf(o.meters, sizeof o.meters, "rapl");
    CHECK(cnn_energy_start(&o, "cpu", NULL, &s) == CNN_ERR_UNSUPPORTED && strstr(cnn_last_error(), "permission"));
    return test_failures;
}

static void test_denied(void) {
    char root[256], out[256];
    make_root(root, sizeof root, "denied");
    make_root(out, sizeof out, "out");
    chmod(out, 0777);
    put(root, "intel-rapl:0", "name", "package-0");
    put_u64(root, "intel-rapl:0", "max_energy_range_uj", MAX_PKG);
    put_u64(root, "intel-rapl:0", "energy_uj", 12345);
    char path[512];
    snprintf(path, sizeof path, "%s/intel-rapl:0/energy_uj", root);
    if (geteuid() != 0) {
        chmod(path, 0000);
        denied_checks(root, out);
    } else {
        chmod(path, 0400); // root-only, as on current kernels
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0) {
                fprintf(stderr, "cannot drop to nobody: %s\n", strerror(errno));
                _exit(2);
            }
            test_failures = 0;
            _exit(denied_checks(root, out) ? 1 : 0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    rm_rf(root);
    rm_rf(out);
}

int main(void) {
    test_delta();
    test_tree();
    test_missing();
    test_denied();
    return test_finish("test_energy_rapl");
}
