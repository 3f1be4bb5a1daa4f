// Gzip bombs against the IDX reader, each read in a child process whose
// address space is limited (RLIMIT_AS) to what it uses now plus 256 MiB: the
// reader must answer with a clean error, never be killed, and never inflate
// more than the header promises. The bombs are a few MB on disk: a gzip
// member holding 1 MiB of zeros (about 1 kB) repeated, which a reader takes
// as one stream (concatenated members are valid gzip).
//
// Not built under ASan: its shadow memory does not fit an RLIMIT_AS.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset_test_helpers.h"
#include "datasets/idx.h"
#include "test_util.h"

#define MiB (1ull << 20)
static const unsigned long long HEADROOM = 256 * MiB;

static const char *dir;

// len bytes of data compressed (zlib, level 9) into one gzip member, ended
// by `flush` (Z_FINISH: a complete member); returns it and its length.
static uint8_t *member(const void *data, size_t len, int flush, size_t *out_len) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    size_t cap = len + len / 100 + 1024;
    uint8_t *out = malloc(cap);
    if (!out || deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        fprintf(stderr, "zlib: cannot set up deflate\n");
        exit(1);
    }
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int ret = deflate(&zs, flush);
    if (ret != (flush == Z_FINISH ? Z_STREAM_END : Z_OK)) {
        fprintf(stderr, "zlib: deflate failed (%d)\n", ret);
        exit(1);
    }
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static void put(FILE *f, const void *data, size_t len) {
    if (fwrite(data, 1, len, f) != len) {
        perror("fwrite");
        exit(1);
    }
}

// Writes dir/name: one gzip member with the IDX header (ndim, dims) and
// body_len bytes of 0x01, then `zeros` MiB of zeros in 1 MiB members.
static const char *put_bomb(const char *name, int ndim, const uint32_t *dims, size_t body_len, unsigned zeros) {
    static uint8_t head[1 << 16], zero_mib[1 << 20];
    uint8_t *body = malloc(body_len + 1);
    memset(body, 1, body_len + 1);
    size_t len = dt_idx_bytes(head, sizeof head, CNN_IDX_TYPE_U8, ndim, dims, body, body_len);
    free(body);
    const char *path = dt_path("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t n;
    uint8_t *m = member(head, len, Z_FINISH, &n);
    put(f, m, n);
    free(m);
    m = member(zero_mib, sizeof zero_mib, Z_FINISH, &n);
    for (unsigned i = 0; i < zeros; i++) put(f, m, n);
    free(m);
    fclose(f);
    return path;
}

// This process's address-space size in bytes (VmSize), 0 when unknown.
static unsigned long long vm_size(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb * 1024;
}

typedef struct {
    int status;        // the cnn_status cnn_idx_read returned; -1 when the child died
    char message[512]; // its message, or how the child died
} outcome;

// Reads path in a child limited to its present address space + HEADROOM.
static outcome read_limited(const char *path) {
    outcome o = {-1, ""};
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(1);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct rlimit rl = {vm_size() + HEADROOM, vm_size() + HEADROOM};
        outcome c = {-1, ""};
        if (setrlimit(RLIMIT_AS, &rl) != 0) {
            snprintf(c.message, sizeof c.message, "setrlimit failed");
        } else {
            cnn_idx idx;
            c.status = (int)cnn_idx_read(path, 0, &idx);
            snprintf(c.message, sizeof c.message, "%s", c.status == CNN_OK ? "" : cnn_last_error());
            cnn_idx_free(&idx);
        }
        ssize_t w = write(fds[1], &c, sizeof c);
        _exit(w == (ssize_t)sizeof c ? 0 : 1);
    }
    close(fds[1]);
    ssize_t r = pid > 0 ? read(fds[0], &o, sizeof o) : -1;
    close(fds[0]);
    int ws = 0;
    if (pid > 0) waitpid(pid, &ws, 0);
    if (pid < 0 || r != (ssize_t)sizeof o || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        o.status = -1;
        snprintf(o.message, sizeof o.message, "the reader's process died (%s %d)",
                 WIFSIGNALED(ws) ? "signal" : "exit status", WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
    }
    return o;
}

static void expect(const char *what, const char *path, cnn_status want, const char *substr) {
    outcome o = read_limited(path);
    if (o.status != (int)want || !strstr(o.message, substr)) {
        fprintf(stderr, "FAIL %s: wanted %s with \"%s\", got status %d: %s\n", what, cnn_status_name(want), substr,
                o.status, o.message);
        test_failures++;
    }
}

int main(void) {
    if (vm_size() == 0) test_skip("no VmSize in /proc/self/status: cannot set a memory limit relative to it");
    dir = dt_make_temp_dir("idx-bomb");

    // A header over the 1 GiB cap (8192 images of 512x512 = 2 GiB, each
    // dimension allowed) before 4 GiB of zeros: refused from the header
    // alone. A reader that inflated first would run out of memory.
    const uint32_t over[3] = {8192, 512, 512};
    expect("header over the cap", put_bomb("over-cap.gz", 3, over, 0, 4096), CNN_ERR_FORMAT,
           "above the limit of 1073741824 bytes");

    // 10 labels, then 4 GiB of zeros: trailing data, found at the first
    // extra byte (a reader that counted the rest would inflate gigabytes).
    const uint32_t ten[1] = {10};
    expect("gigabytes after a small header", put_bomb("trailing.gz", 1, ten, 10, 4096), CNN_ERR_FORMAT,
           "trailing data: more bytes after the 10 data bytes");

    // The reader stops at the first byte past the promised data: 10 labels
    // and one byte more, flushed, then bytes that are not deflate data. A
    // reader that went on would report the corruption instead.
    {
        uint8_t b[64];
        uint8_t labels[11] = {0};
        size_t len = dt_idx_bytes(b, sizeof b, CNN_IDX_TYPE_U8, 1, ten, labels, 11);
        const char *path = dt_path("%s/stop-early.gz", dir);
        FILE *f = fopen(path, "wb");
        size_t n;
        uint8_t *m = member(b, len, Z_SYNC_FLUSH, &n);
        put(f, m, n);
        free(m);
        const uint8_t junk[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        put(f, junk, sizeof junk);
        fclose(f);
        expect("stop at the first extra byte", path, CNN_ERR_FORMAT, "trailing data: more bytes after the 10 data bytes");
    }

    // A header at the cap (16384 images of 256x256 = 1 GiB) and that much
    // data: a valid file, but more than the 256 MiB this child may use. A
    // clean out-of-memory error, not a kill.
    const uint32_t at_cap[3] = {16384, 256, 256};
    expect("at the cap, over the memory limit", put_bomb("at-cap.gz", 3, at_cap, 0, 1024), CNN_ERR_NOMEM,
           "out of memory");

    if (!test_failures) dt_rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return test_finish("test_idx_bomb");
}
