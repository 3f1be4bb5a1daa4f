// IDX reading (raw or gzip, detected from the content) with full
// validation, and atomic IDX writing. See idx.h for the rules.
#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define REMEDY "replace it with a good copy (or delete it so that cnn-train downloads it again)"

enum { IN_CHUNK = 1 << 18 };               // compressed bytes read from the file at a time
static const size_t GZ_FIRST_ALLOC = 64u << 20; // first buffer for gzip data; grows to the header's size

// A byte source over one file: raw bytes, or the inflated content of one or
// more concatenated gzip members.
typedef struct {
    const char *path;
    FILE *f;
    int gz;
    int zs_ready;    // inflateInit2 succeeded
    int member_done; // inflate reached the end of a gzip member
    int in_eof;      // the file has no more bytes
    z_stream zs;     // next_in/avail_in also hold the unread raw bytes
    uint8_t *in;     // IN_CHUNK bytes
} idx_src;

// Moves the unread input to the front of s->in and reads more from the file.
static cnn_status src_refill(idx_src *s) {
    size_t keep = s->zs.avail_in;
    if (keep && s->zs.next_in != s->in) memmove(s->in, s->zs.next_in, keep);
    size_t n = fread(s->in + keep, 1, IN_CHUNK - keep, s->f);
    if (n == 0) {
        if (ferror(s->f)) return cnn_error(CNN_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
        s->in_eof = 1;
    }
    s->zs.next_in = s->in;
    s->zs.avail_in = (uInt)(keep + n);
    return CNN_OK;
}

// dst has room for want bytes: reads up to want raw bytes; *got < want only at the end of the file.
static cnn_status src_read_raw(idx_src *s, uint8_t *dst, size_t want, size_t *got) {
    size_t done = 0;
    size_t buffered = s->zs.avail_in < want ? s->zs.avail_in : want;
    if (buffered) {
        memcpy(dst, s->zs.next_in, buffered);
        s->zs.next_in += buffered;
        s->zs.avail_in -= (uInt)buffered;
        done = buffered;
    }
    while (done < want && !s->in_eof) {
        size_t n = fread(dst + done, 1, want - done, s->f);
        if (n == 0) {
            if (ferror(s->f)) return cnn_error(CNN_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
            s->in_eof = 1;
        }
        done += n;
    }
    *got = done;
    return CNN_OK;
}

// dst has room for want bytes: inflates up to want bytes; *got < want only
// at the clean end of the last gzip member. Corrupt or cut-off gzip data and
// non-gzip bytes after a member are errors.
static cnn_status src_read_gz(idx_src *s, uint8_t *dst, size_t want, size_t *got) {
    size_t done = 0;
    while (done < want) {
        if (s->member_done) {
            // Another member may follow (concatenated .gz files are valid gzip).
            if (s->zs.avail_in < 2 && !s->in_eof) CNN_TRY(src_refill(s));
            if (s->zs.avail_in == 0) break;
            if (s->zs.avail_in < 2 || s->zs.next_in[0] != 0x1f || s->zs.next_in[1] != 0x8b)
                return cnn_error(CNN_ERR_FORMAT,
                                 "%s: trailing data after the end of the gzip stream (bytes that are not another "
                                 "gzip member): the file is corrupt; " REMEDY,
                                 s->path);
            if (inflateReset(&s->zs) != Z_OK)
                return cnn_error(CNN_ERR_INTERNAL, "%s: zlib inflateReset failed", s->path);
            s->member_done = 0;
        }
        if (s->zs.avail_in == 0 && !s->in_eof) CNN_TRY(src_refill(s));
        size_t chunk = want - done;
        if (chunk > (1u << 30)) chunk = 1u << 30;
        s->zs.next_out = dst + done;
        s->zs.avail_out = (uInt)chunk;
        int ret = inflate(&s->zs, Z_NO_FLUSH);
        done += chunk - s->zs.avail_out;
        if (ret == Z_STREAM_END) {
            s->member_done = 1;
        } else if (ret == Z_OK || done == want) {
            // The bytes asked for are here: inflate may have looked ahead at
            // bad input, and the next call meets that error again.
            continue;
        } else if (ret == Z_BUF_ERROR) {
            if (s->zs.avail_in == 0 && s->in_eof)
                return cnn_error(CNN_ERR_FORMAT,
                                 "%s: the compressed file is truncated (the gzip stream ends early, after %lu "
                                 "decompressed bytes): it was probably cut off while downloading or copying; " REMEDY,
                                 s->path, (unsigned long)s->zs.total_out);
        } else if (ret == Z_MEM_ERROR) {
            return cnn_error(CNN_ERR_NOMEM, "%s: out of memory while decompressing", s->path);
        } else {
            return cnn_error(CNN_ERR_FORMAT, "%s: corrupt gzip data (zlib: %s) after %lu decompressed bytes; " REMEDY,
                             s->path, s->zs.msg ? s->zs.msg : "invalid data", (unsigned long)s->zs.total_out);
        }
    }
    *got = done;
    return CNN_OK;
}

static cnn_status src_read(idx_src *s, uint8_t *dst, size_t want, size_t *got) {
    return s->gz ? src_read_gz(s, dst, want, got) : src_read_raw(s, dst, want, got);
}

static void src_close(idx_src *s) {
    if (s->zs_ready) inflateEnd(&s->zs);
    if (s->f) fclose(s->f);
    free(s->in);
    memset(s, 0, sizeof *s);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

// Opens path, reads its first bytes and decides raw or gzip from them.
static cnn_status src_open(idx_src *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->f = fopen(path, "rb");
    if (!s->f)
        return cnn_error(CNN_ERR_IO, "%s: cannot open: %s; check the path and its permissions", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(s->f), &st) == 0 && S_ISDIR(st.st_mode))
        return cnn_error(CNN_ERR_IO, "%s: is a directory, not an IDX file", path);
    s->in = malloc(IN_CHUNK);
    if (!s->in) return cnn_error(CNN_ERR_NOMEM, "%s: out of memory for the read buffer", path);
    s->zs.next_in = s->in;
    s->zs.avail_in = 0;
    CNN_TRY(src_refill(s));
    if (s->zs.avail_in == 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: the file is empty (0 bytes): it was not downloaded or copied fully; " REMEDY,
                         path);
    const uint8_t *b = s->zs.next_in;
    unsigned n = s->zs.avail_in;
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        s->gz = 1;
        if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK)
            return cnn_error(CNN_ERR_NOMEM, "%s: cannot initialise zlib: %s", path, s->zs.msg ? s->zs.msg : "?");
        s->zs_ready = 1;
        return CNN_OK;
    }
    if (ends_with(path, ".gz")) {
        char start[16] = "";
        for (unsigned i = 0; i < 4 && i < n; i++) snprintf(start + 3 * i, sizeof start - 3 * i, "%02x ", b[i]);
        start[n >= 4 ? 11 : 3 * n - 1] = '\0';
        if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == CNN_IDX_TYPE_U8)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: the name ends in .gz but the file is not gzip-compressed (it starts with %s, "
                             "like an uncompressed IDX file); rename it without .gz, or compress it with gzip",
                             path, start);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: the name ends in .gz but the file is not gzip-compressed (it starts with %s, not "
                         "1f 8b): it is not the file its name says; " REMEDY,
                         path, start);
    }
    return CNN_OK;
}

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static const char *idx_type_name(unsigned t) {
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    }
    return NULL;
}

