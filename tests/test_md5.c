// MD5: the RFC 1321 test suite (appendix A.5), a million 'a's, chunked
// updates across block boundaries, and hashing a file.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_test_helpers.h"
#include "datasets/md5.h"
#include "test_util.h"

static void check_vector(const char *msg, const char *want) {
    char got[33];
    cnn_md5_buffer_hex(msg, strlen(msg), got);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "MD5(\"%s\") = %s, want %s\n", msg, got, want);
        test_failures++;
    }
}

int main(void) {
    // RFC 1321, A.5.
    check_vector("", "d41d8cd98f00b204e9800998ecf8427e");
    check_vector("a", "0cc175b9c0f1b6a831c399e269772661");
    check_vector("abc", "900150983cd24fb0d6963f7d28e17f72");
    check_vector("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
    check_vector("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b");
    check_vector("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                 "d174ab98d277d9f5a5611c2c9f419d9f");
    check_vector("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                 "57edf4a22be3c955ac49da2e2107b67a");

    // A million 'a's (a widely published value), fed in uneven pieces.
    size_t n = 1000000;
    char *a = malloc(n);
    CHECK(a != NULL);
    if (!a) return test_finish("test_md5");
    memset(a, 'a', n);
    cnn_md5_ctx ctx;
    cnn_md5_init(&ctx);
    size_t off = 0, step = 1;
    while (off < n) {
        size_t take = step < n - off ? step : n - off;
        cnn_md5_update(&ctx, a + off, take);
        off += take;
        step = step * 3 % 997 + 1;
    }
    uint8_t digest[16];
    char hex[33];
    cnn_md5_final(&ctx, digest);
    cnn_md5_hex(digest, hex);
    CHECK(strcmp(hex, "7707d6ae4e027c70eea2a935c2296f21") == 0);

    // Every length around the padding boundaries, one-shot versus byte by byte.
    for (size_t len = 0; len <= 130; len++) {
        char one[33], bytewise[33];
        cnn_md5_buffer_hex(a, len, one);
        cnn_md5_init(&ctx);
        for (size_t i = 0; i < len; i++) cnn_md5_update(&ctx, a + i, 1);
        cnn_md5_final(&ctx, digest);
        cnn_md5_hex(digest, bytewise);
        if (strcmp(one, bytewise) != 0) {
            fprintf(stderr, "length %zu: one-shot %s, byte-wise %s\n", len, one, bytewise);
            test_failures++;
        }
    }
    // Lengths differing by one byte give different digests (padding is length-aware).
    char h55[33], h56[33];
    cnn_md5_buffer_hex(a, 55, h55);
    cnn_md5_buffer_hex(a, 56, h56);
    CHECK(strcmp(h55, h56) != 0);

    // The file variant agrees with the buffer variant; a missing file is an I/O error.
    const char *dir = dt_make_temp_dir("md5");
    const char *path = dt_path("%s/million-a", dir);
    dt_write_file(path, a, n);
    char file_hex[33] = "";
    CHECK_OK(cnn_md5_file_hex(path, file_hex));
    CHECK(strcmp(file_hex, "7707d6ae4e027c70eea2a935c2296f21") == 0);
    CHECK_FAILS(cnn_md5_file_hex(dt_path("%s/none", dir), file_hex), CNN_ERR_IO, "cannot open");
    dt_rm_rf(dir);
    free(a);
    return test_finish("test_md5");
}
