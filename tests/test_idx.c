// The IDX reader and the dataset checks built on it: every kind of bad file
// gives its own status and a message naming the reason, never a crash; good
// files (raw, gzip, several gzip members) read back exactly.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "dataset_test_helpers.h"
#include "datasets/dataset.h"
#include "datasets/idx.h"
#include "test_util.h"

static const char *dir;
static uint8_t buf[1 << 16];

// Writes an IDX image (header + payload) to dir/name, raw or gzip-compressed.
static const char *put(const char *name, int gz, uint8_t type, int ndim, const uint32_t *dims, const uint8_t *payload,
                       size_t payload_len) {
    size_t len = dt_idx_bytes(buf, sizeof buf, type, ndim, dims, payload, payload_len);
    const char *path = dt_path("%s/%s", dir, name);
    if (gz)
        dt_write_gz(path, buf, len);
    else
        dt_write_file(path, buf, len);
    return path;
}

// Reading path must fail with want and a message containing substr; out must stay zeroed.
static void expect_bad(const char *path, int want_ndim, cnn_status want, const char *substr) {
    cnn_idx idx;
    memset(&idx, 0xAB, sizeof idx);
    CHECK_FAILS(cnn_idx_read(path, want_ndim, &idx), want, substr);
    CHECK(idx.data == NULL && idx.size == 0 && idx.ndim == 0);
    // The message names the file.
    CHECK_MSG(path);
}

