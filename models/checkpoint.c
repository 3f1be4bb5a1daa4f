// checkpoint.bin: write (temporary file, fsync, rename) and read with every check.
#include "models/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char magic[8] = {'C', 'N', 'N', 'C', 'K', 'P', 'T', '\0'};
enum { HEADER = 40 };

static uint64_t fnv1a64(const unsigned char *p, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

// A growing byte buffer.
typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }

cnn_status cnn_checkpoint_save(const char *dir, cnn_backend *be, const cnn_model *m, const cnn_dataset *ds,
                               int argc, char *const *argv, const cnn_train_progress *p,
                               const cnn_energy_segment *segs, int n_segs) {
    const size_t n = m->arena.n;
    if (n_segs < 0 || n_segs > CNN_ENERGY_MAX_SEGMENTS)
        return cnn_error(CNN_ERR_INVALID_ARG, "a checkpoint holds at most %d segments, got %d",
                         CNN_ENERGY_MAX_SEGMENTS, n_segs);
    buf b = {0};
    char name[128] = {0};
    snprintf(name, 32, "%s", ds->name);
    put(&b, name, 32);
    memset(name, 0, sizeof name);
    snprintf(name, sizeof name, "%s", m->desc);
    put(&b, name, 128);
    put_u32(&b, (uint32_t)ds->train.n);
    put_u32(&b, (uint32_t)ds->test.n);
    put_u64(&b, n);
    put_u32(&b, (uint32_t)argc);
    for (int i = 0; i < argc; i++) {
        put_u32(&b, (uint32_t)strlen(argv[i]));
        put(&b, argv[i], strlen(argv[i]));
    }
    cnn_train_progress pr;
    memset(&pr, 0, sizeof pr); // no stray padding bytes in the file
    pr = *p;
    put(&b, &pr, sizeof pr);
    put_u32(&b, (uint32_t)sizeof(cnn_energy_segment));
    put_u32(&b, (uint32_t)n_segs);
    if (n_segs) put(&b, segs, (size_t)n_segs * sizeof *segs);
    const uint64_t arena_off = b.n;
    float *host = malloc((n ? n : 1) * sizeof *host);
    cnn_status s = host && !b.oom ? CNN_OK : cnn_error(CNN_ERR_NOMEM, "out of memory writing a checkpoint");
    if (s == CNN_OK) s = be->ops->download(be, m->arena.base, host, n * sizeof *host);
    put(&b, host, n * sizeof *host);
    if (s == CNN_OK) s = be->ops->download(be, m->arena.base + 2 * n, host, n * sizeof *host);
    put(&b, host, n * sizeof *host);
    free(host);
    if (s == CNN_OK && b.oom) s = cnn_error(CNN_ERR_NOMEM, "out of memory writing a checkpoint");

    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, CNN_CHECKPOINT_NAME);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, CNN_CHECKPOINT_NAME, (long)getpid());
    FILE *f = s == CNN_OK ? fopen(tmp, "wb") : NULL;
    if (s == CNN_OK && !f) s = cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (f) {
        unsigned char h[HEADER];
        uint32_t v = CNN_CHECKPOINT_VERSION, ps = (uint32_t)sizeof(cnn_train_progress);
        uint64_t bytes = b.n, sum = fnv1a64(b.p, b.n);
        memcpy(h, magic, 8);
        memcpy(h + 8, &v, 4);
        memcpy(h + 12, &ps, 4);
        memcpy(h + 16, &bytes, 8);
        memcpy(h + 24, &sum, 8);
        memcpy(h + 32, &arena_off, 8);
        int bad = fwrite(h, 1, HEADER, f) != HEADER || fwrite(b.p, 1, b.n, f) != b.n || fflush(f) != 0 ||
                  fsync(fileno(f)) != 0;
        if (fclose(f) != 0) bad = 1;
        if (bad || rename(tmp, path) != 0) {
            s = cnn_error(CNN_ERR_IO, "writing the checkpoint %s failed: %s (disk full?)", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(b.p);
    return s;
}

// A reader over the payload that refuses to run past its end.
typedef struct {
    const unsigned char *p;
    size_t n, at;
} rd;

static int get(rd *r, void *dst, size_t n) {
    if (r->n - r->at < n) return 0;
    memcpy(dst, r->p + r->at, n);
    r->at += n;
    return 1;
}

cnn_status cnn_checkpoint_load(const char *dir, cnn_checkpoint *ck) {
    memset(ck, 0, sizeof *ck);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, CNN_CHECKPOINT_NAME);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cnn_error(CNN_ERR_IO, "%s has no checkpoint (%s: %s): only a run of cnn-train with --out (energy on) "
                         "that finished an epoch or a --checkpoint-every interval can be resumed", dir, path,
                         strerror(errno));
    unsigned char *data = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) {
            unsigned char *q = realloc(data, cap = cap ? 2 * cap : 1 << 20);
            if (!q) {
                free(data), fclose(f);
                return cnn_error(CNN_ERR_NOMEM, "out of memory reading %s", path);
            }
            data = q;
        }
        got = fread(data + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    cnn_status s = CNN_OK;
    uint32_t v = 0, ps = 0;
    uint64_t bytes = 0, sum = 0, arena_off = 0;
    if (len >= 8 && memcmp(data, magic, 8) != 0)
        s = cnn_error(CNN_ERR_FORMAT, "%s is not a cnn-train checkpoint (foreign file: no CNNCKPT magic)", path);
    else if (len < HEADER)
        s = cnn_error(CNN_ERR_FORMAT, "%s is truncated (%zu bytes, shorter than its %d-byte header)", path, len, HEADER);
    if (s == CNN_OK) {
        memcpy(&v, data + 8, 4), memcpy(&ps, data + 12, 4), memcpy(&bytes, data + 16, 8);
        memcpy(&sum, data + 24, 8), memcpy(&arena_off, data + 32, 8);
        if (v != CNN_CHECKPOINT_VERSION || ps != sizeof(cnn_train_progress))
            s = cnn_error(CNN_ERR_FORMAT, "%s is checkpoint format version %u (progress record %u bytes); this build "
                          "reads version %d (%zu bytes): resume it with the cnn-train that wrote it", path, v, ps,
                          CNN_CHECKPOINT_VERSION, sizeof(cnn_train_progress));
        else if (bytes != len - HEADER)
            s = cnn_error(CNN_ERR_FORMAT, "%s is truncated or has trailing bytes (%zu payload bytes, the header says "
                          "%llu)", path, len - HEADER, (unsigned long long)bytes);
        else if (fnv1a64(data + HEADER, bytes) != sum)
            s = cnn_error(CNN_ERR_FORMAT, "%s is corrupt: its FNV-1a 64 checksum does not match the payload", path);
    }
    rd r = {data + HEADER, len >= HEADER ? len - HEADER : 0, 0};
    uint32_t ntr = 0, nte = 0, argc = 0;
    uint64_t n = 0;
    if (s == CNN_OK && !(get(&r, ck->dataset, 32) && get(&r, ck->model, 128) && get(&r, &ntr, 4) &&
                         get(&r, &nte, 4) && get(&r, &n, 8) && get(&r, &argc, 4) && argc <= CNN_CHECKPOINT_MAX_ARGS))
        s = cnn_error(CNN_ERR_FORMAT, "%s is corrupt: bad identity block", path);
    ck->dataset[31] = ck->model[127] = '\0';
    for (uint32_t i = 0; s == CNN_OK && i < argc; i++) {
        uint32_t l = 0;
        if (!get(&r, &l, 4) || l > r.n - r.at || !(ck->argv[i] = calloc(l + 1, 1))) {
            s = cnn_error(CNN_ERR_FORMAT, "%s is corrupt: bad argument list", path);
            break;
        }
        get(&r, ck->argv[i], l);
        ck->argc = (int)i + 1;
    }
    uint32_t seg_size = 0, n_segs = 0;
    if (s == CNN_OK && (!get(&r, &ck->progress, sizeof ck->progress) || !get(&r, &seg_size, 4) ||
                        !get(&r, &n_segs, 4) || seg_size != sizeof(cnn_energy_segment) ||
                        n_segs > CNN_ENERGY_MAX_SEGMENTS ||
                        !get(&r, ck->segments, (size_t)n_segs * sizeof(cnn_energy_segment))))
        s = cnn_error(CNN_ERR_FORMAT, "%s is corrupt: bad segment list", path);
    ck->n_segments = (int)n_segs;
    if (s == CNN_OK && (r.at != arena_off ||
                        r.n - r.at != 2 * n * sizeof(float)))
        s = cnn_error(CNN_ERR_FORMAT, "%s is corrupt: its arena does not fill the payload", path);
    if (s == CNN_OK) {
        ck->n_train = (int)ntr, ck->n_test = (int)nte, ck->n = (size_t)n;
        ck->params = malloc((n ? n : 1) * sizeof(float));
        ck->momentum = malloc((n ? n : 1) * sizeof(float));
        if (!ck->params || !ck->momentum) s = cnn_error(CNN_ERR_NOMEM, "out of memory reading %s", path);
        else get(&r, ck->params, n * sizeof(float)), get(&r, ck->momentum, n * sizeof(float));
    }
    free(data);
    if (s != CNN_OK) cnn_checkpoint_free(ck);
    return s;
}

cnn_status cnn_checkpoint_restore(const cnn_checkpoint *ck, cnn_backend *be, cnn_model *m, const cnn_dataset *ds) {
    if (strcmp(ck->dataset, ds->name) != 0 || ck->n_train != ds->train.n || ck->n_test != ds->test.n)
        return cnn_error(CNN_ERR_FORMAT, "the checkpoint is of dataset %s (%d train, %d test), not of %s (%d, %d): "
                         "resume it with the data it was trained on", ck->dataset, ck->n_train, ck->n_test, ds->name,
                         ds->train.n, ds->test.n);
    if (strcmp(ck->model, m->desc) != 0 || ck->n != m->arena.n)
        return cnn_error(CNN_ERR_FORMAT, "the checkpoint is of model %s, not %s: it cannot be resumed as this model",
                         ck->model, m->desc);
    CNN_TRY(be->ops->upload(be, ck->params, m->arena.base, ck->n * sizeof(float)));
    return be->ops->upload(be, ck->momentum, m->arena.base + 2 * ck->n, ck->n * sizeof(float));
}

void cnn_checkpoint_free(cnn_checkpoint *ck) {
    for (int i = 0; i < ck->argc; i++) free(ck->argv[i]);
    free(ck->params);
    free(ck->momentum);
    memset(ck, 0, sizeof *ck);
}
