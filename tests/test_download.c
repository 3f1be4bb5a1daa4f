// Downloads against tests/http_server.py on 127.0.0.1 (never the internet):
// a good file, a wrong checksum, a truncated body, a 404, a closed port,
// mirror fall-back and redirects; then cnn_dataset_load end to end with the
// mirror and checksums pointed at generated files.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "dataset_test_helpers.h"
#include "datasets/dataset.h"
#include "datasets/download.h"
#include "datasets/md5.h"
#include "test_util.h"

static dt_server srv;
static const char *root;

// Sends stderr to a file until capture_end, which returns what was written (caller frees).
static int saved_stderr = -1;
static const char *capture_path;

static void capture_begin(void) {
    fflush(stderr);
    capture_path = dt_path("%s/stderr-%d.txt", root, rand());
    saved_stderr = dup(STDERR_FILENO);
    FILE *f = fopen(capture_path, "wb");
    if (!f || saved_stderr < 0) {
        fprintf(stderr, "cannot capture stderr\n");
        exit(1);
    }
    dup2(fileno(f), STDERR_FILENO);
    fclose(f);
}

static char *capture_end(void) {
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    size_t len;
    uint8_t *b = dt_read_file(capture_path, &len);
    char *text = malloc(len + 1);
    if (b) memcpy(text, b, len);
    text[len] = '\0';
    free(b);
    remove(capture_path);
    return text;
}

static const char *url(const char *fmt_path) { return dt_path("http://127.0.0.1:%d/%s", srv.port, fmt_path); }

// No finished file and no temporary file of `name` in dir.
static void expect_nothing_left(const char *dir, const char *name) {
    CHECK(!dt_exists(dt_path("%s/%s", dir, name)));
    CHECK(dt_count_entries(dir, ".part") == 0);
}

