// cnn-train's side of a data-parallel run: the world, the checks before training, quiet ranks.
#include "dist_cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/cuda/cuda_devices.h"
#include "core/energy/energy.h"
#include "models/checkpoint.h"

static cnn_dist *world;
static int saved_stderr = -1; // a quiet rank's own stderr, for the failures only it knows

static void leave_world(void) {
    fflush(stdout);
    fflush(stderr);
    cnn_dist_finalize(world);
    world = NULL;
}

// Ranks other than 0 print nothing: their stdout and stderr go to /dev/null (stderr kept for cli_dist_fail).
static void quiet_rank(void) {
    fflush(stdout);
    fflush(stderr);
    int null = open("/dev/null", O_WRONLY);
    if (null < 0) return;
    saved_stderr = dup(STDERR_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(null);
}

int cli_dist_start(void) {
    if (cnn_dist_init(&world) != CNN_OK) {
        fprintf(stderr, "cnn-train: %s\n", cnn_last_error());
        return 2;
    }
    atexit(leave_world);
    if (world->rank != 0) quiet_rank();
    return 0;
}

cnn_dist *cli_dist_world(void) { return world; }

// The energy hook's gather (cnn_energy_world): every rank's share of the energy to rank 0.
static cnn_status gather_energy(void *ctx, const void *mine, size_t len, void **all, size_t *lens) {
    return cnn_dist_gather_bytes(ctx, mine, len, all, lens);
}
static cnn_energy_world energy_world;

static int refuse(const char *msg) {
    fprintf(stderr, "cnn-train: %s\n", msg); // rank 0's stderr (the others' is quiet)
    return 2;
}

int cli_dist_prepare(cli_options *o, void *energy_options) {
    const int N = cnn_dist_size(world);
    char msg[512];
    o->cfg.dist = world;
    if (o->resume) {
        const cnn_checkpoint *ck = o->resume;
        if (ck->progress.world_size != N) {
            snprintf(msg, sizeof msg, "the checkpoint was written by a run of %d rank%s and this run has %d: resume "
                     "it with as many (%s)", ck->progress.world_size, ck->progress.world_size == 1 ? "" : "s", N,
                     ck->progress.world_size == 1 ? "cnn-train resume DIR, without mpirun"
                                                  : "mpirun -np N cnn-train resume DIR");
            return refuse(msg);
        }
    }
    if (N == 1) return 0;
    if (o->cfg.batch % N != 0) {
        snprintf(msg, sizeof msg, "--batch %d (the global batch) is not divisible by the %d ranks: give a multiple "
                 "of %d (each rank computes batch/%d rows of it)", o->cfg.batch, N, N, N);
        return refuse(msg);
    }
    if (o->backend && !strcmp(o->backend, "cuda") && !o->gpu_given) { // one GPU per rank: the node-local rank's
        int count = cnn_cuda_device_count(NULL, 0);
        if (count > 0 && world->local_size > count) {
            snprintf(msg, sizeof msg, "%d ranks on this node but %d GPU%s: run at most %d ranks per node (mpirun "
                     "--npernode %d), or use --backend=cpu", world->local_size, count, count == 1 ? "" : "s", count,
                     count);
            return refuse(msg);
        }
        o->device_index = world->local_rank;
    }
    if (world->rank != 0) o->quiet = true;
    // every rank measures its own meters; rank 0 gathers them into the one record (docs/distributed.md, "Energy")
    energy_world = (cnn_energy_world){world->rank, world->size, world->local_rank, gather_energy, world};
    ((cnn_energy_options *)energy_options)->world = &energy_world;
    return 0;
}

void cli_dist_describe(progress_printer *p) {
    int n;
    if (cnn_dist_launched(&n)) p->bar = false; // a launcher's output is forwarded: mpirun gives ranks a pty
    p->world_size = cnn_dist_size(world);
    p->ranks_per_node = world ? world->local_size : 1;
    p->n_nodes = world ? world->n_nodes : 1;
}

void cli_dist_fail(const char *msg, int code) {
    const bool known = !world || world->size == 1 || world->agreed_failure;
    if (world && world->rank != 0 && !known && saved_stderr >= 0) {
        dprintf(saved_stderr, "cnn-train: rank %d: %s\n", world->rank, msg);
    } else if (!world || world->rank == 0) {
        fprintf(stderr, "cnn-train: %s\n", msg);
    }
    if (!known) cnn_dist_abort(world, code);
}

void cli_dist_failure_agreed(void) {
    if (world) world->agreed_failure = true;
}
