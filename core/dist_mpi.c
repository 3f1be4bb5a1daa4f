// core/dist.h on MPI (a build with CNN_HAVE_MPI): the world the launcher
// started, a duplicate of MPI_COMM_WORLD whose errors are returned (and
// reported with file and line) rather than fatal, and the fixed-order sums
// that make a run's bits depend on the world size only (core/dist.h).
#include "dist.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

typedef struct {
    MPI_Comm world;  // our duplicate of MPI_COMM_WORLD (errors returned)
    MPI_Comm node;   // the ranks of this node (MPI_COMM_TYPE_SHARED)
    double *scratch; // the slices received by cnn_dist_sum_floats, and the gathered doubles
    size_t scratch_n;
    int *counts;     // (4 * size) all-to-all counts and displacements
} mpi_state;

// An MPI result as a cnn_status: "file:line: call failed: MPI's message".
static cnn_status mpi_check(int rc, const char *call, const char *file, int line) {
    if (rc == MPI_SUCCESS) return CNN_OK;
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return cnn_error(CNN_ERR_DEVICE, "%s:%d: %s failed: %s: check the MPI installation and the launch (mpirun -np N)",
                     file, line, call, msg);
}

#define MPI_CHECK(expr) CNN_TRY(mpi_check((expr), #expr, __FILE__, __LINE__))

static mpi_state *state(cnn_dist *d) { return d->impl; }

bool cnn_dist_available(void) { return true; }

// scratch of at least n doubles.
static cnn_status grow(mpi_state *m, size_t n) {
    if (n <= m->scratch_n) return CNN_OK;
    double *p = realloc(m->scratch, n * sizeof *p);
    if (!p) return cnn_error(CNN_ERR_NOMEM, "out of memory for the gradient all-reduce (%zu doubles)", n);
    m->scratch = p, m->scratch_n = n;
    return CNN_OK;
}

