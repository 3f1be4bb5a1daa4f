// Downloading dataset files over HTTP(S) with libcurl, each checked against
// its published MD5 before it takes its final name.
#ifndef CNN_DOWNLOAD_H
#define CNN_DOWNLOAD_H

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// One file to fetch: base_url + name is downloaded to dir/name.
typedef struct {
    const char *name; // file name, e.g. "train-images-idx3-ubyte.gz"
    const char *md5;  // the MD5 its publisher lists (32 hex digits); required
} cnn_download_item;

typedef struct {
    long connect_timeout_s; // give up connecting after this long (0: 10 s)
    long low_speed_time_s;  // abort when under 1 KiB/s for this long (0: 30 s)
    int quiet;              // 1: print nothing (otherwise progress goes to stderr)
} cnn_download_options;

// Downloads each item into dir (created, with its parents, when missing).
// For each item the base URLs are tried in order until one delivers the
// whole file with the right MD5. Each download goes to a temporary
// "<name>.part.XXXXXX" in dir and is renamed to <name> only after its MD5
// matched; a failed attempt leaves nothing behind. An HTTP status >= 400, a
// body shorter than its Content-Length, a connection failure or a timeout
// is CNN_ERR_NETWORK; a wrong MD5 is CNN_ERR_CHECKSUM (the message gives
// the expected and actual values; this status wins when any mirror served
// a wrong file); a directory or file that cannot be written is CNN_ERR_IO.
// The message names the file and what each mirror answered. opt may be NULL.
// dir and its missing parents are created; when the download fails, those
// this call created are removed again if they are empty.
cnn_status cnn_download_files(const char *const *base_urls, int n_urls, const cnn_download_item *items, int n_items,
                              const char *dir, const cnn_download_options *opt);

// mkdir -p: creates dir and any missing parents (mode 0755).
cnn_status cnn_mkdir_p(const char *dir);

#ifdef __cplusplus
}
#endif
#endif
