// core/dist.h's collectives under mpirun (tests/dist.cmake runs it with 2
// ranks; any number works): the gradient sum cnn_dist_sum_floats equals, bit
// for bit and on every rank, the reference sum of every rank's vector in
// rank order in double rounded once (each rank regenerates the others'
// vectors from their seeds), for sizes that do not divide by the world
// (0, 1, fewer elements than ranks, an odd million); the small double sums
// are in rank order; max, broadcast and gather; and cnn_dist_agree: a
// failure on one rank reaches every rank with that rank's message.
#include <math.h>
#include <string.h>

#include "core/dist.h"
#include "core/rng.h"
#include "test_util.h"

// Rank k's contribution to a vector of n: values of mixed signs and magnitudes (sums that round).
static void fill_rank(float *x, size_t n, int k) {
    cnn_rng rng;
    cnn_rng_seed(&rng, 1000 + (uint64_t)k);
    for (size_t i = 0; i < n; i++) {
        const double u = (double)(cnn_rng_u64(&rng) >> 11) / 9007199254740992.0; // [0, 1)
        x[i] = (float)((u - 0.5) * pow(10.0, (double)(i % 7) - 3.0));
    }
}

static void check_sum(cnn_dist *d, size_t n) {
    float *x = malloc((n ? n : 1) * sizeof *x), *other = malloc((n ? n : 1) * sizeof *other);
    double *ref = calloc(n ? n : 1, sizeof *ref);
    for (int k = 0; k < d->size; k++) {
        fill_rank(other, n, k);
        for (size_t i = 0; i < n; i++) ref[i] += (double)other[i];
    }
    fill_rank(x, n, d->rank);
    const long before = d->n_grad;
    CHECK_OK(cnn_dist_sum_floats(d, x, n));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += memcmp(&x[i], &(float){(float)ref[i]}, sizeof(float)) != 0;
    if (bad) fprintf(stderr, "rank %d: n %zu: %zu sums differ from the rank-order double reference\n", d->rank, n, bad);
    CHECK(bad == 0);
    CHECK(d->n_grad == before + (d->size > 1 && n > 0));
    free(x), free(other), free(ref);
}

int main(void) {
    cnn_dist *d = NULL;
    CHECK_OK(cnn_dist_init(&d));
    if (!d) return test_finish("test_dist_sum");
    printf("rank %d of %d (%d on this node, %d node%s)\n", d->rank, d->size, d->local_size, d->n_nodes,
           d->n_nodes == 1 ? "" : "s");
    CHECK(d->rank >= 0 && d->rank < d->size && d->local_rank < d->local_size && d->n_nodes >= 1);
    const size_t sizes[] = {0, 1, (size_t)d->size - 1, (size_t)d->size + 1, 1000003};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_sum(d, sizes[i]);
    CHECK(d->size == 1 || d->grad_s > 0.0);

    // small sums in rank order: 0.1 * (rank + 1) added over ranks 0..N-1 in double
    double v[2] = {0.1 * (d->rank + 1), (double)d->rank}, want = 0.0;
    for (int k = 0; k < d->size; k++) want += 0.1 * (k + 1);
    CHECK_OK(cnn_dist_sum_doubles(d, v, 2));
    CHECK(v[0] == want && v[1] == (double)d->size * (d->size - 1) / 2);

    int m = d->rank == d->size - 1 ? 15 : 0; // a signal seen by the last rank only
    CHECK_OK(cnn_dist_max_int(d, &m));
    CHECK(m == 15);

    char buf[32] = "";
    if (d->rank == 0) snprintf(buf, sizeof buf, "from rank 0");
    CHECK_OK(cnn_dist_broadcast(d, buf, sizeof buf, 0));
    CHECK(strcmp(buf, "from rank 0") == 0);

    double mine = 10.0 * d->rank, all[64] = {0};
    CHECK_OK(cnn_dist_gather_doubles(d, &mine, 1, d->rank == 0 ? all : NULL, 0));
    for (int k = 0; d->rank == 0 && k < d->size && k < 64; k++) CHECK(all[k] == 10.0 * k);

    // every rank fine: OK everywhere; the last rank failing: every rank gets its message
    CHECK_OK(cnn_dist_agree(d, CNN_OK));
    CHECK(!d->agreed_failure);
    const int last = d->size - 1;
    cnn_status s = d->rank == last ? cnn_error(CNN_ERR_IO, "disk full on the last rank") : CNN_OK;
    s = cnn_dist_agree(d, s);
    CHECK(s == CNN_ERR_IO && d->agreed_failure && d->failed_rank == last);
    CHECK(strstr(cnn_last_error(), "disk full on the last rank") != NULL);
    if (last > 0) CHECK(strstr(cnn_last_error(), "rank ") == cnn_last_error()); // "rank 1: disk full ..."
    CHECK_OK(cnn_dist_barrier(d));
    int failures = test_failures;
    CHECK_OK(cnn_dist_max_int(d, &failures)); // every rank reports the world's verdict
    cnn_dist_finalize(d);
    test_failures = failures;
    return test_finish("test_dist_sum");
}
