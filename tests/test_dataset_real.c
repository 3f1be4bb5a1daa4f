// The real datasets: MNIST from $CNN_DATA_DIR/mnist (the shared offline
// copy: a 10,000-digit training subset and the canonical t10k test set) and
// Fashion-MNIST from the system directory (/usr/share/datasets, Debian's
// dataset-fashion-mnist package). A part whose data is absent is skipped;
// the test as a whole is skipped (77) when both are.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "dataset_test_helpers.h"
#include "datasets/dataset.h"
#include "datasets/md5.h"
#include "test_util.h"

// MD5 of one split's images as the uncompressed IDX file (header + pixels).
static void idx_md5(const cnn_split *s, int images, char hex[33]) {
    uint8_t hdr[16] = {0, 0, 0x08, images ? 3 : 1};
    uint32_t dims[3] = {(uint32_t)s->n, (uint32_t)s->rows, (uint32_t)s->cols};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++) hdr[4 + 4 * i + b] = (uint8_t)(dims[i] >> (24 - 8 * b));
    cnn_md5_ctx ctx;
    uint8_t digest[16];
    cnn_md5_init(&ctx);
    cnn_md5_update(&ctx, hdr, images ? 16 : 8);
    if (images)
        cnn_md5_update(&ctx, s->images, (size_t)s->n * s->rows * s->cols);
    else
        cnn_md5_update(&ctx, s->labels, (size_t)s->n);
    cnn_md5_final(&ctx, digest);
    cnn_md5_hex(digest, hex);
}

static void class_counts(const cnn_split *s, int counts[10]) {
    memset(counts, 0, 10 * sizeof counts[0]);
    for (int i = 0; i < s->n; i++)
        if (s->labels[i] < 10) counts[s->labels[i]]++;
}

// Returns 1 when it ran, 0 when the data is not here.
static int check_mnist(void) {
    const char *dir = test_data_dir("mnist");
    if (!dir) return 0;
    cnn_dataset_options opt = {dir, 0, 1};
    cnn_dataset ds;
    double t0 = cnn_now_s();
    CHECK_OK(cnn_dataset_load("mnist", &opt, &ds));
    double dt = cnn_now_s() - t0;
    printf("mnist: loaded %d + %d examples from %s in %.3f s\n", ds.train.n, ds.test.n, ds.dir, dt);
    CHECK(ds.train.n == 10000 && ds.test.n == 10000);
    CHECK(ds.train.rows == 28 && ds.train.cols == 28 && ds.test.rows == 28 && ds.test.cols == 28);
    CHECK(ds.n_classes == 10 && strcmp(ds.name, "mnist") == 0);
    if (ds.test.n > 0) CHECK(ds.test.labels[0] == 7); // the first digit of t10k is a 7
    int counts[10], total = 0;
    class_counts(&ds.test, counts);
    for (int c = 0; c < 10; c++) {
        CHECK(counts[c] > 800); // every digit is well represented
        total += counts[c];
    }
    CHECK(total == ds.test.n); // so every label is < 10
    class_counts(&ds.train, counts);
    total = 0;
    for (int c = 0; c < 10; c++) total += counts[c];
    CHECK(total == ds.train.n);
    // The test set is the canonical t10k: the MD5s of its uncompressed files (data/mnist/README.md).
    char hex[33];
    idx_md5(&ds.test, 1, hex);
    CHECK(strcmp(hex, "2646ac647ad5339dbf082846283269ea") == 0);
    idx_md5(&ds.test, 0, hex);
    CHECK(strcmp(hex, "27ae3e4e09519cfbb04c329615203637") == 0);
    cnn_dataset_free(&ds);
    return 1;
}

static int check_fashion(void) {
    const char *sys = "/usr/share/datasets/fashion-mnist";
    const char *need[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++)
        if (!dt_exists(dt_path("%s/%s.gz", sys, need[i])) && !dt_exists(dt_path("%s/%s", sys, need[i]))) {
            printf("fashion-mnist: %s has no %s: part skipped (apt-get install dataset-fashion-mnist)\n", sys, need[i]);
            return 0;
        }
    // Found by look-up in the system directory: nothing else set, no cache, no download.
    const char *home = dt_make_temp_dir("fashion-home");
    unsetenv("CNN_DATA_DIR");
    unsetenv("CNN_SYSTEM_DATA_DIR");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", home, 1);
    cnn_dataset_options opt = {NULL, 0, 1};
    cnn_dataset ds;
    double t0 = cnn_now_s();
    CHECK_OK(cnn_dataset_load("fashion-mnist", &opt, &ds));
    double dt = cnn_now_s() - t0;
    printf("fashion-mnist: loaded %d + %d examples from %s in %.3f s\n", ds.train.n, ds.test.n, ds.dir, dt);
    CHECK(strcmp(ds.dir, sys) == 0);
    CHECK(ds.train.n == 60000 && ds.test.n == 10000);
    CHECK(ds.train.rows == 28 && ds.train.cols == 28 && ds.test.rows == 28 && ds.test.cols == 28);
    // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    int counts[10];
    class_counts(&ds.train, counts);
    for (int c = 0; c < 10; c++) CHECK(counts[c] == 6000);
    class_counts(&ds.test, counts);
    for (int c = 0; c < 10; c++) CHECK(counts[c] == 1000);
    // Loading 70,000 images (30 MB of gzip) must be quick; the bound leaves
    // room for a busy machine, the printed time is the real figure.
    CHECK(dt < 4.0);
    cnn_dataset_free(&ds);
    dt_rm_rf(home);
    return 1;
}

int main(void) {
    int ran = check_mnist();
    ran += check_fashion();
    if (!ran) test_skip("neither $CNN_DATA_DIR/mnist nor /usr/share/datasets/fashion-mnist is available");
    return test_finish("test_dataset_real");
}
