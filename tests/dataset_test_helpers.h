// Helpers for the dataset tests: temporary directories, small files, tiny
// generated IDX datasets, checks on error status and message, and the
// local HTTP server (tests/http_server.py) the download tests talk to.
#ifndef CNN_DATASET_TEST_HELPERS_H
#define CNN_DATASET_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "core/status.h"
#include "test_util.h"

// Fails the test unless expr returns want and the message contains substr.
#define CHECK_FAILS(expr, want, substr)                                                                                \
    do {                                                                                                               \
        cnn_status check_fails_s_ = (expr);                                                                            \
        if (check_fails_s_ != (want) || !strstr(cnn_last_error(), (substr))) {                                         \
            fprintf(stderr, "%s:%d: %s: want %s with \"%s\", got %s: %s\n", __FILE__, __LINE__, #expr,                 \
                    cnn_status_name(want), (substr), cnn_status_name(check_fails_s_), cnn_last_error());               \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

// Fails the test unless the last error message contains substr.
#define CHECK_MSG(substr)                                                                                              \
    do {                                                                                                               \
        if (!strstr(cnn_last_error(), (substr))) {                                                                     \
            fprintf(stderr, "%s:%d: message lacks \"%s\": %s\n", __FILE__, __LINE__, (substr), cnn_last_error());      \
            test_failures++;                                                                                           \
        }                                                                                                              \
    } while (0)

// Creates a fresh directory under $TMPDIR (or /tmp) named after tag; exits on failure.
const char *dt_make_temp_dir(const char *tag);
// Removes path and everything under it.
void dt_rm_rf(const char *path);
// mkdir -p for the test's own directories; exits on failure.
void dt_mkdirs(const char *path);
// printf into a new static-lifetime path string (kept until exit).
const char *dt_path(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

// Writes len bytes to path (plainly, not atomically); exits on failure.
void dt_write_file(const char *path, const void *data, size_t len);
// Writes data gzip-compressed with zlib's gz* API (independent of cnn_idx_write).
void dt_write_gz(const char *path, const void *data, size_t len);
// Reads the whole file; returns NULL (and *len 0) when it cannot. Caller frees.
uint8_t *dt_read_file(const char *path, size_t *len);
int dt_exists(const char *path);
// Number of entries in dir whose names contain substr (NULL: all entries).
int dt_count_entries(const char *dir, const char *substr);

// An IDX image into buf: header (type, ndim, dims) then payload; returns the length.
size_t dt_idx_bytes(uint8_t *buf, size_t cap, uint8_t type, int ndim, const uint32_t *dims, const uint8_t *payload,
                    size_t payload_len);

// A tiny generated dataset: n_train / n_test images of rows x cols with
// pixels and labels (< 10) from seed, in memory.
typedef struct {
    int n_train, n_test, rows, cols;
    uint8_t *train_images, *train_labels, *test_images, *test_labels;
} dt_tiny;
void dt_tiny_make(dt_tiny *t, int n_train, int n_test, int rows, int cols, uint64_t seed);
void dt_tiny_free(dt_tiny *t);
// Writes the four IDX files of t into dir (created), with .gz names and
// gzip content when gz, else uncompressed names and content.
void dt_tiny_write(const dt_tiny *t, const char *dir, int gz);

// A running tests/http_server.py serving root on 127.0.0.1.
typedef struct {
    pid_t pid;
    int port;
} dt_server;
// Starts the server; returns 0 when it could not start (no python3).
int dt_server_start(dt_server *srv, const char *root);
void dt_server_stop(dt_server *srv);
// A port on 127.0.0.1 where nothing listens (bound, then closed).
int dt_closed_port(void);

#endif
