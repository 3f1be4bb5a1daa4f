// Datasets: validated IDX files (raw or gzip) and the named datasets built
// on them (MNIST, Fashion-MNIST), with data-directory look-up and download.
#ifndef CNN_DATASET_H
#define CNN_DATASET_H

#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// One split (train or test): n examples of rows*cols uint8 pixels, labels in [0, n_classes).
typedef struct {
    uint8_t *images; // (n, rows*cols), row-major, owned
    uint8_t *labels; // (n), owned
    int n;
    int rows, cols;
} cnn_split;

typedef struct {
    char name[32];      // "mnist", "fashion-mnist"
    char dir[4096];     // the directory the files were read from
    int n_classes;      // 10
    cnn_split train, test;
} cnn_dataset;

// Where and how cnn_dataset_load looks for the files.
typedef struct {
    const char *data_dir;  // --data-dir: a directory holding the four files, or NULL
    int allow_download;    // 1: download into the cache when no directory has the files
    int quiet;             // 1: no progress messages on stderr
} cnn_dataset_options;

// The names cnn_dataset_load accepts, NULL-terminated.
extern const char *const cnn_dataset_names[];

// Loads dataset `name`. Looks in: opt->data_dir; else $CNN_DATA_DIR/<name>/;
// else /usr/share/datasets/<name>/; else ~/.cache/cnn-train/<name>/ (or
// $XDG_CACHE_HOME/cnn-train/<name>/); else downloads into that cache. Every
// file is validated (see cnn_idx_read) and the images and labels of each
// split must agree. Errors name the file and say what to do.
cnn_status cnn_dataset_load(const char *name, const cnn_dataset_options *opt, cnn_dataset *out);
void cnn_dataset_free(cnn_dataset *ds);

// Loads dataset `name` from the four files in dir (each one .gz or
// uncompressed), validated as cnn_dataset_load does, without look-up or
// download. The environment variables that steer cnn_dataset_load's
// look-up and download are described in docs/datasets.md.
cnn_status cnn_dataset_load_dir(const char *name, const char *dir, cnn_dataset *out);

#ifdef __cplusplus
}
#endif
#endif