static void test_bad_files(void) {
    static uint8_t payload[4096];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7);
    const uint32_t img[3] = {2, 3, 3}; // 18 data bytes
    const uint32_t lbl[1] = {5};

    // Empty file (raw name and .gz name).
    const char *p = dt_path("%s/empty", dir);
    dt_write_file(p, "", 0);
    expect_bad(p, 0, CNN_ERR_FORMAT, "empty (0 bytes)");
    p = dt_path("%s/empty.gz", dir);
    dt_write_file(p, "", 0);
    expect_bad(p, 0, CNN_ERR_FORMAT, "empty (0 bytes)");

    // Truncated header: 3 bytes; then a full magic but only part of the dims.
    p = dt_path("%s/hdr3", dir);
    dt_write_file(p, "\0\0\x08", 3);
    expect_bad(p, 0, CNN_ERR_FORMAT, "truncated header");
    p = put("hdr-dims", 0, 0x08, 3, img, NULL, 0);
    {
        size_t len;
        uint8_t *b = dt_read_file(p, &len);
        CHECK(b && len == 16);
        dt_write_file(p, b, 10); // magic + 1.5 dims
        free(b);
    }
    expect_bad(p, 0, CNN_ERR_FORMAT, "truncated header");
    // The same in a gzip file (the decompressed content is short).
    dt_write_gz(dt_path("%s/hdr3.gz", dir), "\0\0\x08", 3);
    expect_bad(dt_path("%s/hdr3.gz", dir), 0, CNN_ERR_FORMAT, "truncated header");

    // Truncated body: 10 of 18 data bytes, raw and gzip.
    {
        size_t len = dt_idx_bytes(buf, sizeof buf, 0x08, 3, img, payload, 10);
        p = dt_path("%s/short-body", dir);
        dt_write_file(p, buf, len);
        expect_bad(p, 3, CNN_ERR_FORMAT, "truncated: expected 18 data bytes (2x3x3) after the header, got 10");
        p = dt_path("%s/short-body.gz", dir);
        dt_write_gz(p, buf, len);
        expect_bad(p, 3, CNN_ERR_FORMAT, "truncated: expected 18 data bytes (2x3x3) after the header, got 10");
    }

    // Trailing data: 5 bytes more than the header says, raw and gzip.
    p = put("long-body", 0, 0x08, 3, img, payload, 23);
    expect_bad(p, 3, CNN_ERR_FORMAT, "trailing data: 5 bytes after the 18 data bytes");
    // Gzip: the reader stops at the first byte past the 18 (it never inflates
    // more than the header promises), so it cannot say how many follow.
    p = put("long-body.gz", 1, 0x08, 3, img, payload, 23);
    expect_bad(p, 3, CNN_ERR_FORMAT, "trailing data: more bytes after the 18 data bytes");

    // Wrong magic number.
    {
        size_t len = dt_idx_bytes(buf, sizeof buf, 0x08, 3, img, payload, 18);
        buf[0] = 0x01;
        buf[1] = 0x02;
        p = dt_path("%s/magic", dir);
        dt_write_file(p, buf, len);
        expect_bad(p, 0, CNN_ERR_FORMAT, "bad magic number: it starts with 01 02 08 03");
    }

    // Wrong type byte: a known but unsupported type, and a code no IDX type has.
    p = put("float", 0, 0x0D, 3, img, payload, 18 * 4);
    expect_bad(p, 0, CNN_ERR_FORMAT, "type byte 0x0d (float32) is not supported");
    p = put("type42", 0, 0x42, 3, img, payload, 18);
    expect_bad(p, 0, CNN_ERR_FORMAT, "bad type byte 0x42");

    // A dimension count other than 1 or 3, and the wrong one of the two.
    {
        const uint32_t two[2] = {3, 6};
        p = put("ndim2", 0, 0x08, 2, two, payload, 18);
        expect_bad(p, 0, CNN_ERR_FORMAT, "declares 2 dimensions");
    }
    p = put("labels-as-images", 0, 0x08, 1, lbl, payload, 5);
    expect_bad(p, 3, CNN_ERR_FORMAT, "swapped");
    p = put("images-as-labels", 0, 0x08, 3, img, payload, 18);
    expect_bad(p, 1, CNN_ERR_FORMAT, "swapped");

    // Zero dimensions: no examples; empty images.
    {
        const uint32_t zero_n[3] = {0, 28, 28};
        const uint32_t zero_cols[3] = {4, 28, 0};
        const uint32_t zero_lbl[1] = {0};
        p = put("zero-n", 0, 0x08, 3, zero_n, NULL, 0);
        expect_bad(p, 0, CNN_ERR_FORMAT, "dimension 0 is zero");
        p = put("zero-cols", 0, 0x08, 3, zero_cols, NULL, 0);
        expect_bad(p, 0, CNN_ERR_FORMAT, "dimension 2 is zero");
        p = put("zero-labels.gz", 1, 0x08, 1, zero_lbl, NULL, 0);
        expect_bad(p, 0, CNN_ERR_FORMAT, "dimension 0 is zero");
    }

    // Absurd dimensions: above each limit, and a product above the byte limit
    // (each factor allowed). None of these may allocate what the header claims.
    {
        const uint32_t huge_n[3] = {0xFFFFFFFFu, 28, 28};
        const uint32_t huge_side[3] = {10, 5000, 28};
        const uint32_t huge_total[3] = {CNN_IDX_MAX_EXAMPLES, CNN_IDX_MAX_SIDE, CNN_IDX_MAX_SIDE};
        const uint32_t huge_lbl[1] = {0x80000000u};
        p = put("huge-n", 0, 0x08, 3, huge_n, payload, 100);
        expect_bad(p, 0, CNN_ERR_FORMAT, "4294967295 examples, above the limit of 10000000");
        p = put("huge-side", 0, 0x08, 3, huge_side, payload, 100);
        expect_bad(p, 0, CNN_ERR_FORMAT, "5000x28 images, above the limit of 4096x4096");
        p = put("huge-total.gz", 1, 0x08, 3, huge_total, payload, 100);
        expect_bad(p, 0, CNN_ERR_FORMAT, "bytes of data, above the limit of");
        p = put("huge-labels", 0, 0x08, 1, huge_lbl, payload, 100);
        expect_bad(p, 0, CNN_ERR_FORMAT, "above the limit of 10000000");
        // 10M 28x28 images (7.8 GB): each dimension allowed, the total above
        // the 1 GiB cap, refused from the header alone.
        const uint32_t over_cap[3] = {CNN_IDX_MAX_EXAMPLES, 28, 28};
        p = put("over-cap.gz", 1, 0x08, 3, over_cap, payload, 100);
        expect_bad(p, 0, CNN_ERR_FORMAT, "7840000000 bytes of data, above the limit of 1073741824 bytes");
        // Within the limits but far more than the file holds: 1M 28x28 images
        // (784 MB) claimed by a gzip file of a few hundred bytes, and the same raw.
        const uint32_t big[3] = {1000000, 28, 28};
        p = put("big-claim.gz", 1, 0x08, 3, big, payload, 100);
        expect_bad(p, 0, CNN_ERR_FORMAT, "truncated: expected 784000000 data bytes");
        p = put("big-claim", 0, 0x08, 3, big, payload, 100);
        expect_bad(p, 0, CNN_ERR_FORMAT, "truncated: expected 784000000 data bytes");
    }

    // Named .gz but not gzip: a valid raw IDX file (say how to fix), and garbage.
    p = put("raw-named.gz", 0, 0x08, 3, img, payload, 18);
    expect_bad(p, 0, CNN_ERR_FORMAT, "the name ends in .gz but the file is not gzip-compressed");
    CHECK_MSG("rename it without .gz");
    p = dt_path("%s/text-named.gz", dir);
    dt_write_file(p, "<html>404</html>", 16);
    expect_bad(p, 0, CNN_ERR_FORMAT, "not gzip-compressed (it starts with 3c 68 74 6d, not 1f 8b)");

    // Corrupt gzip: an invalid deflate block right after the gzip header;
    // a wrong CRC in the trailer; the .gz file cut in half; garbage after the stream.
    {
        size_t len = dt_idx_bytes(buf, sizeof buf, 0x08, 3, img, payload, 18);
        const char *good = dt_path("%s/good-for-corruption.gz", dir);
        dt_write_gz(good, buf, len);
        size_t gz_len;
        uint8_t *gz = dt_read_file(good, &gz_len);
        CHECK(gz && gz_len > 20);
        if (gz && gz_len > 20) {
            uint8_t *copy = malloc(gz_len + 8);
            memcpy(copy, gz, gz_len);
            copy[10] = 0xFF; // BFINAL=1, BTYPE=11: reserved block type
            p = dt_path("%s/bad-block.gz", dir);
            dt_write_file(p, copy, gz_len);
            expect_bad(p, 0, CNN_ERR_FORMAT, "corrupt gzip data");

            memcpy(copy, gz, gz_len);
            copy[gz_len - 8] ^= 0x5A; // CRC-32 of the content
            p = dt_path("%s/bad-crc.gz", dir);
            dt_write_file(p, copy, gz_len);
            expect_bad(p, 0, CNN_ERR_FORMAT, "corrupt gzip data");

            p = dt_path("%s/cut.gz", dir);
            dt_write_file(p, gz, gz_len / 2);
            expect_bad(p, 0, CNN_ERR_FORMAT, "the compressed file is truncated");
            p = dt_path("%s/cut-trailer.gz", dir); // all data, but no CRC/size trailer
            dt_write_file(p, gz, gz_len - 8);
            expect_bad(p, 0, CNN_ERR_FORMAT, "the compressed file is truncated");

            memcpy(copy, gz, gz_len);
            memcpy(copy + gz_len, "garbage!", 8);
            p = dt_path("%s/garbage-after.gz", dir);
            dt_write_file(p, copy, gz_len + 8);
            expect_bad(p, 0, CNN_ERR_FORMAT, "trailing data after the end of the gzip stream");
            free(copy);
        }
        free(gz);
    }

    // Compressed twice.
    {
        size_t len = dt_idx_bytes(buf, sizeof buf, 0x08, 3, img, payload, 18);
        const char *once = dt_path("%s/once.gz", dir);
        dt_write_gz(once, buf, len);
        size_t gz_len;
        uint8_t *gz = dt_read_file(once, &gz_len);
        p = dt_path("%s/twice.gz", dir);
        dt_write_gz(p, gz, gz_len);
        free(gz);
        expect_bad(p, 0, CNN_ERR_FORMAT, "compressed twice");
    }

    // Not a file at all.
    expect_bad(dt_path("%s/does-not-exist", dir), 0, CNN_ERR_IO, "cannot open");
    expect_bad(dir, 0, CNN_ERR_IO, "directory");

    // Bad arguments.
    cnn_idx idx;
    CHECK_FAILS(cnn_idx_read(NULL, 0, &idx), CNN_ERR_INVALID_ARG, "no path");
    CHECK_FAILS(cnn_idx_read(p, 2, &idx), CNN_ERR_INVALID_ARG, "want_ndim");
    CHECK(cnn_idx_read(p, 0, NULL) == CNN_ERR_INVALID_ARG);
}

