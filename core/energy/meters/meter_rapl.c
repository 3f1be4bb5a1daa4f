// RAPL through Linux powercap: /sys/class/powercap/intel-rapl:N (package
// domains) and intel-rapl:N:M named "dram" (DRAM domains), energy_uj in
// microjoules, wrapping at max_energy_range_uj. Core and uncore subzones
// are parts of the package and psys includes it: they are skipped so that
// nothing is counted twice. AMD Zen CPUs expose the same files.
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/energy/meters/meter.h"

typedef struct {
    char path[PATH_MAX];          // .../energy_uj
    unsigned long long max_range; // max_energy_range_uj
    unsigned long long last;      // the previous raw reading
    double total_j;               // accumulated since open
} rapl_ctx;

const char *cnn_rapl_default_root(void) {
    const char *r = getenv("CNN_POWERCAP_ROOT");
    return (r && *r) ? r : "/sys/class/powercap";
}

unsigned long long cnn_rapl_delta(unsigned long long prev, unsigned long long cur, unsigned long long max_range) {
    if (cur >= prev) return cur - prev;
    // The counter wrapped: it ran from prev up to max_range, then from 0 to cur.
    if (max_range >= prev) return (max_range - prev) + cur;
    return cur; // an inconsistent range: count what is certain
}

