// core/dist.h without MPI (a build without CNN_HAVE_MPI): a world of one
// process, where every collective is the identity, and a clear refusal when a
// launcher started several copies (they would be independent runs, each
// writing its own record).
#include "dist.h"

#include <stdlib.h>
#include <string.h>

bool cnn_dist_available(void) { return false; }

cnn_status cnn_dist_init(cnn_dist **out) {
    *out = NULL;
    int size = 1;
    if (cnn_dist_launched(&size) && size > 1)
        return cnn_error(CNN_ERR_UNSUPPORTED, "started as one of %d ranks (mpirun or srun), but this cnn-train was "
                         "built without MPI: install libopenmpi-dev and rebuild (cmake -B build -DCNN_MPI=ON), or run "
                         "it without mpirun", size);
    cnn_dist *d = calloc(1, sizeof *d);
    if (!d) return cnn_error(CNN_ERR_NOMEM, "out of memory starting the process world");
    d->size = d->local_size = d->n_nodes = 1;
    *out = d;
    return CNN_OK;
}

void cnn_dist_finalize(cnn_dist *d) { free(d); }

void cnn_dist_abort(cnn_dist *d, int code) {
    (void)d;
    (void)code;
}

cnn_status cnn_dist_sum_floats(cnn_dist *d, float *x, size_t n) {
    (void)d, (void)x, (void)n;
    return CNN_OK;
}

cnn_status cnn_dist_sum_doubles(cnn_dist *d, double *x, int n) {
    (void)d, (void)x, (void)n;
    return CNN_OK;
}

cnn_status cnn_dist_max_int(cnn_dist *d, int *x) {
    (void)d, (void)x;
    return CNN_OK;
}

cnn_status cnn_dist_broadcast(cnn_dist *d, void *buf, size_t bytes, int root) {
    (void)d, (void)buf, (void)bytes, (void)root;
    return CNN_OK;
}

cnn_status cnn_dist_gather_doubles(cnn_dist *d, const double *mine, int n, double *all, int root) {
    (void)d, (void)root;
    if (all && n > 0) memcpy(all, mine, (size_t)n * sizeof *mine);
    return CNN_OK;
}

cnn_status cnn_dist_gather_bytes(cnn_dist *d, const void *mine, size_t len, void **all, size_t *lens) {
    (void)d;
    *all = malloc(len ? len : 1);
    if (!*all) return cnn_error(CNN_ERR_NOMEM, "out of memory gathering %zu bytes", len);
    if (len) memcpy(*all, mine, len);
    lens[0] = len;
    return CNN_OK;
}

cnn_status cnn_dist_barrier(cnn_dist *d) {
    (void)d;
    return CNN_OK;
}

cnn_status cnn_dist_agree(cnn_dist *d, cnn_status s) {
    if (d) d->agreed_failure = s != CNN_OK, d->failed_rank = 0;
    return s;
}
