// emissions.csv in CodeCarbon 3.x's format (the 38 columns of its
// EmissionsData, in its order, with its units and conventions), so that
// CodeCarbon's own tools read our runs: one file per run directory, and one
// row per run appended to the parent directory's emissions.csv under a lock.
// Our provenance and uncertainty stay in run.json. docs/ENERGY.md explains
// each column.
#ifndef CNN_ENERGY_CODECARBON_H
#define CNN_ENERGY_CODECARBON_H

#include <stdio.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// The CodeCarbon version whose columns we write.
#define CNN_CODECARBON_SCHEMA_VERSION "3.3.2"
#define CNN_CODECARBON_COLUMNS 38

// One row. Units as CodeCarbon's: s, kgCO2eq, kg/s, W, kWh, litres, GB, %.
// Powers and energies include the PUE (CodeCarbon multiplies both by it).
// A NaN float is written as an empty field (CodeCarbon writes an empty field
// for what it does not know, e.g. longitude and latitude offline).
typedef struct {
    char timestamp[32];            // local time, "%Y-%m-%dT%H:%M:%S"
    const char *project_name;
    const char *run_id;
    const char *experiment_id;
    double duration;               // s
    double emissions;              // kgCO2eq = energy_consumed x grid factor
    double emissions_rate;         // kgCO2eq/s
    double cpu_power, gpu_power, ram_power;    // W, mean over the run, x PUE
    double cpu_energy, gpu_energy, ram_energy; // kWh, x PUE
    double energy_consumed;        // kWh: cpu + gpu + ram
    double water_consumed;         // litres: WUE x energy_consumed
    const char *country_name;      // "" when no country is known
    const char *country_iso_code;  // ISO 3166-1 alpha-3, or ""
    const char *region, *cloud_provider, *cloud_region;
    const char *os;
    const char *python_version;    // the field for the runtime: ours names the C compiler
    const char *codecarbon_version; // the field for the tool that measured: "cnn-train X.Y.Z"
    double cpu_count;
    const char *cpu_model;
    double gpu_count;
    const char *gpu_model;
    double longitude, latitude;    // NaN: unknown
    double ram_total_size;         // GB
    const char *tracking_mode;     // "machine" or "process"
    double cpu_utilization_percent, gpu_utilization_percent, ram_utilization_percent;
    double ram_used_gb;
    int on_cloud;                  // written N or Y
    double pue, wue;               // wue in L/kWh
} cnn_codecarbon_row;

// The header line (no newline) and the column names in order.
const char *cnn_codecarbon_header(void);
extern const char *const cnn_codecarbon_columns[CNN_CODECARBON_COLUMNS];

// Writes the header and the row (two lines).
void cnn_codecarbon_write(FILE *f, const cnn_codecarbon_row *r);
// Writes the row only (one line).
void cnn_codecarbon_write_row(FILE *f, const cnn_codecarbon_row *r);

// Appends the row to dir/emissions.csv (creating it with the header), under
// an exclusive lock on dir/.emissions.csv.lock so that concurrent runs each
// add their row; the file is rewritten to a temporary name and renamed. A
// file whose header is not ours (another CodeCarbon version, another tool) is
// left untouched: the result is CNN_ERR_FORMAT, saying so, and the row is
// not appended.
cnn_status cnn_codecarbon_append(const char *dir, const cnn_codecarbon_row *r);

#ifdef __cplusplus
}
#endif
#endif