static void test_download_files(const uint8_t *blob, size_t blob_len, const char *md5) {
    const cnn_download_options quiet = {5, 10, 1};
    const char *dst = dt_path("%s/dl/nested/dir", root); // does not exist yet: created
    cnn_download_item good = {"blob.bin", md5};

    // Our MD5 agrees with Python's hashlib: /md5/blob.bin serves hashlib's hex
    // digest of the blob, which must equal ours byte for byte.
    {
        const char *md5_dir = dt_path("%s/md5", root);
        const char *bases[1] = {url("md5/")};
        char text_md5[33];
        cnn_md5_buffer_hex(md5, 32, text_md5);
        cnn_download_item it = {"blob.bin", text_md5};
        CHECK_OK(cnn_download_files(bases, 1, &it, 1, md5_dir, &quiet));
        size_t len;
        uint8_t *got = dt_read_file(dt_path("%s/blob.bin", md5_dir), &len);
        CHECK(got && len == 32 && memcmp(got, md5, 32) == 0);
        free(got);
    }

    // A good download: the file appears with the right bytes, no temporary file remains.
    const char *bases_good[1] = {url("files/")};
    CHECK_OK(cnn_download_files(bases_good, 1, &good, 1, dst, &quiet));
    size_t len;
    uint8_t *got = dt_read_file(dt_path("%s/blob.bin", dst), &len);
    CHECK(got && len == blob_len && memcmp(got, blob, blob_len) == 0);
    free(got);
    CHECK(dt_count_entries(dst, NULL) == 1);
    remove(dt_path("%s/blob.bin", dst));

    // A base URL without the trailing slash works the same.
    const char *bases_noslash[1] = {url("files")};
    CHECK_OK(cnn_download_files(bases_noslash, 1, &good, 1, dst, &quiet));
    CHECK(dt_exists(dt_path("%s/blob.bin", dst)));
    remove(dt_path("%s/blob.bin", dst));

    // A wrong checksum: CNN_ERR_CHECKSUM naming both values, nothing kept.
    cnn_download_item wrong = {"blob.bin", "0123456789abcdef0123456789abcdef"};
    CHECK_FAILS(cnn_download_files(bases_good, 1, &wrong, 1, dst, &quiet), CNN_ERR_CHECKSUM,
                "MD5 mismatch: expected 0123456789abcdef0123456789abcdef, got ");
    CHECK_MSG(md5);
    expect_nothing_left(dst, "blob.bin");

    // A body cut short of its Content-Length.
    const char *bases_trunc[1] = {url("truncated/")};
    CHECK_FAILS(cnn_download_files(bases_trunc, 1, &good, 1, dst, &quiet), CNN_ERR_NETWORK, "truncated");
    CHECK_MSG("blob.bin");
    expect_nothing_left(dst, "blob.bin");

    // 404 and 500.
    cnn_download_item missing = {"no-such-file.bin", md5};
    CHECK_FAILS(cnn_download_files(bases_good, 1, &missing, 1, dst, &quiet), CNN_ERR_NETWORK, "HTTP 404");
    expect_nothing_left(dst, "no-such-file.bin");
    const char *bases_500[1] = {url("status/500/")};
    CHECK_FAILS(cnn_download_files(bases_500, 1, &good, 1, dst, &quiet), CNN_ERR_NETWORK, "HTTP 500");
    expect_nothing_left(dst, "blob.bin");

    // A closed port: connection refused, said clearly.
    int closed = dt_closed_port();
    const char *bases_closed[1] = {dt_path("http://127.0.0.1:%d/", closed)};
    CHECK_FAILS(cnn_download_files(bases_closed, 1, &good, 1, dst, &quiet), CNN_ERR_NETWORK,
                dt_path("http://127.0.0.1:%d/blob.bin: ", closed));
    CHECK_MSG("onnect"); // libcurl: "Failed to connect ... Couldn't connect to server"
    CHECK_MSG("check the network connection");
    expect_nothing_left(dst, "blob.bin");
    CHECK(dt_exists(dst)); // it was there before this attempt: kept

    // A failed download into a directory it had to create removes what it
    // created (fresh/a/b), and nothing that was there before (root).
    {
        const char *fresh = dt_path("%s/fresh", root), *deep = dt_path("%s/fresh/a/b", root);
        CHECK_FAILS(cnn_download_files(bases_closed, 1, &good, 1, deep, &quiet), CNN_ERR_NETWORK, "blob.bin");
        CHECK(!dt_exists(fresh) && dt_exists(root));
        // With a trailing slash and doubled slashes, the same.
        CHECK(cnn_download_files(bases_closed, 1, &good, 1, dt_path("%s/fresh//a/b/", root), &quiet) ==
              CNN_ERR_NETWORK);
        CHECK(!dt_exists(fresh));
        // Only the part it created: fresh/ made beforehand stays, a/b goes.
        dt_mkdirs(fresh);
        CHECK(cnn_download_files(bases_closed, 1, &good, 1, deep, &quiet) == CNN_ERR_NETWORK);
        CHECK(dt_exists(fresh) && !dt_exists(dt_path("%s/fresh/a", root)));
        // A created directory that holds a file after the failure is kept:
        // the first of two items arrives, the second fails.
        cnn_download_item two[2] = {good, missing};
        CHECK(cnn_download_files(bases_good, 1, two, 2, deep, &quiet) == CNN_ERR_NETWORK);
        CHECK(dt_exists(dt_path("%s/blob.bin", deep)) && dt_count_entries(deep, NULL) == 1);
        dt_rm_rf(fresh);
    }

    // Mirrors are tried in order: a refused one, a 404 one, a bad-checksum one
    // (a different file under the same name), then a good one.
    {
        const char *other = dt_path("%s/other", root);
        dt_mkdirs(other);
        dt_write_file(dt_path("%s/blob.bin", other), "not the blob", 12);
        const char *bases[4] = {bases_closed[0], url("files/nowhere/"), url("files/other/"), url("files/")};
        CHECK_OK(cnn_download_files(bases, 4, &good, 1, dst, &quiet));
        got = dt_read_file(dt_path("%s/blob.bin", dst), &len);
        CHECK(got && len == blob_len && memcmp(got, blob, blob_len) == 0);
        free(got);
        remove(dt_path("%s/blob.bin", dst));
        // Without the good one, the checksum failure wins and every mirror is named.
        CHECK_FAILS(cnn_download_files(bases, 3, &good, 1, dst, &quiet), CNN_ERR_CHECKSUM, "MD5 mismatch");
        CHECK_MSG("HTTP 404");
        CHECK_MSG(bases_closed[0]);
        expect_nothing_left(dst, "blob.bin");
    }

    // Redirects are followed.
    const char *bases_redirect[1] = {url("redirect/")};
    CHECK_OK(cnn_download_files(bases_redirect, 1, &good, 1, dst, &quiet));
    CHECK(dt_exists(dt_path("%s/blob.bin", dst)));
    remove(dt_path("%s/blob.bin", dst));

    // Several files in one call: all or a clear failure on the first bad one.
    {
        cnn_download_item two[2] = {good, {"tiny.txt", "9e107d9d372bb6826bd81d3542a419d6"}};
        dt_write_file(dt_path("%s/tiny.txt", root), "The quick brown fox jumps over the lazy dog", 43);
        CHECK_OK(cnn_download_files(bases_good, 1, two, 2, dst, &quiet));
        CHECK(dt_exists(dt_path("%s/blob.bin", dst)) && dt_exists(dt_path("%s/tiny.txt", dst)));
    }

    // Bad arguments and a destination that cannot be created.
    cnn_download_item bad_md5 = {"blob.bin", "xyz"};
    CHECK_FAILS(cnn_download_files(bases_good, 1, &bad_md5, 1, dst, &quiet), CNN_ERR_INVALID_ARG, "32 hex digits");
    cnn_download_item slash = {"a/b", md5};
    CHECK_FAILS(cnn_download_files(bases_good, 1, &slash, 1, dst, &quiet), CNN_ERR_INVALID_ARG, "file name");
    CHECK(cnn_download_files(bases_good, 0, &good, 1, dst, &quiet) == CNN_ERR_INVALID_ARG);
    const char *blocker = dt_path("%s/a-file", root);
    dt_write_file(blocker, "x", 1);
    CHECK_FAILS(cnn_download_files(bases_good, 1, &good, 1, dt_path("%s/sub", blocker), &quiet), CNN_ERR_IO,
                "cannot create directory");
}

