// The energy options (plain data): what the user asked the energy hook for,
// read by every stage. Their defaults, parsing and --help lines are the
// public API's (energy.h, options.c).
#ifndef CNN_ENERGY_OPTIONS_H
#define CNN_ENERGY_OPTIONS_H

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_ENERGY_MAX_STEPS 16

// An environmental impact in three criteria (per unit of whatever it multiplies).
typedef struct {
    double gwp;  // climate change, kgCO2eq
    double pe;   // primary energy, MJ
    double adp;  // abiotic depletion (minerals and metals), kgSbeq
} cnn_impact3;

#include <stddef.h>

#include "core/status.h"

// One rank of a data-parallel run (docs/distributed.md, "Energy"): every rank measures its own meters (its
// GPU; the node's host meters on the node's first rank only), and rank 0 writes the one record with every
// rank's meters. gather brings each rank's bytes to rank 0 (cnn_dist_gather_bytes' contract: on rank 0 *all
// holds them back to back, lens[k] rank k's length; NULL on the others).
typedef struct {
    int rank, size, local_rank;
    cnn_status (*gather)(void *ctx, const void *mine, size_t len, void **all, size_t *lens);
    void *ctx;
} cnn_energy_world;

struct cnn_energy_options {
    int enabled;              // 0 with --no-energy
    int resume;               // cnn-train resume: out_dir holds this run's record, which the session continues
    char out_dir[1024];       // --out DIR; "": runs/<UTC timestamp> under the current directory
    int power_interval_ms;    // --power-interval-ms (default 100)
    double idle_seconds;      // --idle-seconds (default 2; 0 skips the idle baseline)
    int idle_forced;          // --idle-seconds given: measure the baseline now instead of reading its cache
    int n_acc_steps;          // --acc-steps; 0: the default ladder up to the target
    double acc_steps[CNN_ENERGY_MAX_STEPS];
    char meters[128];         // --meters: "auto" or a list of nvml, rapl, cpu-model
    int gpu_index;            // the CUDA device ordinal that trains (--gpu N, cuda:N); NVML measures that GPU
    double pue;               // --pue (default 1.0)
    double grid_gco2;         // --grid-gco2, gCO2eq/kWh; < 0: from --grid-country or the world average
    char grid_country[8];     // --grid-country (ISO 3166 alpha-2 or alpha-3); "": world average
    double grid_pe_mj;        // --grid-pe, MJ/kWh; < 0: from the country table
    double grid_adp;          // --grid-adp, kgSbeq/kWh; < 0: from the country table
    double cpu_tdp_w;         // --cpu-tdp, W for the CPUs this machine has; < 0: 4 W per logical CPU
    double cpu_idle_w;        // --cpu-idle-w, W; < 0: 30% of the TDP share
    double aur;               // --aur, average utilisation rate of the hardware over its life (default 0.5)
    double lifetime_years;    // --lifetime-years (default 4)
    int have_embodied_host;   // --embodied-host GWP,PE,ADP (the whole server)
    cnn_impact3 embodied_host;
    double host_share;        // --host-share: this machine's share of the server; < 0: logical CPUs / 96
    int have_embodied_gpu;    // --embodied-gpu GWP,PE,ADP (one GPU)
    cnn_impact3 embodied_gpu;
    const cnn_energy_world *world; // a data-parallel run's rank (set by the program, not an option); NULL: one process
};
typedef struct cnn_energy_options cnn_energy_options;

#ifdef __cplusplus
}
#endif
#endif
