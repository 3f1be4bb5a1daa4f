// The result of an energy session (internal to core/energy): every figure
// cnn_energy_finish computes, with what describes the run (options, machine,
// meters, the training loop's configuration), as plain data. The record
// writers (record/) and the report (report/) read it by const pointer and
// never see the live session (meters, sampler thread, lock, events).
#ifndef CNN_ENERGY_RESULT_H
#define CNN_ENERGY_RESULT_H

#include <stdint.h>

#include "core/energy/accounting/accounting.h"
#include "core/energy/accounting/impacts.h"
#include "core/energy/accounting/repeats.h"
#include "core/energy/accounting/segments.h"
#include "core/energy/common/notes.h"
#include "core/energy/common/options.h"
#include "core/energy/meters/meter.h"
#include "core/energy/meters/platform.h"
#include "core/energy/meters/series.h"
#include "core/train_events.h"

#ifdef __cplusplus
extern "C" {
#endif

// A data-parallel run's ranks and nodes (docs/distributed.md, "Energy"): which meters each rank read (its
// meters are info[first_meter .. first_meter + n_meters)), its seconds of training and communication, and
// the energy of each node (the sum of its ranks' meters; half-widths add). world_size 1: one process.
#define CNN_ENERGY_MAX_RANKS 64
typedef struct {
    int rank, node, local_rank;
    char host[64];
    int first_meter, n_meters;
    double train_s, allreduce_s, comm_s; // allreduce_s < 0: not measured (NCCL runs on the GPU's stream)
    double train_j, train_u;     // its meters' energy over the training window
    double fu_j, fu_u;           // and to the target (or the whole run), this session's part
} cnn_energy_rank_row;
typedef struct {
    char host[64];
    int n_ranks, logical_cpus, n_gpus;
    double train_j, train_u;     // over the training window
    double fu_j, fu_u;           // to the target (or the whole run), this session's part
} cnn_energy_node_row;
typedef struct {
    int world_size, n_nodes, n_ranks; // n_ranks: the rows below (at most CNN_ENERGY_MAX_RANKS)
    cnn_energy_rank_row ranks[CNN_ENERGY_MAX_RANKS];
    cnn_energy_node_row nodes[CNN_ENERGY_MAX_RANKS];
} cnn_energy_world_result;

typedef struct {
    // The run: options, identity, machine.
    cnn_energy_options opt;
    char backend[16];
    char run_dir[1100];
    char created_utc[32]; // ISO 8601, when the session started
    char run_id[40];      // a random UUID
    cnn_hw_info hw;
    double cpu_tdp_w, cpu_idle_w; // the cpu-model constants in use

    // The meters and their recorded series (the series' samples belong to the session's sampler).
    cnn_meter_info info[CNN_ENERGY_MAX_METERS];
    cnn_energy_series series[CNN_ENERGY_MAX_METERS];
    int n_meters;

    // The idle baselines: measured now, read from the per-host cache, or none.
    const char *idle_source;  // "measured now", "cached", "none"
    char idle_cache_path[1300], idle_cached_utc[32];
    double idle_cache_age_s, idle_cached_s;
    int idle_cached, ctx_known;
    double cached_w[CNN_ENERGY_MAX_METERS], cached_u[CNN_ENERGY_MAX_METERS];
    double ctx_w[CNN_ENERGY_MAX_METERS], ctx_u[CNN_ENERGY_MAX_METERS]; // the device-open idle per meter

    // What the training loop told the session.
    int have_info;
    char dataset[32], gemm[32], step[16], loop_backend[16], device_desc[128], model_desc[128];
    cnn_train_config cfg;
    long steps_per_epoch;
    int n_train, n_test;
    int have_result;
    cnn_train_result result; // the first run's

    cnn_energy_notes notes;

    // cnn-train resume: the run's earlier segments, and this session's (computed at the finish).
    cnn_energy_segment prior[CNN_ENERGY_MAX_SEGMENTS];
    int n_prior;
    cnn_energy_segment segment;

    // The figures.
    double t_stop;
    double steps[CNN_ENERGY_MAX_STEPS];
    int n_steps, steps_default;
    cnn_energy_accounting acc; // the first run (the only one without --repeat)
    cnn_energy_repeats rep;    // every run, the spanning window and the statistics across runs
    cnn_impact_factors factors;
    cnn_energy_fu fu;         // the functional unit's figures, earlier segments included
    cnn_impacts impacts;      // of the functional unit (or the whole run when the target was not reached)
    int impacts_fu;           // 1: impacts are for the functional unit
    cnn_impacts run_impacts;  // of the whole training window (emissions.csv)

    cnn_energy_world_result world; // the ranks and nodes (world_size 1: one process)

    // The hook's own cost.
    double thread_cpu_s;         // the sampler thread's CPU time
    double sampler_t0;           // when the sampler started (cnn_now_s); it ran until t_stop
    long reads, wakeups;         // meter reads and sampler wake-ups
    double mark_s, mark_max_s;   // time the training thread spent in window marks: total, longest
    long marks;
    double training_s;           // the training span the overhead is measured against (overhead.h)
    double overhead_pct;         // the overhead in % of it (NAN without a span)
} cnn_energy_result;

#ifdef __cplusplus
}
#endif
#endif