// The four .gz names and the MD5s of generated files under srv_dir.
static const char *const gz_names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

static const char *md5_env(const char *dir) {
    char *env = malloc(4 * 64 + 8);
    env[0] = '\0';
    for (int i = 0; i < 4; i++) {
        char hex[33];
        if (cnn_md5_file_hex(dt_path("%s/%s", dir, gz_names[i]), hex) != CNN_OK) {
            fprintf(stderr, "%s\n", cnn_last_error());
            exit(1);
        }
        strcat(env, i ? " " : "");
        strcat(env, gz_names[i]);
        strcat(env, "=");
        strcat(env, hex);
    }
    return env;
}

static void test_dataset_download(void) {
    // Files served at /files/tiny/: a generated "mnist" of 9 + 4 images of 6x5.
    dt_tiny t;
    dt_tiny_make(&t, 9, 4, 6, 5, 77);
    const char *tiny = dt_path("%s/tiny", root);
    dt_tiny_write(&t, tiny, 1);
    const char *env = md5_env(tiny);

    // A clean environment: nothing set, an empty system dir, a fresh HOME.
    const char *home = dt_path("%s/home", root);
    const char *empty_sys = dt_path("%s/empty-sys", root);
    dt_mkdirs(home);
    dt_mkdirs(empty_sys);
    unsetenv("CNN_DATA_DIR");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("CNN_DATASET_MD5");
    setenv("HOME", home, 1);
    setenv("CNN_SYSTEM_DATA_DIR", empty_sys, 1);
    setenv("CNN_DATASET_MIRROR", url("files/tiny/"), 1);
    const char *cache = dt_path("%s/.cache/cnn-train/mnist", home);
    cnn_dataset_options opt = {NULL, 1, 1};
    cnn_dataset ds;

    // With MNIST's published checksums these files are rejected and nothing is kept.
    CHECK_FAILS(cnn_dataset_load("mnist", &opt, &ds), CNN_ERR_CHECKSUM,
                "MD5 mismatch: expected f68b3c2dcbeaaa9fbdd348bbdeb94873");
    CHECK_MSG("mnist: dataset files not found");
    CHECK(dt_count_entries(cache, NULL) == 0);

    // A malformed checksum override is reported as such.
    setenv("CNN_DATASET_MD5", "train-images-idx3-ubyte.gz=123", 1);
    CHECK_FAILS(cnn_dataset_load("mnist", &opt, &ds), CNN_ERR_INVALID_ARG, "CNN_DATASET_MD5");

    // With the right checksums: downloaded into the cache, verified, loaded.
    setenv("CNN_DATASET_MD5", env, 1);
    capture_begin();
    cnn_status st = cnn_dataset_load("mnist", &opt, &ds);
    char *said = capture_end();
    CHECK_OK(st);
    CHECK(said[0] == '\0'); // quiet: not a word on stderr
    free(said);
    CHECK(strcmp(ds.dir, cache) == 0);
    CHECK(ds.train.n == 9 && ds.test.n == 4 && ds.train.rows == 6 && ds.train.cols == 5);
    CHECK(ds.train.images && memcmp(ds.train.images, t.train_images, 9 * 30) == 0);
    CHECK(ds.test.labels && memcmp(ds.test.labels, t.test_labels, 4) == 0);
    cnn_dataset_free(&ds);
    CHECK(dt_count_entries(cache, ".gz") == 4 && dt_count_entries(cache, NULL) == 4);

    // A second load uses the cache: the mirror is now a closed port.
    int closed = dt_closed_port();
    setenv("CNN_DATASET_MIRROR", dt_path("http://127.0.0.1:%d/", closed), 1);
    CHECK_OK(cnn_dataset_load("mnist", &opt, &ds));
    CHECK(ds.train.n == 9);
    cnn_dataset_free(&ds);

    // Only what the cache lacks is downloaded: /files/half/ serves just the two
    // missing files, so fetching any other would fail with 404.
    {
        const char *half = dt_path("%s/half", root);
        dt_mkdirs(half);
        for (int i = 1; i < 4; i += 2) {
            size_t len;
            uint8_t *b = dt_read_file(dt_path("%s/%s", tiny, gz_names[i]), &len);
            dt_write_file(dt_path("%s/%s", half, gz_names[i]), b, len);
            free(b);
            remove(dt_path("%s/%s", cache, gz_names[i]));
        }
        setenv("CNN_DATASET_MIRROR", url("files/half/"), 1);
        cnn_dataset_options loud = {NULL, 1, 0};
        capture_begin();
        st = cnn_dataset_load("mnist", &loud, &ds);
        said = capture_end();
        CHECK_OK(st);
        // Not quiet: it says what it fetches, from where, and that the MD5 was checked.
        CHECK(strstr(said, "downloading 2 file(s) into") != NULL);
        CHECK(strstr(said, url("files/half/train-labels-idx1-ubyte.gz")) != NULL);
        CHECK(strstr(said, "MD5") != NULL && strstr(said, "verified") != NULL);
        CHECK(strstr(said, "train-images-idx3-ubyte.gz") == NULL); // present already: not fetched
        free(said);
        CHECK(ds.train.n == 9 && ds.test.n == 4);
        cnn_dataset_free(&ds);
        CHECK(dt_count_entries(cache, NULL) == 4);
    }

    // Offline (a refused connection), nothing anywhere: one message with the
    // missing files, every place looked in, how to supply them and the error.
    const char *home2 = dt_path("%s/home2", root);
    dt_mkdirs(home2);
    setenv("HOME", home2, 1);
    setenv("CNN_DATASET_MIRROR", dt_path("http://127.0.0.1:%d/", closed), 1);
    CHECK_FAILS(cnn_dataset_load("fashion-mnist", &opt, &ds), CNN_ERR_NETWORK,
                "fashion-mnist: dataset files not found: missing train-images-idx3-ubyte[.gz], "
                "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]");
    CHECK_MSG("$CNN_DATA_DIR/fashion-mnist (not set)");
    CHECK_MSG(dt_path("%s/fashion-mnist (no such directory)", empty_sys));
    CHECK_MSG(dt_path("%s/.cache/cnn-train/fashion-mnist (no such directory)", home2));
    CHECK_MSG("--data-dir DIR");
    CHECK_MSG("apt-get install dataset-fashion-mnist");
    CHECK_MSG("The download failed: train-images-idx3-ubyte.gz: download failed");
    CHECK_MSG(dt_path("127.0.0.1:%d", closed));
    CHECK(strchr(cnn_last_error(), '\n') == NULL);
    CHECK(ds.train.images == NULL);
    // The failed attempt leaves no cache directory behind: it created
    // .cache/cnn-train/fashion-mnist in the fresh HOME, and removes all three.
    CHECK(!dt_exists(dt_path("%s/.cache", home2)) && dt_exists(home2));

    // $CNN_DATA_DIR with the files wins over downloading (no network needed).
    setenv("CNN_DATA_DIR", root, 1); // root/tiny is not root/mnist: passed over
    CHECK(cnn_dataset_load("mnist", &opt, &ds) == CNN_ERR_NETWORK);
    setenv("CNN_DATA_DIR", dt_path("%s/as-data-dir", root), 1);
    dt_tiny_write(&t, dt_path("%s/as-data-dir/mnist", root), 0);
    CHECK_OK(cnn_dataset_load("mnist", &opt, &ds));
    CHECK(ds.train.n == 9);
    cnn_dataset_free(&ds);
    unsetenv("CNN_DATA_DIR");
    unsetenv("CNN_DATASET_MIRROR");
    unsetenv("CNN_DATASET_MD5");
    free((void *)env);
    dt_tiny_free(&t);
}

int main(void) {
    root = dt_make_temp_dir("download");
    // A 300 kB blob: several network reads and MD5 blocks.
    size_t blob_len = 300001;
    uint8_t *blob = malloc(blob_len);
    cnn_rng rng;
    cnn_rng_seed(&rng, 5);
    for (size_t i = 0; i < blob_len; i++) blob[i] = (uint8_t)cnn_rng_u64(&rng);
    dt_write_file(dt_path("%s/blob.bin", root), blob, blob_len);
    char md5[33];
    cnn_md5_buffer_hex(blob, blob_len, md5);

    if (!dt_server_start(&srv, root)) {
        dt_rm_rf(root);
        test_skip("could not start tests/http_server.py with python3");
    }
    test_download_files(blob, blob_len, md5);
    test_dataset_download();
    dt_server_stop(&srv);
    free(blob);
    if (!test_failures) dt_rm_rf(root);
    else fprintf(stderr, "kept %s for inspection\n", root);
    return test_finish("test_download");
}
