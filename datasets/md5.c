// MD5 as specified in RFC 1321: 64-byte blocks, four rounds of sixteen
// operations each, little-endian words, length in bits appended.
#include "md5.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

// Per-operation left-rotation amounts, four per round.
static const unsigned md5_shift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

// T[i] = floor(2^32 * |sin(i + 1)|), i in [0, 64).
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static uint32_t rotl32(uint32_t x, unsigned n) { return (x << n) | (x >> (32u - n)); }

// block is 64 bytes: mixes one block into state (4 words).
static void md5_block(uint32_t state[4], const uint8_t block[64]) {
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)block[4 * i] | ((uint32_t)block[4 * i + 1] << 8) | ((uint32_t)block[4 * i + 2] << 16) |
               ((uint32_t)block[4 * i + 3] << 24);
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned k;
        switch (i / 16) {
        case 0: f = (b & c) | (~b & d); k = i; break;
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) % 16; break;
        case 2: f = b ^ c ^ d; k = (3 * i + 5) % 16; break;
        default: f = c ^ (b | ~d); k = (7 * i) % 16; break;
        }
        uint32_t sum = a + f + md5_t[i] + x[k];
        a = d;
        d = c;
        c = b;
        b = b + rotl32(sum, md5_shift[i / 16][i % 4]);
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

void cnn_md5_init(cnn_md5_ctx *ctx) {
    ctx->state[0] = 0x67452301;
    ctx->state[1] = 0xefcdab89;
    ctx->state[2] = 0x98badcfe;
    ctx->state[3] = 0x10325476;
    ctx->length = 0;
    ctx->block_len = 0;
}

// data is len bytes: appends them to the message being hashed.
void cnn_md5_update(cnn_md5_ctx *ctx, const void *data, size_t len) {
    const uint8_t *p = data;
    ctx->length += len;
    if (ctx->block_len) {
        size_t take = 64 - ctx->block_len;
        if (take > len) take = len;
        memcpy(ctx->block + ctx->block_len, p, take);
        ctx->block_len += take;
        p += take;
        len -= take;
        if (ctx->block_len < 64) return;
        md5_block(ctx->state, ctx->block);
        ctx->block_len = 0;
    }
    for (; len >= 64; p += 64, len -= 64) md5_block(ctx->state, p);
    if (len) {
        memcpy(ctx->block, p, len);
        ctx->block_len = len;
    }
}

// Pads (0x80, zeros, 64-bit bit length) and writes the 16-byte digest.
void cnn_md5_final(cnn_md5_ctx *ctx, uint8_t digest[16]) {
    uint64_t bits = ctx->length * 8u;
    uint8_t pad[72] = {0x80};
    size_t pad_len = (ctx->block_len < 56) ? 56 - ctx->block_len : 120 - ctx->block_len;
    for (int i = 0; i < 8; i++) pad[pad_len + (size_t)i] = (uint8_t)(bits >> (8 * i));
    uint64_t saved = ctx->length;
    cnn_md5_update(ctx, pad, pad_len + 8);
    ctx->length = saved;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(ctx->state[i] >> (8 * j));
}

void cnn_md5_hex(const uint8_t digest[16], char hex[33]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[32] = '\0';
}

void cnn_md5_buffer_hex(const void *data, size_t len, char hex[33]) {
    cnn_md5_ctx ctx;
    uint8_t digest[16];
    cnn_md5_init(&ctx);
    cnn_md5_update(&ctx, data, len);
    cnn_md5_final(&ctx, digest);
    cnn_md5_hex(digest, hex);
}

// Reads the file at path in 64 KiB chunks and hashes it.
cnn_status cnn_md5_file_hex(const char *path, char hex[33]) {
    FILE *f = fopen(path, "rb");
    if (!f) return cnn_error(CNN_ERR_IO, "%s: cannot open to compute its MD5: %s", path, strerror(errno));
    cnn_md5_ctx ctx;
    cnn_md5_init(&ctx);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) cnn_md5_update(&ctx, buf, n);
    int err = ferror(f);
    fclose(f);
    if (err) return cnn_error(CNN_ERR_IO, "%s: read error while computing its MD5", path);
    uint8_t digest[16];
    cnn_md5_final(&ctx, digest);
    cnn_md5_hex(digest, hex);
    return CNN_OK;
}
