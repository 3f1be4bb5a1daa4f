// MD5 (RFC 1321), used only to check downloaded files against the
// checksums their publishers list. Not for anything security-related.
#ifndef CNN_MD5_H
#define CNN_MD5_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t state[4];  // A, B, C, D
    uint64_t length;    // bytes hashed so far
    uint8_t block[64];  // the partial 64-byte block not yet hashed
    size_t block_len;
} cnn_md5_ctx;

void cnn_md5_init(cnn_md5_ctx *ctx);
void cnn_md5_update(cnn_md5_ctx *ctx, const void *data, size_t len);
// Writes the 16-byte digest; the context must be re-initialised before reuse.
void cnn_md5_final(cnn_md5_ctx *ctx, uint8_t digest[16]);

// The digest as 32 lowercase hex digits plus a NUL.
void cnn_md5_hex(const uint8_t digest[16], char hex[33]);
// hex = MD5 of data[0..len) as lowercase hex.
void cnn_md5_buffer_hex(const void *data, size_t len, char hex[33]);
// hex = MD5 of the whole file at path (CNN_ERR_IO when it cannot be read).
cnn_status cnn_md5_file_hex(const char *path, char hex[33]);

#ifdef __cplusplus
}
#endif
#endif
