// Impacts of a run (internal to core/energy): operational (energy x PUE x
// grid factors) and embodied (the hardware's manufacturing impact
// amortised over its useful life), in three criteria: climate change
// (kgCO2eq), primary energy (MJ) and abiotic depletion (kgSbeq). Every
// factor, its value and its source are kept so that outputs show them.
#ifndef CNN_ENERGY_IMPACTS_H
#define CNN_ENERGY_IMPACTS_H

#include "core/energy/common/options.h"
#include "core/energy/meters/meter.h"
#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// One electricity mix: impacts per kWh of electricity used.
typedef struct {
    const char *a2, *a3, *name;
    double gwp; // kgCO2eq/kWh
    double pe;  // MJ/kWh
    double adp; // kgSbeq/kWh
    const char *gwp_source;
} cnn_grid_entry;

// The built-in table (docs/ENERGY.md gives its sources). Returns the count.
int cnn_grid_table(const cnn_grid_entry **table);
// The entry for an ISO 3166 alpha-2 or alpha-3 code (case-insensitive),
// "WOR"/"WORLD" for the world average, "EU"/"EEE" for the EU-27; NULL when unknown.
const cnn_grid_entry *cnn_grid_lookup(const char *code);

typedef struct {
    char name[64];          // "host", "gpu"
    cnn_impact3 embodied;   // the whole device, manufacture
    double share;           // the fraction of the device this run has (a VM's share of the server)
    char source[256];
} cnn_embodied_device;

typedef struct {
    double pue;
    char grid_code[8], grid_name[48], grid_source[320];
    cnn_impact3 grid;       // per kWh
    double aur;             // average utilisation rate over the life
    double lifetime_years;
    int n_devices;
    cnn_embodied_device devices[1 + CNN_ENERGY_MAX_METERS]; // the host, then one per GPU measured
} cnn_impact_factors;

typedef struct {
    double energy_j, energy_kwh; // energy before PUE
    double time_s;
    double life_share;      // time_s / (aur * lifetime): the share of the hardware's useful life this run used
    cnn_impact3 operational, embodied, total;
} cnn_impacts;

#define CNN_SECONDS_PER_YEAR (365.25 * 86400.0)

// Reference figures for the defaults (docs/ENERGY.md).
#define CNN_HOST_REFERENCE_THREADS 96 // the reference server: 2 x 24-core CPUs, 2 threads per core

// Builds the factors from the options and the hardware: the host's share
// (logical CPUs / 96 unless --host-share) and n_gpus GPUs.
cnn_status cnn_impact_factors_from_options(const cnn_energy_options *o, int n_logical_cpus, int n_gpus,
                                           const char *gpu_name, cnn_impact_factors *f);

// impacts of energy_j over time_s with factors f.
void cnn_impacts_compute(const cnn_impact_factors *f, double energy_j, double time_s, cnn_impacts *out);

#ifdef __cplusplus
}
#endif
#endif
