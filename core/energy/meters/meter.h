// The meters (internal to core/energy): the sources of the energy pipeline.
//
// A meter gives either a cumulative energy in joules since it was opened
// (counters: NVML total energy, RAPL, the cpu-model) or an instantaneous
// power in watts (NVML power usage) that the sampler integrates. Every
// meter carries its provenance, resolution and update period.
#ifndef CNN_ENERGY_METER_H
#define CNN_ENERGY_METER_H

#include <stddef.h>
#include <stdio.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_ENERGY_MAX_METERS 16

typedef enum {
    CNN_PROV_MEASURED_COUNTER = 0, // a hardware energy counter
    CNN_PROV_MEASURED_POWER = 1,   // hardware power samples integrated over time
    CNN_PROV_ESTIMATED = 2,        // a model, not a measurement
} cnn_provenance;

// "measured-counter", "measured-power", "estimated".
const char *cnn_provenance_name(cnn_provenance p);
// The weaker of two provenances (estimated < measured-power < measured-counter).
cnn_provenance cnn_provenance_weakest(cnn_provenance a, cnn_provenance b);

// What a meter is, independent of how it is read (kept after the meter is closed).
typedef struct {
    char name[32];          // "nvml:0", "rapl:package-0", "rapl:dram-0", "cpu-model"
    char component[8];      // "gpu", "cpu" or "dram"
    char device[128];       // what it measures ("NVIDIA H100 80GB HBM3", a CPU model)
    char method[192];       // one line: how the value is obtained
    cnn_provenance prov;
    double resolution_j;    // smallest energy step of the value (0: not applicable)
    double update_period_s; // how often the underlying value changes (nominal)
    int published;          // 1: the value is published at update instants and read stale in between (the NVML
                            // counter): the sampler polls for the changes; 0: a read gives the value at that instant
} cnn_meter_info;

typedef struct cnn_meter cnn_meter;
struct cnn_meter {
    cnn_meter_info info;
    int reads_power; // 1: read() gives watts; 0: read() gives joules since open (wrap-around handled)
    cnn_status (*read)(cnn_meter *m, double *value);
    void (*close)(cnn_meter *m);
    void *ctx;
};

void cnn_meter_close(cnn_meter *m);

// --- NVML (GPU), loaded at run time with dlopen --------------------------
// The library name comes from $CNN_NVML_LIB, else libnvidia-ml.so.1.
// Opens NVML device `index`: the cumulative energy counter when the GPU has
// it, else power samples. Returns CNN_ERR_UNSUPPORTED with a one-line
// reason in `note` (and cnn_error) when NVML or the device is unavailable.
cnn_status cnn_meter_nvml_open(int index, cnn_meter *out, char *note, size_t note_len);
// The driver version from NVML ("" when NVML is not loaded).
void cnn_nvml_driver_version(char *buf, size_t len);

// --- RAPL (Linux powercap) ------------------------------------------------
// The sysfs root: $CNN_POWERCAP_ROOT, else /sys/class/powercap.
const char *cnn_rapl_default_root(void);
// Opens one meter per package domain and per DRAM domain under `root`
// (core, uncore and psys are skipped: they overlap the package). Returns
// the number opened (0: RAPL unusable; `note` says why and what to do,
// e.g. permission denied). Never more than `max`.
int cnn_meter_rapl_open(const char *root, cnn_meter *out, int max, char *note, size_t note_len);
// The energy between two raw readings of a counter that wraps at max_range.
unsigned long long cnn_rapl_delta(unsigned long long prev, unsigned long long cur, unsigned long long max_range);
// Reads an unsigned decimal from a sysfs file; returns 0 or an errno value.
int cnn_rapl_read_u64(const char *path, unsigned long long *v);

// --- cpu-model (estimated) -------------------------------------------------
// P = idle_w + (tdp_w - idle_w) * u, u = the process's CPU time per second
// divided by n_cpus; integrated exactly as
// E(t) = idle_w * dt + (tdp_w - idle_w) * d(cpu time) / n_cpus.
cnn_status cnn_meter_cpu_model_open(double tdp_w, double idle_w, int n_cpus, const char *cpu_name, cnn_meter *out);
// The process's CPU time in seconds, all threads (the kernel's accounting).
double cnn_process_cpu_s(void);

#ifdef __cplusplus
}
#endif
#endif
