// Helpers for the dataset tests (see dataset_test_helpers.h).
#include "dataset_test_helpers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "core/rng.h"
#include "datasets/idx.h"

#ifndef CNN_TEST_SOURCE_DIR
#define CNN_TEST_SOURCE_DIR "tests"
#endif

static void die(const char *what) {
    fprintf(stderr, "test setup failed: %s: %s\n", what, strerror(errno));
    exit(1);
}

// Every path made by dt_path, freed at exit (so LeakSanitizer stays quiet).
static char **paths;
static size_t n_paths, cap_paths;

static void free_paths(void) {
    for (size_t i = 0; i < n_paths; i++) free(paths[i]);
    free(paths);
    paths = NULL;
    n_paths = cap_paths = 0;
}

const char *dt_path(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    if (vasprintf(&p, fmt, ap) < 0) die("vasprintf");
    va_end(ap);
    if (n_paths == cap_paths) {
        if (!paths) atexit(free_paths);
        cap_paths = cap_paths ? 2 * cap_paths : 64;
        char **grown = realloc(paths, cap_paths * sizeof *paths);
        if (!grown) die("realloc");
        paths = grown;
    }
    paths[n_paths++] = p;
    return p;
}

const char *dt_make_temp_dir(const char *tag) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    char *p = (char *)dt_path("%s/cnn-%s-XXXXXX", tmp, tag);
    if (!mkdtemp(p)) die("mkdtemp");
    return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void dt_rm_rf(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

void dt_mkdirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) die(buf);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) die(buf);
}

void dt_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) die(path);
    if (len && fwrite(data, 1, len, f) != len) die(path);
    if (fclose(f) != 0) die(path);
}

void dt_write_gz(const char *path, const void *data, size_t len) {
    gzFile g = gzopen(path, "wb");
    if (!g) die(path);
    if (len && gzwrite(g, data, (unsigned)len) != (int)len) die(path);
    if (gzclose(g) != Z_OK) die(path);
}

uint8_t *dt_read_file(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    *len = buf ? n : 0;
    return buf;
}

int dt_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int dt_count_entries(const char *dir, const char *substr) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (!substr || strstr(e->d_name, substr)) n++;
    }
    closedir(d);
    return n;
}

size_t dt_idx_bytes(uint8_t *buf, size_t cap, uint8_t type, int ndim, const uint32_t *dims, const uint8_t *payload,
                    size_t payload_len) {
    size_t hdr = 4 + 4 * (size_t)ndim;
    if (hdr + payload_len > cap) {
        fprintf(stderr, "dt_idx_bytes: buffer too small\n");
        exit(1);
    }
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = type;
    buf[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        buf[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        buf[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        buf[7 + 4 * i] = (uint8_t)dims[i];
    }
    if (payload_len) memcpy(buf + hdr, payload, payload_len);
    return hdr + payload_len;
}

void dt_tiny_make(dt_tiny *t, int n_train, int n_test, int rows, int cols, uint64_t seed) {
    cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    t->n_train = n_train;
    t->n_test = n_test;
    t->rows = rows;
    t->cols = cols;
    size_t d = (size_t)rows * cols;
    t->train_images = malloc((size_t)n_train * d);
    t->train_labels = malloc((size_t)n_train);
    t->test_images = malloc((size_t)n_test * d);
    t->test_labels = malloc((size_t)n_test);
    if (!t->train_images || !t->train_labels || !t->test_images || !t->test_labels) die("malloc");
    for (size_t i = 0; i < (size_t)n_train * d; i++) t->train_images[i] = (uint8_t)cnn_rng_u64(&rng);
    for (int i = 0; i < n_train; i++) t->train_labels[i] = (uint8_t)(cnn_rng_u64(&rng) % 10);
    for (size_t i = 0; i < (size_t)n_test * d; i++) t->test_images[i] = (uint8_t)cnn_rng_u64(&rng);
    for (int i = 0; i < n_test; i++) t->test_labels[i] = (uint8_t)(cnn_rng_u64(&rng) % 10);
}

void dt_tiny_free(dt_tiny *t) {
    free(t->train_images);
    free(t->train_labels);
    free(t->test_images);
    free(t->test_labels);
    memset(t, 0, sizeof *t);
}

static void write_idx(const char *dir, const char *stem, int gz, int ndim, uint32_t d0, uint32_t d1, uint32_t d2,
                      uint8_t *data) {
    cnn_idx idx = {ndim, {d0, d1, d2}, (size_t)d0 * (ndim == 3 ? (size_t)d1 * d2 : 1), data};
    const char *path = dt_path("%s/%s%s", dir, stem, gz ? ".gz" : "");
    if (cnn_idx_write(path, &idx, gz) != CNN_OK) {
        fprintf(stderr, "test setup failed: %s\n", cnn_last_error());
        exit(1);
    }
}

void dt_tiny_write(const dt_tiny *t, const char *dir, int gz) {
    dt_mkdirs(dir);
    write_idx(dir, "train-images-idx3-ubyte", gz, 3, (uint32_t)t->n_train, (uint32_t)t->rows, (uint32_t)t->cols,
              t->train_images);
    write_idx(dir, "train-labels-idx1-ubyte", gz, 1, (uint32_t)t->n_train, 0, 0, t->train_labels);
    write_idx(dir, "t10k-images-idx3-ubyte", gz, 3, (uint32_t)t->n_test, (uint32_t)t->rows, (uint32_t)t->cols,
              t->test_images);
    write_idx(dir, "t10k-labels-idx1-ubyte", gz, 1, (uint32_t)t->n_test, 0, 0, t->test_labels);
}

int dt_server_start(dt_server *srv, const char *root) {
    srv->pid = -1;
    srv->port = 0;
    int fds[2];
    if (pipe(fds) != 0) die("pipe");
    const char *script = CNN_TEST_SOURCE_DIR "/http_server.py";
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", script, "--root", root, "--timeout", "120", (char *)NULL);
        fprintf(stderr, "cannot run python3 %s: %s\n", script, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    // The server prints "PORT <n>" once it listens; wait up to 20 s.
    char line[64] = "";
    size_t used = 0;
    struct pollfd p = {fds[0], POLLIN, 0};
    while (used < sizeof line - 1 && !strchr(line, '\n')) {
        if (poll(&p, 1, 20000) <= 0) break;
        ssize_t n = read(fds[0], line + used, sizeof line - 1 - used);
        if (n <= 0) break;
        used += (size_t)n;
        line[used] = '\0';
    }
    close(fds[0]);
    if (sscanf(line, "PORT %d", &srv->port) != 1 || srv->port <= 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return 0;
    }
    srv->pid = pid;
    return 1;
}

void dt_server_stop(dt_server *srv) {
    if (srv->pid > 0) {
        kill(srv->pid, SIGTERM);
        waitpid(srv->pid, NULL, 0);
    }
    srv->pid = -1;
}

int dt_closed_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0)
        die("bind");
    close(s);
    return ntohs(a.sin_port);
}