// Random damage (a changed byte, a cut) to good raw and gzip files: each
// read either succeeds with consistent dims or fails with CNN_ERR_FORMAT and
// a message naming the file; nothing crashes (this test also runs under ASan/UBSan).
static void test_random_damage(void) {
    cnn_rng rng;
    cnn_rng_seed(&rng, 2024);
    const uint32_t dims[3] = {20, 8, 8};
    uint8_t data[1280];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i % 97 < 60 ? 0 : cnn_rng_u64(&rng));
    size_t raw_len = dt_idx_bytes(buf, sizeof buf, 0x08, 3, dims, data, sizeof data);
    uint8_t raw[1300];
    memcpy(raw, buf, raw_len);
    const char *gz_path = dt_path("%s/damage-src.gz", dir);
    dt_write_gz(gz_path, raw, raw_len);
    size_t gz_len;
    uint8_t *gz = dt_read_file(gz_path, &gz_len);
    CHECK(gz != NULL);
    if (!gz) return;
    int ok = 0, format = 0;
    for (int trial = 0; trial < 400; trial++) {
        int use_gz = trial % 2;
        const uint8_t *src = use_gz ? gz : raw;
        size_t len = use_gz ? gz_len : raw_len;
        uint8_t copy[1400];
        memcpy(copy, src, len);
        if (cnn_rng_u64(&rng) % 4 == 0) {
            len = (size_t)(cnn_rng_u64(&rng) % len); // cut
        } else {
            size_t at = (size_t)(cnn_rng_u64(&rng) % (use_gz ? len : 16)); // raw: damage the header
            copy[at] = (uint8_t)cnn_rng_u64(&rng);
        }
        const char *p = dt_path("%s/damaged-%d%s", dir, trial, use_gz ? ".gz" : "");
        dt_write_file(p, copy, len);
        cnn_idx idx;
        cnn_status st = cnn_idx_read(p, 0, &idx);
        if (st == CNN_OK) {
            ok++;
            size_t want = idx.dims[0];
            for (int i = 1; i < idx.ndim; i++) want *= idx.dims[i];
            CHECK(idx.data != NULL && idx.size == want && (idx.ndim == 1 || idx.ndim == 3));
            cnn_idx_free(&idx);
        } else {
            format += st == CNN_ERR_FORMAT;
            if (st != CNN_ERR_FORMAT || !strstr(cnn_last_error(), p)) {
                fprintf(stderr, "trial %d: %s: %s\n", trial, cnn_status_name(st), cnn_last_error());
                test_failures++;
            }
        }
        remove(p);
    }
    printf("random damage: %d reads succeeded, %d rejected\n", ok, format);
    CHECK(format > 300); // nearly all damage is caught
    free(gz);
}