// "60000x28x28" for dims[0..ndim).
static void dims_str(const uint32_t *dims, int ndim, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && used < size; i++) {
        int w = snprintf(buf + used, size - used, i ? "x%u" : "%u", (unsigned)dims[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

// Reads and checks the header: magic, type, ndim (against want_ndim), dims
// and their product; fills out->ndim, dims and size.
static cnn_status read_header(idx_src *s, int want_ndim, cnn_idx *out) {
    const char *path = s->path;
    const char *what = s->gz ? "decompresses to" : "is";
    uint8_t hdr[16];
    size_t got;
    CNN_TRY(src_read(s, hdr, 4, &got));
    if (got < 4)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: truncated header: the file %s only %zu bytes, an IDX header needs at least 8; " REMEDY,
                         path, what, got);
    if (hdr[0] != 0 || hdr[1] != 0) {
        if (hdr[0] == 0x1f && hdr[1] == 0x8b)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: bad magic number: the decompressed content is itself gzip (the file was "
                             "compressed twice); decompress it once with gunzip",
                             path);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: bad magic number: it starts with %02x %02x %02x %02x, an IDX file starts with 00 00: "
                         "this is not an IDX file; " REMEDY,
                         path, hdr[0], hdr[1], hdr[2], hdr[3]);
    }
    unsigned type = hdr[2], ndim = hdr[3];
    if (type != CNN_IDX_TYPE_U8) {
        const char *tn = idx_type_name(type);
        if (tn)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: type byte 0x%02x (%s) is not supported: cnn-train reads only unsigned-byte (0x08) "
                             "IDX files such as MNIST's",
                             path, type, tn);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: bad type byte 0x%02x: no IDX type has this code (0x08 is unsigned byte): the file is "
                         "corrupt; " REMEDY,
                         path, type);
    }
    if (ndim != 1 && ndim != 3)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: the header declares %u dimensions; cnn-train reads 1 (labels) or 3 (images: count, rows, "
                         "cols)",
                         path, ndim);
    if (want_ndim && (int)ndim != want_ndim)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: the header declares %u dimension(s) but %s file needs %d: is this the right file (images "
                         "and labels swapped)?",
                         path, ndim, want_ndim == 1 ? "a labels" : "an images", want_ndim);
    CNN_TRY(src_read(s, hdr + 4, 4 * ndim, &got));
    if (got < 4 * ndim)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: truncated header: it declares %u dimensions (a %u-byte header) but the file %s only %zu "
                         "bytes; " REMEDY,
                         path, ndim, 4 + 4 * ndim, what, 4 + got);
    out->ndim = (int)ndim;
    for (unsigned i = 0; i < ndim; i++) out->dims[i] = be32(hdr + 4 + 4 * i);
    for (unsigned i = 0; i < ndim; i++)
        if (out->dims[i] == 0)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: dimension %u is zero (%s): an IDX file needs at least one example and non-empty "
                             "images; " REMEDY,
                             path, i, i == 0 ? "no examples" : "empty images");
    if (out->dims[0] > CNN_IDX_MAX_EXAMPLES)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: the header claims %u examples, above the limit of %u: the header is corrupt; " REMEDY,
                         path, (unsigned)out->dims[0], CNN_IDX_MAX_EXAMPLES);
    if (ndim == 3 && (out->dims[1] > CNN_IDX_MAX_SIDE || out->dims[2] > CNN_IDX_MAX_SIDE))
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: the header claims %ux%u images, above the limit of %ux%u: the header is corrupt; " REMEDY,
                         path, (unsigned)out->dims[1], (unsigned)out->dims[2], CNN_IDX_MAX_SIDE, CNN_IDX_MAX_SIDE);
    // Each factor is bounded above, so the product fits in 64 bits; check the
    // total against the byte limit and size_t all the same.
    uint64_t total = 1;
    for (unsigned i = 0; i < ndim; i++) {
        if (total > UINT64_MAX / out->dims[i])
            return cnn_error(CNN_ERR_FORMAT, "%s: the header's dimensions overflow 64 bits; " REMEDY, path);
        total *= out->dims[i];
    }
    if (total > CNN_IDX_MAX_BYTES || total > (uint64_t)SIZE_MAX) {
        char d[48];
        dims_str(out->dims, out->ndim, d, sizeof d);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: the header claims %s = %llu bytes of data, above the limit of %llu bytes: the header is "
                         "corrupt; " REMEDY,
                         path, d, (unsigned long long)total, (unsigned long long)CNN_IDX_MAX_BYTES);
    }
    out->size = (size_t)total;
    return CNN_OK;
}

