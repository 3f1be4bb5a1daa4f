// File helpers of the run record, the idle cache and the report: mkdir -p,
// and writes through a temporary file renamed into place.
#include "core/energy/common/files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
