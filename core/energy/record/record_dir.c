// The run directory: one run's, locked while it runs, its record checked as a whole.
#include "core/energy/record/record_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/energy/common/files.h"

// The names a record is made of: any of them means the directory holds (part of) a run's record.
static const char *const record_names[] = {"run.json", "epochs.csv", "power.csv", "emissions.csv", "checkpoint.bin"};

// The first prefix of dir (at a '/', or dir itself) that does not exist: what mkdir -p dir would create first.
static void first_missing(const char *dir, char *out, size_t len) {
    out[0] = '\0';
    struct stat st;
    for (size_t i = 1;; i++) {
        if (dir[i] != '/' && dir[i] != '\0') continue;
        if (i < len) {
            memcpy(out, dir, i);
            out[i] = '\0';
            if (stat(out, &st) != 0) return;
        }
        if (dir[i] == '\0') break;
    }
    out[0] = '\0';
}

cnn_status cnn_record_dir_claim(const char *dir, int resuming, int *lock_fd, char *created, size_t len) {
    *lock_fd = -1;
    first_missing(dir, created, len);
    CNN_TRY(cnn_energy_mkdirs(dir));
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, CNN_RECORD_LOCK) >= sizeof path)
        return cnn_error(CNN_ERR_INVALID_ARG, "run directory path too long: %s (choose another --out)", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return cnn_error(CNN_ERR_IO, "cannot write in %s: %s: choose another --out", dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return cnn_error(CNN_ERR_IO, "%s is in use by another cnn-train run (it holds %s): choose another --out",
                             dir, path);
        return cnn_error(CNN_ERR_IO, "cannot lock %s: %s: choose another --out", path, strerror(e));
    }
    if (!resuming)
        for (size_t i = 0; i < sizeof record_names / sizeof record_names[0]; i++) {
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, record_names[i]);
            if (stat(path, &st) == 0) {
                close(fd);
                return cnn_error(CNN_ERR_IO,
                                 "%s already holds the record of another run (%s): a record is never overwritten; "
                                 "choose another --out, or continue that run with cnn-train resume %s",
                                 dir, record_names[i], dir);
            }
        }
    *lock_fd = fd;
    return CNN_OK;
}

void cnn_record_dir_release(const char *dir, int lock_fd, int remove_if_empty, const char *created) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, CNN_RECORD_LOCK);
    if (lock_fd >= 0) unlink(path); // only our own lock file, while we hold it: a finished record has none left
    if (lock_fd >= 0) close(lock_fd);
    if (!remove_if_empty || !created || !created[0]) return;
    // dir, then each parent up to the first one the claim created; rmdir removes only an empty directory
    snprintf(path, sizeof path, "%s", dir);
    const size_t stop = strlen(created);
    for (size_t n = strlen(path); n >= stop && rmdir(path) == 0 && n > stop;) {
        while (n > stop && path[n - 1] != '/') n--; // drop the last component
        while (n > stop && path[n - 1] == '/') n--;
        path[n] = '\0';
    }
}

cnn_status cnn_record_file_sum(const char *dir, const char *name, cnn_record_file *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    uint64_t h = 14695981039346656037ull;
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ull;
        out->bytes += (long long)n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return cnn_error(CNN_ERR_IO, "reading %s failed", path);
    out->fnv1a64 = h;
    return CNN_OK;
}

void cnn_record_write_files(cnn_json_writer *w, const cnn_record_file *files, int n) {
    cnn_jw_object(w, "files");
    for (int i = 0; i < n; i++) {
        char hex[20];
        snprintf(hex, sizeof hex, "%016" PRIx64, files[i].fnv1a64);
        cnn_jw_object(w, files[i].name);
        cnn_jw_int(w, "bytes", files[i].bytes);
        cnn_jw_string(w, "fnv1a64", hex);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_object(w);
}

cnn_status cnn_record_verify(const char *dir, const cnn_json *run) {
    const cnn_json *files = cnn_json_get(run, "files");
    const char *id = cnn_json_str(cnn_json_get(run, "run_id"), "?");
    for (size_t i = 1; i < sizeof record_names / sizeof record_names[0]; i++) {
        const cnn_json *want = cnn_json_get(files, record_names[i]);
        if (!files || !want) continue;
        cnn_record_file got;
        char hex[20] = "";
        if (cnn_record_file_sum(dir, record_names[i], &got) == CNN_OK)
            snprintf(hex, sizeof hex, "%016" PRIx64, got.fnv1a64);
        if (!hex[0] || (long long)cnn_json_num(cnn_json_get(want, "bytes")) != got.bytes ||
            strcmp(cnn_json_str(cnn_json_get(want, "fnv1a64"), ""), hex) != 0)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s/%s is %s the one run.json (run %s) names: the directory mixes files of different "
                             "writes (a failed rewrite, or a file copied from another run); rerun into a new --out",
                             dir, record_names[i], hex[0] ? "not" : "missing, not", id);
    }
    return CNN_OK;
}