// Whether s has any byte left. It reads at most one byte, so a stream that
// goes on past what the header promises (a gzip bomb) is never inflated
// further than that.
static cnn_status has_more(idx_src *s, int *more) {
    uint8_t b;
    size_t got;
    CNN_TRY(src_read(s, &b, 1, &got));
    *more = got > 0;
    return CNN_OK;
}

// Reads the data section (out->size bytes as the header says) and checks
// that the file holds exactly that much.
static cnn_status read_body(idx_src *s, cnn_idx *out) {
    const char *path = s->path;
    char d[48];
    dims_str(out->dims, out->ndim, d, sizeof d);
    size_t hdr_len = 4 + 4 * (size_t)out->ndim;
    if (!s->gz) {
        // Raw: the file size tells truncation and trailing data before we allocate.
        struct stat st;
        if (fstat(fileno(s->f), &st) == 0 && S_ISREG(st.st_mode)) {
            uint64_t have = (uint64_t)st.st_size > hdr_len ? (uint64_t)st.st_size - hdr_len : 0;
            if (have < out->size)
                return cnn_error(CNN_ERR_FORMAT,
                                 "%s: truncated: expected %llu data bytes (%s) after the header, got %llu; " REMEDY,
                                 path, (unsigned long long)out->size, d, (unsigned long long)have);
            if (have > out->size)
                return cnn_error(CNN_ERR_FORMAT,
                                 "%s: trailing data: %llu bytes after the %llu data bytes (%s) the header describes: "
                                 "the file is corrupt; " REMEDY,
                                 path, (unsigned long long)(have - out->size), (unsigned long long)out->size, d);
        }
    }
    // A gzip header may lie about the size: grow the buffer as data arrives.
    size_t cap = (!s->gz || out->size <= GZ_FIRST_ALLOC) ? out->size : GZ_FIRST_ALLOC;
    uint8_t *data = malloc(cap);
    if (!data)
        return cnn_error(CNN_ERR_NOMEM, "%s: out of memory for %zu bytes of data (%s)", path, cap, d);
    size_t filled = 0;
    for (;;) {
        size_t got;
        cnn_status st = src_read(s, data + filled, cap - filled, &got);
        if (st != CNN_OK) {
            free(data);
            return st;
        }
        filled += got;
        if (filled < cap || cap == out->size) break;
        size_t ncap = cap > out->size / 2 ? out->size : cap * 2;
        uint8_t *grown = realloc(data, ncap);
        if (!grown) {
            free(data);
            return cnn_error(CNN_ERR_NOMEM, "%s: out of memory for %zu bytes of data (%s)", path, ncap, d);
        }
        data = grown;
        cap = ncap;
    }
    if (filled < out->size) {
        free(data);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: truncated: expected %llu data bytes (%s) after the header, got %llu; " REMEDY, path,
                         (unsigned long long)out->size, d, (unsigned long long)filled);
    }
    int more;
    cnn_status st = has_more(s, &more);
    if (st != CNN_OK) {
        free(data);
        return st;
    }
    if (more) {
        free(data);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: trailing data: more bytes after the %llu data bytes (%s) the header describes: the "
                         "file is corrupt; " REMEDY,
                         path, (unsigned long long)out->size, d);
    }
    out->data = data;
    return CNN_OK;
}