// Compares what cnn_idx_read returns with the dims and bytes written.
static void expect_good(const char *path, int ndim, const uint32_t *dims, const uint8_t *data, size_t size) {
    cnn_idx idx;
    CHECK_OK(cnn_idx_read(path, 0, &idx));
    CHECK(idx.ndim == ndim);
    for (int i = 0; i < ndim; i++) CHECK(idx.dims[i] == dims[i]);
    CHECK(idx.size == size);
    CHECK(idx.data != NULL && memcmp(idx.data, data, size) == 0);
    cnn_idx_free(&idx);
    CHECK(idx.data == NULL);
    cnn_idx_free(&idx); // twice is harmless
}

static void test_good_files(void) {
    cnn_rng rng;
    cnn_rng_seed(&rng, 42);
    const uint32_t dims[3] = {7, 5, 3};
    uint8_t data[105];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)cnn_rng_u64(&rng);
    const uint32_t ldims[1] = {7};

    // Written by the test itself (zlib's gz* writer): raw, gzip, gzip without a .gz name.
    expect_good(put("ok-raw", 0, 0x08, 3, dims, data, 105), 3, dims, data, 105);
    expect_good(put("ok.gz", 1, 0x08, 3, dims, data, 105), 3, dims, data, 105);
    expect_good(put("ok-gzip-no-suffix", 1, 0x08, 3, dims, data, 105), 3, dims, data, 105);
    expect_good(put("ok-labels.gz", 1, 0x08, 1, ldims, data, 7), 1, ldims, data, 7);

    // Two gzip members back to back (what `cat a.gz b.gz` makes) are one stream.
    {
        size_t len = dt_idx_bytes(buf, sizeof buf, 0x08, 3, dims, data, 105);
        const char *a = dt_path("%s/member-a.gz", dir), *b = dt_path("%s/member-b.gz", dir);
        dt_write_gz(a, buf, 40);
        dt_write_gz(b, buf + 40, len - 40);
        size_t la, lb;
        uint8_t *ga = dt_read_file(a, &la), *gb = dt_read_file(b, &lb);
        uint8_t *both = malloc(la + lb);
        memcpy(both, ga, la);
        memcpy(both + la, gb, lb);
        const char *p = dt_path("%s/two-members.gz", dir);
        dt_write_file(p, both, la + lb);
        expect_good(p, 3, dims, data, 105);
        free(ga);
        free(gb);
        free(both);
    }

    // Written by cnn_idx_write (raw and gzip), which leaves no temporary file behind.
    const char *wdir = dt_path("%s/written", dir);
    dt_mkdirs(wdir);
    cnn_idx w = {3, {dims[0], dims[1], dims[2]}, 105, data};
    CHECK_OK(cnn_idx_write(dt_path("%s/w-raw", wdir), &w, 0));
    CHECK_OK(cnn_idx_write(dt_path("%s/w.gz", wdir), &w, 1));
    expect_good(dt_path("%s/w-raw", wdir), 3, dims, data, 105);
    expect_good(dt_path("%s/w.gz", wdir), 3, dims, data, 105);
    size_t raw_len;
    uint8_t *raw = dt_read_file(dt_path("%s/w-raw", wdir), &raw_len);
    CHECK(raw_len == 16 + 105 && raw && raw[2] == 0x08 && raw[3] == 3 && raw[7] == 7 && raw[11] == 5 && raw[15] == 3);
    free(raw);
    CHECK(dt_count_entries(wdir, NULL) == 2);
    // Overwriting an existing file replaces it.
    cnn_idx w2 = {1, {7, 0, 0}, 7, data};
    CHECK_OK(cnn_idx_write(dt_path("%s/w.gz", wdir), &w2, 1));
    expect_good(dt_path("%s/w.gz", wdir), 1, ldims, data, 7);
    CHECK(dt_count_entries(wdir, NULL) == 2);
    // A size that disagrees with the dims, and a directory that does not exist.
    cnn_idx bad = {3, {2, 2, 2}, 7, data};
    CHECK_FAILS(cnn_idx_write(dt_path("%s/x", wdir), &bad, 0), CNN_ERR_INVALID_ARG, "does not match");
    CHECK_FAILS(cnn_idx_write(dt_path("%s/no/such/dir/x", wdir), &w, 0), CNN_ERR_IO, "temporary file");
}