// Reads the first line of a small file; returns 0 or an errno value.
static int read_line(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    if (!f) return errno ? errno : EIO;
    if (!fgets(buf, (int)len, f)) {
        int e = ferror(f) ? (errno ? errno : EIO) : ENODATA;
        fclose(f);
        return e;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int cnn_rapl_read_u64(const char *path, unsigned long long *v) {
    char buf[64];
    int e = read_line(path, buf, sizeof buf);
    if (e) return e;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (errno || end == buf) return EINVAL;
    *v = x;
    return 0;
}

static cnn_status rapl_read(cnn_meter *m, double *value) {
    rapl_ctx *c = m->ctx;
    unsigned long long v;
    int e = cnn_rapl_read_u64(c->path, &v);
    if (e) return cnn_error(CNN_ERR_IO, "RAPL: cannot read %s: %s", c->path, strerror(e));
    c->total_j += 1e-6 * (double)cnn_rapl_delta(c->last, v, c->max_range);
    c->last = v;
    *value = c->total_j;
    return CNN_OK;
}

static void rapl_close(cnn_meter *m) { free(m->ctx); }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void append_note(char *note, size_t len, const char *fmt, const char *a, const char *b) {
    size_t used = strlen(note);
    if (used + 3 >= len) return;
    if (used) {
        snprintf(note + used, len - used, "; ");
        used += 2;
    }
    snprintf(note + used, len - used, fmt, a, b);
}

// The names of root's "intel-rapl:*" zones, sorted, into names (at most max, strdup'ed); how many.
static int list_zones(const char *root, char **names, int max) {
    DIR *d = opendir(root);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        if (strncmp(de->d_name, "intel-rapl:", 11) != 0) continue;
        names[n] = strdup(de->d_name);
        if (names[n]) n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    return n;
}

// Which meter zone `name` (its "name" file says zname) becomes: 1 with its meter name and
// component (a package or a dram domain), else 0 (core, uncore, psys: parts or sums of those).
static int classify_zone(const char *name, const char *zname, char *mname, size_t mname_len, const char **component,
                         unsigned *package, char *note, size_t note_len) {
    unsigned a, b;
    int len = 0, sub;
    if (sscanf(name, "intel-rapl:%u:%u%n", &a, &b, &len) == 2 && name[len] == '\0') sub = 1;
    else if (len = 0, sscanf(name, "intel-rapl:%u%n", &a, &len) == 1 && name[len] == '\0') sub = 0;
    else return 0;
    *package = a;
    if (!sub && strncmp(zname, "package", 7) == 0) {
        snprintf(mname, mname_len, "rapl:%.26s", zname);
        *component = "cpu";
        return 1;
    }
    if (strcmp(zname, "dram") == 0) {
        snprintf(mname, mname_len, "rapl:dram-%u", a);
        *component = "dram";
        return 1;
    }
    if (!sub && strcmp(zname, "psys") == 0)
        append_note(note, note_len, "RAPL: skipped %s (%s: it includes the package domains)", name, zname);
    return 0;
}

// Opens zone `name` of root as meter m: 0 opened, 1 skipped (noted), EACCES/EPERM denied (path in denied).
static int open_zone(const char *root, const char *name, cnn_meter *m, char *note, size_t note_len, char *denied,
                     size_t denied_len) {
    char path[PATH_MAX], zname[64], mname[32];
    const char *component = NULL;
    unsigned package = 0;
    snprintf(path, sizeof path, "%s/%s/name", root, name);
    if (read_line(path, zname, sizeof zname) != 0) {
        append_note(note, note_len, "RAPL: skipped %s%s (no readable name)", name, "");
        return 1;
    }
    if (!classify_zone(name, zname, mname, sizeof mname, &component, &package, note, note_len)) return 1;
    rapl_ctx *c = calloc(1, sizeof *c);
    if (!c) return 1;
    snprintf(c->path, sizeof c->path, "%s/%s/energy_uj", root, name);
    int e = cnn_rapl_read_u64(c->path, &c->last);
    if (e == EACCES || e == EPERM) {
        snprintf(denied, denied_len, "%s", c->path);
        free(c);
        return e;
    }
    snprintf(path, sizeof path, "%s/%s/max_energy_range_uj", root, name);
    if (e) append_note(note, note_len, "RAPL: skipped %s (energy_uj: %s)", name, strerror(e));
    else if ((e = cnn_rapl_read_u64(path, &c->max_range)) != 0)
        append_note(note, note_len, "RAPL: skipped %s (max_energy_range_uj: %s; wrap-around cannot be handled)", name,
                    strerror(e));
    if (e) {
        free(c);
        return 1;
    }
    memset(m, 0, sizeof *m);
    snprintf(m->info.name, sizeof m->info.name, "%s", mname);
    snprintf(m->info.component, sizeof m->info.component, "%s", component);
    if (strcmp(component, "cpu") == 0) snprintf(m->info.device, sizeof m->info.device, "CPU %s", zname);
    else snprintf(m->info.device, sizeof m->info.device, "DRAM of package %u", package);
    snprintf(m->info.method, sizeof m->info.method, "RAPL energy counter %s/%s/energy_uj (uJ, wraps at %llu)", root,
             name, c->max_range);
    m->info.prov = CNN_PROV_MEASURED_COUNTER;
    m->info.resolution_j = 1e-6;
    m->info.update_period_s = 0.001;
    m->reads_power = 0;
    m->read = rapl_read;
    m->close = rapl_close;
    m->ctx = c;
    return 0;
}

int cnn_meter_rapl_open(const char *root, cnn_meter *out, int max, char *note, size_t note_len) {
    note[0] = '\0';
    char *names[256];
    const int n_names = list_zones(root, names, 256);
    if (n_names < 0) {
        snprintf(note, note_len, "RAPL: %s is absent (no powercap driver here, as on most VMs)", root);
        return 0;
    }
    int opened = 0, denied = 0;
    char denied_path[PATH_MAX] = "";
    for (int i = 0; i < n_names && opened < max && !denied; i++) {
        const int r = open_zone(root, names[i], &out[opened], note, note_len, denied_path, sizeof denied_path);
        if (r == 0) opened++;
        else if (r != 1) denied = 1;
    }
    for (int i = 0; i < n_names; i++) free(names[i]);
    if (denied) {
        for (int i = 0; i < opened; i++) cnn_meter_close(&out[i]);
        snprintf(note, note_len,
                 "RAPL: permission denied reading %s (root-only on current kernels); to measure CPU energy run as root "
                 "or `sudo chmod o+r %s/intel-rapl:*/energy_uj` (until reboot)",
                 denied_path, root);
        return 0;
    }
    if (opened == 0 && note[0] == '\0') snprintf(note, note_len, "RAPL: no package or dram domain under %s", root);
    return opened;
}
