// Meters and the sampler (internal to core/energy).
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

#define CNN_ENERGY_MAX_METERS 8

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

// --- the recorded series ------------------------------------------------------
// A series is the list of instants where the meter's value is known: each
// knot says the true cumulative energy was j at some instant in [t0, t]
// (for a published counter: between the start of the last read that still
// saw the old value and the end of the read that saw the new one; for a
// meter read at the instant: the read itself; t0 = -inf for a counter's
// first value, published at an unknown earlier time).
typedef struct {
    double t0; // the earliest instant the value can belong to
    double t;  // the latest (seconds, the cnn_now_s() clock)
    double j;  // cumulative joules since the session opened the meter
    double w;  // watts: the reading (power meters) or the counter differenced over its own update interval
} cnn_energy_sample;

typedef struct {
    cnn_energy_sample *s;
    size_t n, cap;
} cnn_energy_series;

// Appends one knot known at the instant t (t0 = t). CNN_ERR_NOMEM on failure.
cnn_status cnn_series_push(cnn_energy_series *se, double t, double j, double w);
// Appends one knot known to lie in [t0, t].
cnn_status cnn_series_push_knot(cnn_energy_series *se, double t0, double t, double j, double w);
void cnn_series_free(cnn_energy_series *se);
// The instant a knot is placed at for interpolation: the middle of [t0, t] (t when t0 is -inf).
double cnn_sample_time(const cnn_energy_sample *k);
// The cumulative energy at time t, linearly interpolated between knots;
// clamped to the first/last knot outside them (0 when empty).
double cnn_series_energy_at(const cnn_energy_series *se, double t);
// What the knots guarantee about the true cumulative energy at t (which
// never decreases): lo = the value of the last knot certainly before t,
// hi = that of the first knot certainly after it (-inf / +inf when none).
void cnn_series_bounds_at(const cnn_energy_series *se, double t, double *lo, double *hi);
// The energy over [a, b]: the interpolated estimate and the half-width u such
// that [est - u, est + u] contains every energy the knots allow (each
// edge's bracketing update interval, plus resolution_j per edge); inf when unbounded.
void cnn_series_window(const cnn_energy_series *se, double resolution_j, double a, double b, double *est,
                       double *u);
// Number of i in [1, n) with a changed value (a measured update period: duration / changes).
size_t cnn_series_changes(const cnn_energy_series *se);

// --- the sampler thread ------------------------------------------------------
// The only reader of the meters while training runs: window edges are plain
// timestamps taken by the training loop, and window energies are computed
// afterwards from the series. Published counters are polled around their
// expected update instants until the change is seen; other meters every
// min(interval, max(update period, 10 ms)).
typedef struct cnn_sampler cnn_sampler;

// Takes a first reading of every meter now, then starts the thread. The meters must outlive the sampler.
cnn_status cnn_sampler_start(cnn_meter *meters, int n, double interval_s, cnn_sampler **out);
// Stops the thread once every meter has a knot after now (a published
// counter: its next change, at most three update periods away), and joins it. Idempotent.
void cnn_sampler_stop(cnn_sampler *s);
// While the thread runs: makes the meters read at the instant due now, then waits until every meter has a
// knot certainly after t (a published counter: its next change), at most 0.05 s + three update periods
// past t. Returns 1 when every meter has one (0: a window ending at t may be unbounded).
int cnn_sampler_wait_past(cnn_sampler *s, double t);
// The latest instant up to which every meter's window is bounded now (the
// earliest of the meters' last readings; a failed meter is left out), read
// without waiting: NAN when no meter has a reading.
double cnn_sampler_known_until(cnn_sampler *s);
// cnn_series_window over meter i's series, safe while the thread records it.
void cnn_sampler_window(cnn_sampler *s, int i, double resolution_j, double a, double b, double *est, double *u);
// The series of meter i (complete once stopped).
const cnn_energy_series *cnn_sampler_series(const cnn_sampler *s, int i);
// The thread's CPU time and the number of reads and wake-ups (valid once stopped).
void cnn_sampler_overhead(const cnn_sampler *s, double *thread_cpu_s, long *reads, long *wakeups);
// The first read error of any meter ("" when none).
const char *cnn_sampler_error(const cnn_sampler *s);
void cnn_sampler_free(cnn_sampler *s);

#ifdef __cplusplus
}
#endif
#endif
