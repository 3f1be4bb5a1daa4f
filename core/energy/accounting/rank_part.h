// One rank's share of a data-parallel run's energy (docs/distributed.md, "Energy"): the meters it read
// (descriptions, idle powers, cumulative series) and the window edges it marked. Every rank marks the
// same edges at the same step numbers, so rank 0 re-times another rank's series onto its own clock by
// those edges (node clocks need not agree) and accounts every meter of the job as one of its own.
// Plain data: packed into bytes for the trip to rank 0 (the same build runs on every rank).
#ifndef CNN_ENERGY_RANK_PART_H
#define CNN_ENERGY_RANK_PART_H

#include <stddef.h>

#include "core/energy/accounting/accounting.h"
#include "core/energy/meters/meter.h"
#include "core/energy/meters/series.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int rank, local_rank, node;   // the rank, its index on its node, its node's index (0: rank 0's node)
    char host[64];                // the node's host name
    int logical_cpus;             // the node's logical CPUs (its share of a server's embodied impacts)
    double train_s;               // seconds of training
    double allreduce_s, comm_s;   // of them, in the gradient all-reduces (< 0: not measured) and other collectives
    int n_meters;
    cnn_meter_info info[CNN_ENERGY_MAX_METERS];
    double idle_w[CNN_ENERGY_MAX_METERS], idle_u_w[CNN_ENERGY_MAX_METERS]; // each meter's idle power (NaN: none)
    cnn_energy_series series[CNN_ENERGY_MAX_METERS]; // owned
    cnn_energy_event *events;     // (n_events), owned
    int n_events;
} cnn_energy_rank_part;

// Packs p into one malloc'd buffer (*buf, *len bytes); unpacks one (out owns its series and events).
// A buffer of another build, truncated or inconsistent, is refused with CNN_ERR_FORMAT.
cnn_status cnn_energy_part_pack(const cnn_energy_rank_part *p, void **buf, size_t *len);
cnn_status cnn_energy_part_unpack(const void *buf, size_t len, cnn_energy_rank_part *out);
void cnn_energy_part_free(cnn_energy_rank_part *p);

// Maps every time of p (its samples and events) onto the clock of `ref`, the reference rank's events:
// piecewise linearly between the matching edges, by the offset of the nearest edge outside them. The two
// event lists must hold the same kinds in the same order (the same steps), else CNN_ERR_INVALID_ARG.
cnn_status cnn_energy_part_retime(cnn_energy_rank_part *p, const cnn_energy_event *ref, int n_ref);

#ifdef __cplusplus
}
#endif
#endif