// The checks that tie a dataset's four files together (through cnn_dataset_load_dir).
static void test_dataset_checks(void) {
    dt_tiny t;
    dt_tiny_make(&t, 6, 4, 5, 3, 7);
    cnn_dataset ds;

    // A good tiny dataset, gzip and raw, loads with the right contents.
    for (int gz = 0; gz <= 1; gz++) {
        const char *d = dt_path("%s/ds-good-%d", dir, gz);
        dt_tiny_write(&t, d, gz);
        CHECK_OK(cnn_dataset_load_dir("mnist", d, &ds));
        CHECK(ds.train.n == 6 && ds.test.n == 4 && ds.train.rows == 5 && ds.train.cols == 3);
        CHECK(ds.test.rows == 5 && ds.test.cols == 3 && ds.n_classes == 10);
        CHECK(strcmp(ds.name, "mnist") == 0 && strcmp(ds.dir, d) == 0);
        CHECK(ds.train.images && memcmp(ds.train.images, t.train_images, 6 * 15) == 0);
        CHECK(ds.train.labels && memcmp(ds.train.labels, t.train_labels, 6) == 0);
        CHECK(ds.test.images && memcmp(ds.test.images, t.test_images, 4 * 15) == 0);
        CHECK(ds.test.labels && memcmp(ds.test.labels, t.test_labels, 4) == 0);
        cnn_dataset_free(&ds);
        CHECK(ds.train.images == NULL && ds.test.labels == NULL);
    }

    // Count mismatch: 6 training images, 5 labels.
    {
        const char *d = dt_path("%s/ds-count", dir);
        dt_tiny_write(&t, d, 1);
        cnn_idx l = {1, {5, 0, 0}, 5, t.train_labels};
        CHECK_OK(cnn_idx_write(dt_path("%s/train-labels-idx1-ubyte.gz", d), &l, 1));
        CHECK_FAILS(cnn_dataset_load_dir("mnist", d, &ds), CNN_ERR_FORMAT, "holds 6 images but");
        CHECK_MSG("holds 5 labels: the counts do not match");
        CHECK(ds.train.images == NULL && ds.train.n == 0);
    }

    // A label of 10 (and 255) in the test labels.
    for (int v = 10; v <= 255; v += 245) {
        const char *d = dt_path("%s/ds-label-%d", dir, v);
        dt_tiny_write(&t, d, 0);
        uint8_t labels[4];
        memcpy(labels, t.test_labels, 4);
        labels[3] = (uint8_t)v;
        cnn_idx l = {1, {4, 0, 0}, 4, labels};
        CHECK_OK(cnn_idx_write(dt_path("%s/t10k-labels-idx1-ubyte", d), &l, 0));
        char want[64];
        snprintf(want, sizeof want, "label %d at index 3 is outside [0, 10)", v);
        CHECK_FAILS(cnn_dataset_load_dir("mnist", d, &ds), CNN_ERR_FORMAT, want);
        CHECK_MSG("t10k-labels-idx1-ubyte");
        CHECK(ds.train.images == NULL && ds.test.images == NULL);
    }

    // Training and test images of different sizes.
    {
        const char *d = dt_path("%s/ds-sizes", dir);
        dt_tiny_write(&t, d, 1);
        cnn_idx im = {3, {4, 3, 5}, 60, t.test_images};
        CHECK_OK(cnn_idx_write(dt_path("%s/t10k-images-idx3-ubyte.gz", d), &im, 1));
        CHECK_FAILS(cnn_dataset_load_dir("mnist", d, &ds), CNN_ERR_FORMAT, "has 5x3 images but");
        CHECK_MSG("training and test sets do not match");
    }

    // Images and labels swapped.
    {
        const char *d = dt_path("%s/ds-swapped", dir);
        dt_tiny_write(&t, d, 0);
        rename(dt_path("%s/train-images-idx3-ubyte", d), dt_path("%s/tmp", d));
        rename(dt_path("%s/train-labels-idx1-ubyte", d), dt_path("%s/train-images-idx3-ubyte", d));
        rename(dt_path("%s/tmp", d), dt_path("%s/train-labels-idx1-ubyte", d));
        CHECK_FAILS(cnn_dataset_load_dir("mnist", d, &ds), CNN_ERR_FORMAT, "swapped");
    }

    // A corrupt file inside a dataset directory: the error names that file.
    {
        const char *d = dt_path("%s/ds-corrupt", dir);
        dt_tiny_write(&t, d, 1);
        dt_write_file(dt_path("%s/t10k-images-idx3-ubyte.gz", d), "\0\0\x08\x03\0\0", 6);
        CHECK_FAILS(cnn_dataset_load_dir("mnist", d, &ds), CNN_ERR_FORMAT, "t10k-images-idx3-ubyte.gz: the name ends");
    }

    // Missing files, a missing directory, an unknown dataset name.
    {
        const char *d = dt_path("%s/ds-partial", dir);
        dt_tiny_write(&t, d, 1);
        remove(dt_path("%s/t10k-labels-idx1-ubyte.gz", d));
        CHECK_FAILS(cnn_dataset_load_dir("mnist", d, &ds), CNN_ERR_IO, "lacks t10k-labels-idx1-ubyte[.gz]");
        CHECK_FAILS(cnn_dataset_load_dir("mnist", dt_path("%s/nope", dir), &ds), CNN_ERR_IO, "no such directory");
        CHECK_FAILS(cnn_dataset_load_dir("cifar", d, &ds), CNN_ERR_INVALID_ARG, "mnist and fashion-mnist");
    }
    dt_tiny_free(&t);
}

int main(void) {
    dir = dt_make_temp_dir("idx");
    test_bad_files();
    test_good_files();
    test_random_damage();
    test_dataset_checks();
    if (!test_failures) dt_rm_rf(dir);
    else fprintf(stderr, "kept %s for inspection\n", dir);
    return test_finish("test_idx");
}