static cnn_status join(cnn_dist *d) {
    int inited = 0;
    MPI_CHECK(MPI_Initialized(&inited));
    if (!inited) MPI_CHECK(MPI_Init(NULL, NULL));
    d->mpi = !inited;
    mpi_state *m = calloc(1, sizeof *m);
    if (!m) return cnn_error(CNN_ERR_NOMEM, "out of memory joining the MPI world");
    d->impl = m;
    m->world = m->node = MPI_COMM_NULL;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &m->world));
    MPI_CHECK(MPI_Comm_set_errhandler(m->world, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(m->world, &d->rank));
    MPI_CHECK(MPI_Comm_size(m->world, &d->size));
    MPI_CHECK(MPI_Comm_split_type(m->world, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &m->node));
    MPI_CHECK(MPI_Comm_set_errhandler(m->node, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(m->node, &d->local_rank));
    MPI_CHECK(MPI_Comm_size(m->node, &d->local_size));
    int leader = d->local_rank == 0;
    MPI_CHECK(MPI_Allreduce(&leader, &d->n_nodes, 1, MPI_INT, MPI_SUM, m->world));
    m->counts = calloc(4 * (size_t)d->size, sizeof *m->counts);
    if (!m->counts) return cnn_error(CNN_ERR_NOMEM, "out of memory joining the MPI world");
    return CNN_OK;
}

cnn_status cnn_dist_init(cnn_dist **out) {
    *out = NULL;
    cnn_dist *d = calloc(1, sizeof *d);
    if (!d) return cnn_error(CNN_ERR_NOMEM, "out of memory starting the process world");
    d->size = d->local_size = d->n_nodes = 1;
    int size = 1;
    // Without a launcher, a world of one without MPI_Init (an MPI singleton would start a daemon for nothing).
    if (cnn_dist_launched(&size)) {
        cnn_status s = join(d);
        if (s != CNN_OK) {
            cnn_dist_finalize(d);
            return s;
        }
    }
    *out = d;
    return CNN_OK;
}

void cnn_dist_finalize(cnn_dist *d) {
    if (!d) return;
    mpi_state *m = state(d);
    if (m) {
        if (m->world != MPI_COMM_NULL) MPI_Barrier(m->world); // rank 0 may still be writing the record
        if (m->node != MPI_COMM_NULL) MPI_Comm_free(&m->node);
        if (m->world != MPI_COMM_NULL) MPI_Comm_free(&m->world);
        free(m->scratch);
        free(m->counts);
        free(m);
    }
    if (d->mpi) MPI_Finalize();
    free(d);
}

void cnn_dist_abort(cnn_dist *d, int code) {
    if (d && d->impl && d->size > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(state(d)->world, code);
    }
}

// Slice k of n elements over N ranks: [n k / N, n (k+1) / N).
static size_t slice_lo(size_t n, int k, int N) { return (size_t)((unsigned __int128)n * (unsigned)k / (unsigned)N); }

// The all-to-all moves rank k's copy of slice j to rank j; rank j adds the N copies in rank order (double,
// rounded once) and the all-gather gives every rank every slice: the same bits everywhere.
cnn_status cnn_dist_sum_floats(cnn_dist *d, float *x, size_t n) {
    if (!d || d->size == 1 || n == 0) return CNN_OK;
    const double t0 = cnn_now_s();
    mpi_state *m = state(d);
    const int N = d->size, me = d->rank;
    const size_t lo = slice_lo(n, me, N), len = slice_lo(n, me + 1, N) - lo;
    if (slice_lo(n, 1, N) + 1 > (size_t)INT_MAX)
        return cnn_error(CNN_ERR_INVALID_ARG, "all-reduce of %zu floats over %d ranks: a slice exceeds MPI's int count",
                         n, N);
    int *scount = m->counts, *sdispl = scount + N, *rcount = sdispl + N, *rdispl = rcount + N;
    for (int k = 0; k < N; k++) {
        scount[k] = (int)(slice_lo(n, k + 1, N) - slice_lo(n, k, N)); // my copy of slice k, to rank k
        sdispl[k] = (int)slice_lo(n, k, N);
        rcount[k] = (int)len; // rank k's copy of my slice
        rdispl[k] = (int)(len * (size_t)k);
    }
    // received as floats into the scratch's front half (N*len floats fit in N*len doubles)
    CNN_TRY(grow(m, (size_t)N * len + 1));
    float *recv = (float *)m->scratch;
    MPI_CHECK(MPI_Alltoallv(x, scount, sdispl, MPI_FLOAT, recv, rcount, rdispl, MPI_FLOAT, m->world));
    for (size_t i = 0; i < len; i++) {
        double acc = 0.0;
        for (int k = 0; k < N; k++) acc += (double)recv[(size_t)k * len + i];
        x[lo + i] = (float)acc;
    }
    MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, x, scount, sdispl, MPI_FLOAT, m->world));
    d->grad_s += cnn_now_s() - t0;
    d->n_grad++;
    return CNN_OK;
}

cnn_status cnn_dist_sum_doubles(cnn_dist *d, double *x, int n) {
    if (!d || d->size == 1 || n <= 0) return CNN_OK;
    if (n > 64) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_dist_sum_doubles: %d values, at most 64", n);
    const double t0 = cnn_now_s();
    mpi_state *m = state(d);
    CNN_TRY(grow(m, (size_t)d->size * (size_t)n));
    MPI_CHECK(MPI_Allgather(x, n, MPI_DOUBLE, m->scratch, n, MPI_DOUBLE, m->world));
    for (int i = 0; i < n; i++) {
        double acc = 0.0;
        for (int k = 0; k < d->size; k++) acc += m->scratch[(size_t)k * n + i];
        x[i] = acc;
    }
    d->other_s += cnn_now_s() - t0;
    return CNN_OK;
}

cnn_status cnn_dist_max_int(cnn_dist *d, int *x) {
    if (!d || d->size == 1) return CNN_OK;
    const double t0 = cnn_now_s();
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, x, 1, MPI_INT, MPI_MAX, state(d)->world)); // exact in any order
    d->other_s += cnn_now_s() - t0;
    return CNN_OK;
}

cnn_status cnn_dist_broadcast(cnn_dist *d, void *buf, size_t bytes, int root) {
    if (!d || d->size == 1 || bytes == 0) return CNN_OK;
    const double t0 = cnn_now_s();
    for (size_t at = 0; at < bytes; at += (size_t)1 << 30) { // int counts: 1 GiB at a time
        size_t chunk = bytes - at < ((size_t)1 << 30) ? bytes - at : (size_t)1 << 30;
        MPI_CHECK(MPI_Bcast((char *)buf + at, (int)chunk, MPI_BYTE, root, state(d)->world));
    }
    d->other_s += cnn_now_s() - t0;
    return CNN_OK;
}

