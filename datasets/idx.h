// IDX files (the format of MNIST and Fashion-MNIST), raw or gzip-compressed.
//
// Layout: two zero bytes, a type byte, the number of dimensions, then each
// dimension as a big-endian uint32, then the data, row-major. cnn-train
// reads only unsigned-byte data (type 0x08) with 1 dimension (labels) or 3
// (images: count, rows, cols), and checks everything before trusting it:
// see cnn_idx_read.
#ifndef CNN_IDX_H
#define CNN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Sanity limits on what a header may claim (a corrupt header must not make
// us allocate terabytes). The data section is capped at 1 GiB: the largest
// file cnn-train reads (MNIST's 60000x28x28 training images) is 47 MB, and
// the largest IDX dataset in common use (EMNIST ByClass, 697932x28x28) is
// 547 MB; a header claiming more is refused before any data is read, so a
// gzip file can never make the reader hold more than 1 GiB.
#define CNN_IDX_MAX_EXAMPLES 10000000u       // dims[0] of any file
#define CNN_IDX_MAX_SIDE 4096u               // rows and cols of an image
#define CNN_IDX_MAX_BYTES (1ull << 30)       // the whole data section (1 GiB)

#define CNN_IDX_TYPE_U8 0x08

typedef struct {
    int ndim;          // 1 (labels) or 3 (images)
    uint32_t dims[3];  // dims[0] = number of examples; unused entries are 0
    size_t size;       // bytes of data: the product of the dims
    uint8_t *data;     // (dims[0], dims[1], dims[2]) row-major, owned; free with cnn_idx_free
} cnn_idx;

// Reads the IDX file at path into out. Compression is detected from the
// content (gzip magic 1f 8b), not from the name, but a file whose name ends
// in ".gz" and is not gzip is an error (it was saved decompressed under the
// compressed name, or it is not the file it claims to be). want_ndim is 1
// or 3 to require that many dimensions, 0 to accept either.
//
// Errors (out is left zeroed): CNN_ERR_IO when the file cannot be opened or
// read; CNN_ERR_NOMEM; CNN_ERR_FORMAT, with a message naming the file and
// the reason, for: an empty file, a truncated header, a wrong magic number,
// a type byte other than 0x08, a dimension count other than 1 or 3 (or
// want_ndim), a zero dimension, dimensions above the limits above, a body
// shorter than the header says ("truncated: expected N bytes, got M") or
// longer ("trailing data", found by reading one byte past the end: a gzip
// stream is never inflated beyond what the header promises), a ".gz" name without gzip content, and corrupt
// or truncated gzip data.
cnn_status cnn_idx_read(const char *path, int want_ndim, cnn_idx *out);

// Frees idx->data and zeroes idx. Safe on a zeroed or already freed idx.
void cnn_idx_free(cnn_idx *idx);

// Writes idx (type 0x08, idx->ndim dims, idx->size bytes of data) to path,
// gzip-compressed when gzip != 0. The file is written under a temporary
// name in the same directory and renamed over path when complete.
cnn_status cnn_idx_write(const char *path, const cnn_idx *idx, int gzip);

// Writes len bytes to path through a temporary file in the same directory
// (flushed to disk, then renamed over path), so readers never see a
// partial file. Used by cnn_idx_write and the download code.
cnn_status cnn_write_file_atomic(const char *path, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
