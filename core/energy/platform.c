// Hardware description (CPU model, logical CPUs, memory, OS) and file
// helpers: mkdir -p and writes through a temporary file renamed into place.
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/energy/session.h"

void cnn_hw_info_probe(cnn_hw_info *hw) {
    memset(hw, 0, sizeof *hw);
    snprintf(hw->cpu_model, sizeof hw->cpu_model, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) && strncmp(line, "Processor", 9) && strncmp(line, "cpu model", 9))
                continue;
            char *colon = strchr(line, ':');
            if (!colon) continue;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\r\n")] = '\0';
            if (*v) {
                snprintf(hw->cpu_model, sizeof hw->cpu_model, "%s", v);
                break;
            }
        }
        fclose(f);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    hw->logical_cpus = n > 0 ? (int)n : 1;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) hw->ram_gb = (double)pages * (double)page / (1024.0 * 1024.0 * 1024.0);
    struct utsname u;
    if (uname(&u) == 0) snprintf(hw->os, sizeof hw->os, "%.40s-%.64s-%.32s", u.sysname, u.release, u.machine);
    else snprintf(hw->os, sizeof hw->os, "unknown");
}

cnn_status cnn_energy_mkdirs(const char *path) {
    char buf[PATH_MAX];
    if (!path || !*path || strlen(path) >= sizeof buf)
        return cnn_error(CNN_ERR_INVALID_ARG, "bad run directory path '%s'", path ? path : "");
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cnn_error(CNN_ERR_IO, "cannot create directory %s: %s (choose another --out)", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return cnn_error(CNN_ERR_IO, "cannot create directory %s: %s (choose another --out)", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return cnn_error(CNN_ERR_IO, "%s exists and is not a directory (choose another --out)", buf);
    return CNN_OK;
}

cnn_status cnn_energy_write_file(const char *dir, const char *name, void (*fill)(FILE *f, const void *ctx),
                                 const void *ctx) {
    char path[PATH_MAX], tmp[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid()) >= sizeof tmp)
        return cnn_error(CNN_ERR_INVALID_ARG, "run directory path too long: %s", dir);
    const char *inject = getenv("CNN_TEST_FAIL_RECORD"); // test hook: this file's write fails
    if (inject && !strcmp(inject, name))
        return cnn_error(CNN_ERR_IO, "writing %s failed: injected by CNN_TEST_FAIL_RECORD", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    fill(f, ctx);
    int bad = ferror(f);
    if (fflush(f) != 0) bad = 1;
    if (fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS) bad = 1;
    int e = errno;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        return cnn_error(CNN_ERR_IO, "writing %s failed: %s (disk full?)", path, strerror(e ? e : EIO));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return cnn_error(CNN_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return CNN_OK;
}
