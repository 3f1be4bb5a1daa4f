// cnn_dataset_load's look-up order (--data-dir, $CNN_DATA_DIR/<name>, the
// system directory, the cache) with small generated datasets, each told
// apart by its number of training examples; and what happens when files
// are missing. No network: downloads are off here (see test_download).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_test_helpers.h"
#include "datasets/dataset.h"
#include "test_util.h"

// Loads mnist with opt and checks it came from want_dir with want_n training examples.
static void expect_from(const cnn_dataset_options *opt, const char *want_dir, int want_n) {
    cnn_dataset ds;
    cnn_status st = cnn_dataset_load("mnist", opt, &ds);
    CHECK_OK(st);
    if (st != CNN_OK) return;
    if (ds.train.n != want_n || strcmp(ds.dir, want_dir) != 0) {
        fprintf(stderr, "loaded %d examples from %s, want %d from %s\n", ds.train.n, ds.dir, want_n, want_dir);
        test_failures++;
    }
    CHECK(ds.test.n == 3 && ds.train.rows == 4 && ds.train.cols == 2);
    cnn_dataset_free(&ds);
}

int main(void) {
    const char *root = dt_make_temp_dir("dataset");
    const char *data_dir = dt_path("%s/given", root);           // --data-dir
    const char *env_root = dt_path("%s/env", root);             // $CNN_DATA_DIR
    const char *sys_root = dt_path("%s/sys", root);             // CNN_SYSTEM_DATA_DIR
    const char *empty_sys = dt_path("%s/empty-sys", root);      // a system dir without datasets
    const char *xdg = dt_path("%s/xdg", root);                  // XDG_CACHE_HOME
    const char *home = dt_path("%s/home", root);                // HOME
    dt_mkdirs(empty_sys);
    dt_mkdirs(home);

    // Four datasets with 2, 3, 4 and 5 training examples (3 test examples each).
    const char *dirs[4] = {data_dir, dt_path("%s/mnist", env_root), dt_path("%s/mnist", sys_root),
                           dt_path("%s/cnn-train/mnist", xdg)};
    for (int i = 0; i < 4; i++) {
        dt_tiny t;
        dt_tiny_make(&t, 2 + i, 3, 4, 2, 100 + (uint64_t)i);
        dt_tiny_write(&t, dirs[i], i % 2); // alternate raw and gzip
        dt_tiny_free(&t);
    }
    setenv("CNN_DATA_DIR", env_root, 1);
    setenv("CNN_SYSTEM_DATA_DIR", sys_root, 1);
    setenv("XDG_CACHE_HOME", xdg, 1);
    setenv("HOME", home, 1);
    unsetenv("CNN_DATASET_MIRROR");
    unsetenv("CNN_DATASET_MD5");

    cnn_dataset_options opt = {data_dir, 0, 1};
    expect_from(&opt, data_dir, 2);  // --data-dir beats everything
    opt.data_dir = NULL;
    expect_from(&opt, dirs[1], 3);   // then $CNN_DATA_DIR/mnist
    unsetenv("CNN_DATA_DIR");
    expect_from(&opt, dirs[2], 4);   // then the system directory
    setenv("CNN_SYSTEM_DATA_DIR", empty_sys, 1);
    expect_from(&opt, dirs[3], 5);   // then the cache ($XDG_CACHE_HOME/cnn-train/mnist)

    // An empty $CNN_DATA_DIR counts as unset; a $CNN_DATA_DIR without mnist/ is passed over.
    setenv("CNN_DATA_DIR", "", 1);
    expect_from(&opt, dirs[3], 5);
    setenv("CNN_DATA_DIR", empty_sys, 1);
    expect_from(&opt, dirs[3], 5);

    // A directory with only some of the files is passed over, not half-used.
    setenv("CNN_DATA_DIR", env_root, 1);
    setenv("CNN_SYSTEM_DATA_DIR", sys_root, 1);
    remove(dt_path("%s/train-labels-idx1-ubyte.gz", dirs[1]));
    remove(dt_path("%s/train-labels-idx1-ubyte", dirs[1]));
    expect_from(&opt, dirs[2], 4);

    // Without XDG_CACHE_HOME the cache is $HOME/.cache/cnn-train/<name>.
    unsetenv("CNN_DATA_DIR");
    setenv("CNN_SYSTEM_DATA_DIR", empty_sys, 1);
    unsetenv("XDG_CACHE_HOME");
    const char *home_cache = dt_path("%s/.cache/cnn-train/mnist", home);
    {
        dt_tiny t;
        dt_tiny_make(&t, 7, 3, 4, 2, 200);
        dt_tiny_write(&t, home_cache, 1);
        dt_tiny_free(&t);
    }
    expect_from(&opt, home_cache, 7);

    cnn_dataset ds;
    memset(&ds, 0x5A, sizeof ds);
    // --data-dir lacking a file is an error naming it, never a fall-back to
    // the other places (the cache above has a complete dataset).
    remove(dt_path("%s/t10k-images-idx3-ubyte", data_dir));
    remove(dt_path("%s/t10k-images-idx3-ubyte.gz", data_dir));
    opt.data_dir = data_dir;
    CHECK_FAILS(cnn_dataset_load("mnist", &opt, &ds), CNN_ERR_IO, "lacks t10k-images-idx3-ubyte[.gz]");
    CHECK_MSG(data_dir);
    CHECK(ds.train.images == NULL && ds.train.n == 0);
    opt.data_dir = dt_path("%s/no-such-dir", root);
    CHECK_FAILS(cnn_dataset_load("mnist", &opt, &ds), CNN_ERR_IO, "no such directory");
    opt.data_dir = NULL;

    // Nothing anywhere and downloads off: one message with the missing files,
    // every place looked in and how to supply them.
    remove(dt_path("%s/train-images-idx3-ubyte.gz", home_cache));
    remove(dt_path("%s/t10k-labels-idx1-ubyte.gz", home_cache));
    CHECK_FAILS(cnn_dataset_load("mnist", &opt, &ds), CNN_ERR_IO, "mnist: dataset files not found");
    CHECK_MSG("missing train-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz].");
    CHECK_MSG("$CNN_DATA_DIR/mnist (not set)");
    CHECK_MSG(dt_path("%s/mnist (no such directory)", empty_sys));
    CHECK_MSG(dt_path("%s (2 of 4 files)", home_cache));
    CHECK_MSG("--data-dir DIR");
    CHECK_MSG("set CNN_DATA_DIR");
    CHECK_MSG(dt_path("copy them into %s", home_cache));
    CHECK_MSG("Downloading is disabled.");
    CHECK(strstr(cnn_last_error(), "apt-get") == NULL); // mnist has no package
    CHECK(strchr(cnn_last_error(), '\n') == NULL);       // one line
    CHECK(ds.train.images == NULL);

    // Fashion-MNIST's message names its package.
    CHECK_FAILS(cnn_dataset_load("fashion-mnist", &opt, &ds), CNN_ERR_IO, "fashion-mnist: dataset files not found");
    CHECK_MSG("apt-get install dataset-fashion-mnist");
    CHECK_MSG(dt_path("%s/.cache/cnn-train/fashion-mnist (no such directory)", home));

    // Neither HOME nor XDG_CACHE_HOME: no cache, said so.
    unsetenv("HOME");
    CHECK_FAILS(cnn_dataset_load("mnist", &opt, &ds), CNN_ERR_IO, "neither XDG_CACHE_HOME nor HOME is set");
    setenv("HOME", home, 1);

    // Unknown names and a NULL output.
    CHECK_FAILS(cnn_dataset_load("MNIST", &opt, &ds), CNN_ERR_INVALID_ARG, "unknown dataset 'MNIST'");
    CHECK(cnn_dataset_load("mnist", &opt, NULL) == CNN_ERR_INVALID_ARG);
    int n_names = 0;
    for (const char *const *p = cnn_dataset_names; *p; p++) n_names++;
    CHECK(n_names == 2);

    if (!test_failures) dt_rm_rf(root);
    return test_finish("test_dataset");
}