// path names an IDX file: fills out (ndim, dims, size, data) after checking all of it.
cnn_status cnn_idx_read(const char *path, int want_ndim, cnn_idx *out) {
    if (!out) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_idx_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path || !*path) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_idx_read: no path given");
    if (want_ndim != 0 && want_ndim != 1 && want_ndim != 3)
        return cnn_error(CNN_ERR_INVALID_ARG, "cnn_idx_read: want_ndim is %d, expected 0, 1 or 3", want_ndim);
    idx_src s;
    cnn_status st = src_open(&s, path);
    if (st == CNN_OK) st = read_header(&s, want_ndim, out);
    if (st == CNN_OK) st = read_body(&s, out);
    src_close(&s);
    if (st != CNN_OK) memset(out, 0, sizeof *out);
    return st;
}

void cnn_idx_free(cnn_idx *idx) {
    if (!idx) return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

// data is len bytes: writes them to a temporary file beside path, syncs, renames over path.
cnn_status cnn_write_file_atomic(const char *path, const void *data, size_t len) {
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) return cnn_error(CNN_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cnn_status st = cnn_error(CNN_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    (void)fchmod(fd, 0644);
    const uint8_t *p = data;
    size_t left = len;
    int err = 0;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        unlink(tmp);
        free(tmp);
        return cnn_error(CNN_ERR_IO, "%s: cannot write: %s", path, strerror(err));
    }
    free(tmp);
    return CNN_OK;
}

// idx is (dims) uint8: serialises header + data, gzip-compressed when asked, and writes it atomically.
cnn_status cnn_idx_write(const char *path, const cnn_idx *idx, int gzip) {
    if (!path || !idx || (idx->ndim != 1 && idx->ndim != 3) || (idx->size && !idx->data))
        return cnn_error(CNN_ERR_INVALID_ARG, "cnn_idx_write: needs a path and an idx with 1 or 3 dims and data");
    uint64_t total = 1;
    for (int i = 0; i < idx->ndim; i++) total *= idx->dims[i];
    if (total != idx->size)
        return cnn_error(CNN_ERR_INVALID_ARG, "cnn_idx_write: size %zu does not match the dims (%llu)", idx->size,
                         (unsigned long long)total);
    uint8_t hdr[16] = {0, 0, CNN_IDX_TYPE_U8, (uint8_t)idx->ndim};
    size_t hdr_len = 4 + 4 * (size_t)idx->ndim;
    for (int i = 0; i < idx->ndim; i++) {
        uint32_t v = idx->dims[i];
        hdr[4 + 4 * i] = (uint8_t)(v >> 24);
        hdr[5 + 4 * i] = (uint8_t)(v >> 16);
        hdr[6 + 4 * i] = (uint8_t)(v >> 8);
        hdr[7 + 4 * i] = (uint8_t)v;
    }
    size_t raw_len = hdr_len + idx->size;
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (!gzip) {
        out = malloc(raw_len);
        if (!out) return cnn_error(CNN_ERR_NOMEM, "%s: out of memory", path);
        memcpy(out, hdr, hdr_len);
        if (idx->size) memcpy(out + hdr_len, idx->data, idx->size);
        out_len = raw_len;
    } else {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return cnn_error(CNN_ERR_NOMEM, "%s: cannot initialise zlib", path);
        size_t bound = deflateBound(&zs, (uLong)raw_len) + 64;
        out = malloc(bound);
        if (!out) {
            deflateEnd(&zs);
            return cnn_error(CNN_ERR_NOMEM, "%s: out of memory", path);
        }
        zs.next_out = out;
        zs.avail_out = (uInt)(bound > UINT_MAX ? UINT_MAX : bound);
        zs.next_in = hdr;
        zs.avail_in = (uInt)hdr_len;
        int ret = deflate(&zs, Z_NO_FLUSH);
        const uint8_t *p = idx->data;
        size_t left = idx->size;
        while (ret == Z_OK) {
            size_t chunk = left > (1u << 30) ? (1u << 30) : left;
            zs.next_in = (Bytef *)p;
            zs.avail_in = (uInt)chunk;
            p += chunk;
            left -= chunk;
            ret = deflate(&zs, left ? Z_NO_FLUSH : Z_FINISH);
            if (!left) break;
        }
        out_len = (size_t)zs.total_out;
        deflateEnd(&zs);
        if (ret != Z_STREAM_END) {
            free(out);
            return cnn_error(CNN_ERR_INTERNAL, "%s: zlib deflate failed (%d)", path, ret);
        }
    }
    cnn_status st = cnn_write_file_atomic(path, out, out_len);
    free(out);
    return st;
}
