// Data-parallel training across processes (ranks): who this process is
// among them, and the few collective operations the training loop needs.
// One implementation per build: core/dist_mpi.c on MPI (a build with
// CNN_HAVE_MPI), core/dist_none.c without it (a world of one process).
// docs/distributed.md describes launching, sharding and determinism.
//
// Determinism: every sum here is computed in a fixed order that depends
// only on the world size, never on MPI's internal reduction algorithm:
// cnn_dist_sum_floats gives each rank a slice of the vector (an all-to-all),
// the slice's owner adds the N contributions in rank order 0..N-1 in double
// and rounds once, then every rank gets every slice back (an all-gather),
// so all ranks hold the same bits, run after run. The small double sums
// gather every rank's values and add them in rank order on every rank.
//
// Communication time is measured on the host clock and kept in the
// cnn_dist (grad_s: the gradient sums; other_s: everything else), for the
// energy accounting of a run (cnn_train_result's dist fields).
#ifndef CNN_DIST_H
#define CNN_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnn_dist {
    int rank, size;             // this process in the world, and the world's size (1: not distributed)
    int local_rank, local_size; // the same on this node (ranks sharing memory: MPI_COMM_TYPE_SHARED)
    int n_nodes;                // nodes in the world (node-local rank-0s)
    bool mpi;                   // MPI was initialised by cnn_dist_init (finalise it)
    bool agreed_failure;        // the last cnn_dist_agree saw a failure on some rank: every rank knows it
    int failed_rank;            // then the lowest rank that failed
    double grad_s;              // seconds in cnn_dist_sum_floats (the gradient all-reduce on the host)
    double other_s;             // seconds in the other collectives (evaluation sums, stop flags, broadcasts)
    long n_grad;                // gradient sums done
    void *impl;                 // the implementation's state (communicators, scratch)
} cnn_dist;

// Whether a launcher (mpirun, srun) started this process as one of several
// ranks, from its environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE); the world
// size it says goes to *size (1 when none says).
bool cnn_dist_launched(int *size);
// Whether this build has MPI (CNN_HAVE_MPI).
bool cnn_dist_available(void);

// Joins the world the launcher started (MPI_Init when one did; a world of
// one without a launcher, or in a build without MPI, which then refuses a
// world of several with a message saying to rebuild with MPI). *out is
// freed by cnn_dist_finalize.
cnn_status cnn_dist_init(cnn_dist **out);
// Leaves the world (a barrier, then MPI_Finalize) and frees d (NULL: nothing).
void cnn_dist_finalize(cnn_dist *d);
// Ends every rank of the world at once (MPI_Abort) with exit code `code`:
// for a failure on one rank that the others cannot know about (they would
// wait for it forever). Returns only in a world of one.
void cnn_dist_abort(cnn_dist *d, int code);

// x is (n) host floats on every rank: x = the sum over ranks, in place, the
// same bits on every rank (the fixed order above). Counted in grad_s.
cnn_status cnn_dist_sum_floats(cnn_dist *d, float *x, size_t n);
// x is (n) host doubles (n <= 64): x = the sum over ranks in rank order.
cnn_status cnn_dist_sum_doubles(cnn_dist *d, double *x, int n);
// *x = the largest *x over the ranks (stop flags: a signal number, 0 none).
cnn_status cnn_dist_max_int(cnn_dist *d, int *x);
// buf is (bytes) on every rank: rank root's bytes are copied to the others.
cnn_status cnn_dist_broadcast(cnn_dist *d, void *buf, size_t bytes, int root);
// mine is (n) doubles on every rank, all is (size * n) on rank root (rank k's at k*n; other ranks: may be NULL).
cnn_status cnn_dist_gather_doubles(cnn_dist *d, const double *mine, int n, double *all, int root);
// mine is (len) bytes on every rank (len may differ): on rank 0, *all gets one malloc'd block holding every
// rank's bytes back to back and lens (size entries, given by the caller) their lengths, rank k's after rank
// k-1's; on the other ranks *all is NULL. The caller frees *all. (The energy shares: core/energy.)
cnn_status cnn_dist_gather_bytes(cnn_dist *d, const void *mine, size_t len, void **all, size_t *lens);
cnn_status cnn_dist_barrier(cnn_dist *d);
// Whether every rank got s == CNN_OK; when not, every rank learns it (agreed_failure, failed_rank) and the
// ranks whose s was CNN_OK get an error naming the failed rank, the others keep their own (returned).
cnn_status cnn_dist_agree(cnn_dist *d, cnn_status s);

// The world size, rank and seconds of d; NULL counts as a world of one.
static inline int cnn_dist_size(const cnn_dist *d) { return d ? d->size : 1; }
static inline int cnn_dist_rank(const cnn_dist *d) { return d ? d->rank : 0; }

#ifdef __cplusplus
}
#endif
#endif
