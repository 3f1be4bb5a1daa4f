// Named datasets (MNIST, Fashion-MNIST): where their files are looked for,
// how they are downloaded when missing, and the checks that tie the four
// IDX files of a dataset together. See docs/datasets.md.
#include "dataset.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "download.h"
#include "idx.h"

#define N_FILES 4
#define MAX_MIRRORS 8
#define PATH_SIZE 4096

// The four files of a dataset, in this order: train images, train labels, test images, test labels.
static const char *const file_stem[N_FILES] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

typedef struct {
    const char *name;
    int n_classes;
    const char *const *mirrors; // NULL-terminated base URLs, tried in order
    const char *md5[N_FILES];   // published MD5 of each .gz file (torchvision's list)
    const char *install_hint;   // a package that installs it, or NULL
} dataset_info;

static const char *const mnist_mirrors[] = {"https://ossci-datasets.s3.amazonaws.com/mnist/",
                                            "http://yann.lecun.com/exdb/mnist/", NULL};
static const char *const fashion_mirrors[] = {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", NULL};

static const dataset_info datasets[] = {
    {"mnist", 10, mnist_mirrors,
     {"f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432", "9fb629c4189551a2d022fa330f9573f3",
      "ec29112dd5afa0611ce80d1b7f02629c"},
     NULL},
    {"fashion-mnist", 10, fashion_mirrors,
     {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe", "bef4ecab320f06d8554ea6380940ec79",
      "bb300cfdad3c16e7a12a480ee83cd310"},
     "apt-get install dataset-fashion-mnist"},
};

const char *const cnn_dataset_names[] = {"mnist", "fashion-mnist", NULL};

static cnn_status find_info(const char *name, const dataset_info **out) {
    for (size_t i = 0; i < sizeof datasets / sizeof datasets[0]; i++)
        if (name && strcmp(name, datasets[i].name) == 0) {
            *out = &datasets[i];
            return CNN_OK;
        }
    return cnn_error(CNN_ERR_INVALID_ARG, "unknown dataset '%s': the known datasets are mnist and fashion-mnist",
                     name ? name : "(null)");
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// Sets path to dir/stem (uncompressed, preferred) or dir/stem.gz, whichever
// exists; returns 0 when neither does.
static int find_file(const char *dir, const char *stem, char *path, size_t size) {
    int n = snprintf(path, size, "%s/%s", dir, stem);
    if (n > 0 && (size_t)n < size && is_file(path)) return 1;
    n = snprintf(path, size, "%s/%s.gz", dir, stem);
    if (n > 0 && (size_t)n < size && is_file(path)) return 1;
    return 0;
}

// Returns how many of the four files dir holds; sets bit i of *missing for each absent file i.
static int count_files(const char *dir, unsigned *missing) {
    char path[PATH_SIZE];
    int have = 0;
    *missing = 0;
    for (int i = 0; i < N_FILES; i++) {
        if (find_file(dir, file_stem[i], path, sizeof path))
            have++;
        else
            *missing |= 1u << i;
    }
    return have;
}

// "a(.gz), b(.gz)" for the files whose bit is set in mask.
static void list_files(unsigned mask, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_FILES && used < size; i++) {
        if (!(mask & (1u << i))) continue;
        int w = snprintf(buf + used, size - used, "%s%s[.gz]", used ? ", " : "", file_stem[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

void cnn_dataset_free(cnn_dataset *ds) {
    if (!ds) return;
    free(ds->train.images);
    free(ds->train.labels);
    free(ds->test.images);
    free(ds->test.labels);
    memset(ds, 0, sizeof *ds);
}

// images is (n, rows, cols), labels is (n): checks that they belong
// together and that every label is in [0, n_classes), then moves their data into split.
static cnn_status make_split(cnn_idx *images, cnn_idx *labels, const char *img_path, const char *lbl_path,
                             int n_classes, cnn_split *split) {
    if (images->dims[0] != labels->dims[0])
        return cnn_error(CNN_ERR_FORMAT,
                         "%s holds %u images but %s holds %u labels: the counts do not match, so the files do not "
                         "belong together; replace them with a matching pair",
                         img_path, (unsigned)images->dims[0], lbl_path, (unsigned)labels->dims[0]);
    for (size_t i = 0; i < labels->size; i++)
        if (labels->data[i] >= n_classes)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: label %u at index %zu is outside [0, %d): the file is corrupt; replace it with a "
                             "good copy (or delete it so that cnn-train downloads it again)",
                             lbl_path, (unsigned)labels->data[i], i, n_classes);
    split->n = (int)images->dims[0];
    split->rows = (int)images->dims[1];
    split->cols = (int)images->dims[2];
    split->images = images->data;
    split->labels = labels->data;
    images->data = NULL;
    labels->data = NULL;
    return CNN_OK;
}

// Reads and checks one split's image and label files from dir into split.
static cnn_status load_split(const dataset_info *info, const char *dir, int which, cnn_split *split,
                             char *img_path, char *lbl_path) {
    if (!find_file(dir, file_stem[2 * which], img_path, PATH_SIZE) ||
        !find_file(dir, file_stem[2 * which + 1], lbl_path, PATH_SIZE)) {
        unsigned missing;
        char names[256];
        count_files(dir, &missing);
        list_files(missing, names, sizeof names);
        return cnn_error(CNN_ERR_IO, "%s: %s lacks %s: put the four %s files there (.gz or uncompressed)",
                         info->name, dir, names, info->name);
    }
    cnn_idx images, labels;
    CNN_TRY(cnn_idx_read(img_path, 3, &images));
    cnn_status st = cnn_idx_read(lbl_path, 1, &labels);
    if (st == CNN_OK) {
        st = make_split(&images, &labels, img_path, lbl_path, info->n_classes, split);
        cnn_idx_free(&labels);
    }
    cnn_idx_free(&images);
    return st;
}

static cnn_status load_dir(const dataset_info *info, const char *dir, cnn_dataset *out) {
    memset(out, 0, sizeof *out);
    char paths[N_FILES][PATH_SIZE];
    cnn_status st = load_split(info, dir, 0, &out->train, paths[0], paths[1]);
    if (st == CNN_OK) st = load_split(info, dir, 1, &out->test, paths[2], paths[3]);
    if (st == CNN_OK && (out->train.rows != out->test.rows || out->train.cols != out->test.cols))
        st = cnn_error(CNN_ERR_FORMAT,
                       "%s has %dx%d images but %s has %dx%d: the training and test sets do not match; replace them "
                       "with files of the same dataset",
                       paths[0], out->train.rows, out->train.cols, paths[2], out->test.rows, out->test.cols);
    if (st != CNN_OK) {
        cnn_dataset_free(out);
        return st;
    }
    snprintf(out->name, sizeof out->name, "%s", info->name);
    snprintf(out->dir, sizeof out->dir, "%s", dir);
    out->n_classes = info->n_classes;
    return CNN_OK;
}

cnn_status cnn_dataset_load_dir(const char *name, const char *dir, cnn_dataset *out) {
    if (!out) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_dataset_load_dir: out is NULL");
    memset(out, 0, sizeof *out);
    const dataset_info *info = NULL;
    CNN_TRY(find_info(name, &info));
    if (!dir || !*dir) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_dataset_load_dir: no directory given");
    if (!is_dir(dir)) return cnn_error(CNN_ERR_IO, "%s: no such directory (looking for %s)", dir, info->name);
    return load_dir(info, dir, out);
}

// The cache directory: $XDG_CACHE_HOME/cnn-train/<name>, else
// $HOME/.cache/cnn-train/<name>; returns 0 when neither variable is usable.
static int cache_dir(const char *name, char *buf, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME");
    int n;
    if (xdg && xdg[0] == '/') {
        n = snprintf(buf, size, "%s/cnn-train/%s", xdg, name);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) return 0;
        n = snprintf(buf, size, "%s/.cache/cnn-train/%s", home, name);
    }
    return n > 0 && (size_t)n < size;
}

// The base URLs: $CNN_DATASET_MIRROR (split at spaces and commas, into
// storage) when set, else the dataset's own list. Returns the count.
static int mirror_list(const dataset_info *info, char *storage, size_t size, const char **urls) {
    const char *env = getenv("CNN_DATASET_MIRROR");
    int n = 0;
    if (env && *env) {
        snprintf(storage, size, "%s", env);
        char *save = NULL;
        for (char *tok = strtok_r(storage, " \t\n,", &save); tok && n < MAX_MIRRORS;
             tok = strtok_r(NULL, " \t\n,", &save))
            urls[n++] = tok;
        if (n) return n;
    }
    for (n = 0; info->mirrors[n] && n < MAX_MIRRORS; n++) urls[n] = info->mirrors[n];
    return n;
}

// Applies $CNN_DATASET_MD5 ("NAME=MD5 ..." for .gz file names) over the
// published checksums in md5 (each a 33-byte slot).
static cnn_status md5_overrides(char md5[N_FILES][33]) {
    const char *env = getenv("CNN_DATASET_MD5");
    if (!env || !*env) return CNN_OK;
    char copy[1024];
    if (strlen(env) >= sizeof copy) return cnn_error(CNN_ERR_INVALID_ARG, "CNN_DATASET_MD5 is too long");
    snprintf(copy, sizeof copy, "%s", env);
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \t\n,", &save); tok; tok = strtok_r(NULL, " \t\n,", &save)) {
        char *eq = strchr(tok, '=');
        int idx = -1;
        if (eq) {
            *eq = '\0';
            for (int i = 0; i < N_FILES; i++) {
                char gz[64];
                snprintf(gz, sizeof gz, "%s.gz", file_stem[i]);
                if (strcmp(tok, gz) == 0) idx = i;
            }
        }
        const char *val = eq ? eq + 1 : "";
        int ok = idx >= 0 && strlen(val) == 32;
        for (int k = 0; ok && k < 32; k++) ok = isxdigit((unsigned char)val[k]) != 0;
        if (!ok)
            return cnn_error(CNN_ERR_INVALID_ARG,
                             "CNN_DATASET_MD5: '%s' is not NAME=MD5 with NAME one of the four .gz file names (e.g. "
                             "train-images-idx3-ubyte.gz) and MD5 32 hex digits",
                             tok);
        snprintf(md5[idx], 33, "%s", val);
    }
    return CNN_OK;
}

// Downloads the files missing from cache into it. Returns the download's status.
static cnn_status download_into(const dataset_info *info, const char *cache, unsigned missing, int quiet) {
    char md5[N_FILES][33];
    for (int i = 0; i < N_FILES; i++) snprintf(md5[i], sizeof md5[i], "%s", info->md5[i]);
    CNN_TRY(md5_overrides(md5));
    char names[N_FILES][64];
    cnn_download_item items[N_FILES];
    int n_items = 0;
    for (int i = 0; i < N_FILES; i++) {
        if (!(missing & (1u << i))) continue;
        snprintf(names[i], sizeof names[i], "%s.gz", file_stem[i]);
        items[n_items].name = names[i];
        items[n_items].md5 = md5[i];
        n_items++;
    }
    char storage[1024];
    const char *urls[MAX_MIRRORS];
    int n_urls = mirror_list(info, storage, sizeof storage, urls);
    if (!quiet)
        fprintf(stderr, "cnn-train: %s was not found locally; downloading %d file(s) into %s\n", info->name, n_items,
                cache);
    cnn_download_options dopt = {0, 0, quiet};
    return cnn_download_files(urls, n_urls, items, n_items, cache, &dopt);
}

// Appends as much of text to the string in buf (size bytes) as fits.
static void append(char *buf, size_t size, const char *text) {
    size_t used = strlen(buf), len = strlen(text);
    if (used + 1 >= size) return;
    if (len > size - used - 1) len = size - used - 1;
    memcpy(buf + used, text, len);
    buf[used + len] = '\0';
}

// Appends "; where (what)" to the looked-in list.
static void note_dir(char *buf, size_t size, const char *where, const char *what) {
    if (buf[0]) append(buf, size, "; ");
    append(buf, size, where);
    append(buf, size, " (");
    append(buf, size, what);
    append(buf, size, ")");
}

// Describes dir for the looked-in list: no such directory, or how many files it has.
static void note_candidate(char *buf, size_t size, const char *dir) {
    unsigned missing;
    char what[64];
    if (!is_dir(dir))
        snprintf(what, sizeof what, "no such directory");
    else
        snprintf(what, sizeof what, "%d of 4 files", count_files(dir, &missing));
    note_dir(buf, size, dir, what);
}

cnn_status cnn_dataset_load(const char *name, const cnn_dataset_options *opt, cnn_dataset *out) {
    if (!out) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_dataset_load: out is NULL");
    memset(out, 0, sizeof *out);
    static const cnn_dataset_options defaults = {NULL, 1, 0};
    if (!opt) opt = &defaults;
    const dataset_info *info = NULL;
    CNN_TRY(find_info(name, &info));
    unsigned missing;
    char names[256];

    // 1. --data-dir: used alone; missing files are an error, never a fall-back.
    if (opt->data_dir && *opt->data_dir) {
        if (!is_dir(opt->data_dir))
            return cnn_error(CNN_ERR_IO, "--data-dir %s: no such directory; give a folder holding the four %s files",
                             opt->data_dir, info->name);
        if (count_files(opt->data_dir, &missing) < N_FILES) {
            list_files(missing, names, sizeof names);
            return cnn_error(CNN_ERR_IO,
                             "--data-dir %s lacks %s: put the four %s files there (.gz or uncompressed), or leave out "
                             "--data-dir to let cnn-train find or download them",
                             opt->data_dir, names, info->name);
        }
        return load_dir(info, opt->data_dir, out);
    }

    // 2-4. $CNN_DATA_DIR/<name>, the system directory, the cache: the first with all four files.
    char candidates[3][PATH_SIZE];
    int is_set[3] = {0, 0, 0};
    char looked[1024] = "";
    const char *env = getenv("CNN_DATA_DIR");
    if (env && *env) {
        int n = snprintf(candidates[0], PATH_SIZE, "%s/%s", env, info->name);
        is_set[0] = n > 0 && n < PATH_SIZE;
    }
    const char *sys = getenv("CNN_SYSTEM_DATA_DIR");
    if (!sys || !*sys) sys = "/usr/share/datasets";
    int n = snprintf(candidates[1], PATH_SIZE, "%s/%s", sys, info->name);
    is_set[1] = n > 0 && n < PATH_SIZE;
    is_set[2] = cache_dir(info->name, candidates[2], PATH_SIZE);
    for (int c = 0; c < 3; c++) {
        if (!is_set[c]) continue;
        int have = count_files(candidates[c], &missing);
        if (have == N_FILES) return load_dir(info, candidates[c], out);
        if (have > 0 && !opt->quiet) {
            list_files(missing, names, sizeof names);
            fprintf(stderr, "cnn-train: note: %s has only %d of the 4 %s files (lacks %s); skipping it\n",
                    candidates[c], have, info->name, names);
        }
    }
    if (!is_set[0]) {
        char where[64];
        snprintf(where, sizeof where, "$CNN_DATA_DIR/%s", info->name);
        note_dir(looked, sizeof looked, where, "not set");
    }
    for (int c = 0; c < 3; c++)
        if (is_set[c]) note_candidate(looked, sizeof looked, candidates[c]);
    if (!is_set[2]) note_dir(looked, sizeof looked, "the cache", "neither XDG_CACHE_HOME nor HOME is set");

    // 5. Download what the cache lacks.
    cnn_status st = CNN_ERR_IO;
    char why[400] = "Downloading is disabled.";
    missing = (1u << N_FILES) - 1;
    if (is_set[2]) count_files(candidates[2], &missing);
    if (opt->allow_download && is_set[2]) {
        st = download_into(info, candidates[2], missing, opt->quiet);
        if (st == CNN_OK) return load_dir(info, candidates[2], out);
        if (st == CNN_ERR_INVALID_ARG) return st; // a bad CNN_DATASET_MD5: its own message says what to fix
        snprintf(why, sizeof why, "The download failed: %s", cnn_last_error());
    } else if (opt->allow_download) {
        snprintf(why, sizeof why, "There is no cache directory to download into.");
    }
    list_files(missing, names, sizeof names);
    char hint[160] = "";
    if (info->install_hint) snprintf(hint, sizeof hint, "run '%s', ", info->install_hint);
    return cnn_error(st == CNN_OK ? CNN_ERR_IO : st,
                     "%s: dataset files not found: missing %s. Looked in: %s. To supply them: pass --data-dir DIR "
                     "(a folder with the four files, .gz or uncompressed), set CNN_DATA_DIR to a folder holding %s/, "
                     "%sor copy them into %s. %s",
                     info->name, names, looked, info->name, hint,
                     is_set[2] ? candidates[2] : "~/.cache/cnn-train/<name>", why);
}