cnn_status cnn_dist_gather_doubles(cnn_dist *d, const double *mine, int n, double *all, int root) {
    if (!d || d->size == 1) {
        if (all && n > 0) memcpy(all, mine, (size_t)n * sizeof *mine);
        return CNN_OK;
    }
    const double t0 = cnn_now_s();
    MPI_CHECK(MPI_Gather(mine, n, MPI_DOUBLE, all, n, MPI_DOUBLE, root, state(d)->world));
    d->other_s += cnn_now_s() - t0;
    return CNN_OK;
}

cnn_status cnn_dist_gather_bytes(cnn_dist *d, const void *mine, size_t len, void **all, size_t *lens) {
    *all = NULL;
    if (!d || d->size == 1) {
        *all = malloc(len ? len : 1);
        if (!*all) return cnn_error(CNN_ERR_NOMEM, "out of memory gathering %zu bytes", len);
        if (len) memcpy(*all, mine, len);
        lens[0] = len;
        return CNN_OK;
    }
    if (len > (size_t)INT_MAX) return cnn_error(CNN_ERR_INVALID_ARG, "gather: %zu bytes is over MPI's int count", len);
    const double t0 = cnn_now_s();
    int n = (int)len, *counts = NULL, *displs = NULL;
    char *buf = NULL;
    if (d->rank == 0) {
        counts = calloc(2 * (size_t)d->size, sizeof *counts);
        if (!counts) return cnn_error(CNN_ERR_NOMEM, "out of memory gathering from %d ranks", d->size);
        displs = counts + d->size;
    }
    int rc = MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, state(d)->world);
    size_t total = 0;
    if (rc == MPI_SUCCESS && d->rank == 0) {
        for (int k = 0; k < d->size; k++) {
            if (total + (size_t)counts[k] > (size_t)INT_MAX) rc = MPI_ERR_COUNT;
            displs[k] = (int)total, lens[k] = (size_t)counts[k], total += (size_t)counts[k];
        }
        buf = malloc(total ? total : 1);
        if (!buf) {
            free(counts);
            return cnn_error(CNN_ERR_NOMEM, "out of memory gathering %zu bytes from %d ranks", total, d->size);
        }
    }
    if (rc == MPI_SUCCESS) rc = MPI_Gatherv(mine, n, MPI_BYTE, buf, counts, displs, MPI_BYTE, 0, state(d)->world);
    free(counts);
    d->other_s += cnn_now_s() - t0;
    if (rc != MPI_SUCCESS) {
        free(buf);
        MPI_CHECK(rc);
    }
    *all = buf;
    return CNN_OK;
}

cnn_status cnn_dist_barrier(cnn_dist *d) {
    if (!d || d->size == 1) return CNN_OK;
    const double t0 = cnn_now_s();
    MPI_CHECK(MPI_Barrier(state(d)->world));
    d->other_s += cnn_now_s() - t0;
    return CNN_OK;
}

// The lowest failed rank (MIN of rank or INT_MAX) decides; it broadcasts its status and message, so that
// every rank returns the same error (rank 0 prints it).
cnn_status cnn_dist_agree(cnn_dist *d, cnn_status s) {
    if (!d) return s;
    d->agreed_failure = false;
    if (d->size == 1) {
        d->agreed_failure = s != CNN_OK;
        return s;
    }
    const double t0 = cnn_now_s();
    int failed = s != CNN_OK ? d->rank : INT_MAX;
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MIN, state(d)->world));
    if (failed == INT_MAX) {
        d->other_s += cnn_now_s() - t0;
        return CNN_OK;
    }
    struct {
        int code;
        char msg[480];
    } why = {(int)s, ""};
    if (d->rank == failed) snprintf(why.msg, sizeof why.msg, "%s", cnn_last_error());
    MPI_CHECK(MPI_Bcast(&why, (int)sizeof why, MPI_BYTE, failed, state(d)->world));
    d->agreed_failure = true;
    d->failed_rank = failed;
    d->other_s += cnn_now_s() - t0;
    if (failed == 0) return cnn_error((cnn_status)why.code, "%s", why.msg);
    return cnn_error((cnn_status)why.code, "rank %d: %s", failed, why.msg);
}
