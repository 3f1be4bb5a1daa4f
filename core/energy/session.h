// The energy session's state (internal to core/energy): shared by the
// session, the run-record writers and the summary printer.
#ifndef CNN_ENERGY_SESSION_H
#define CNN_ENERGY_SESSION_H

#include "core/energy/accounting/accounting.h"
#include "core/energy/common/files.h"
#include "core/energy/energy.h"
#include "core/energy/accounting/impacts.h"
#include "core/energy/common/json.h"
#include "core/energy/meters/platform.h"
#include "core/energy/meters/sampler.h"
#include "core/energy/record_dir.h"
#include "core/energy/accounting/overhead.h"
#include "core/energy/accounting/repeats.h"
#include "core/energy/accounting/segments.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_ENERGY_MAX_NOTES 16

struct cnn_energy_session {
    cnn_energy_options opt;
    char backend[16];
    char run_dir[1100];
    char created_utc[32]; // ISO 8601, when the session started
    char run_id[40];      // a random UUID
    cnn_hw_info hw;
    double cpu_tdp_w, cpu_idle_w; // the cpu-model constants in use

    cnn_meter meters[CNN_ENERGY_MAX_METERS];
    cnn_meter_info info[CNN_ENERGY_MAX_METERS];
    int n_meters;
    cnn_sampler *sampler;
    double idle_t0, idle_t1;  // the machine's idle, measured now (before the backend opened the device)
    double ctx_t0, ctx_t1;    // the device's idle with its context open, measured now
    // The idle baselines (idle.c): measured now, read from the per-host cache, or none.
    const char *idle_source;  // "measured now", "cached", "none"
    char idle_cache_path[1300], idle_cached_utc[32];
    double idle_cache_age_s, idle_cached_s;
    int idle_cached, ctx_known;
    double cached_w[CNN_ENERGY_MAX_METERS], cached_u[CNN_ENERGY_MAX_METERS];
    double ctx_w[CNN_ENERGY_MAX_METERS], ctx_u[CNN_ENERGY_MAX_METERS]; // the device-open idle per meter

    cnn_energy_event *events;
    int n_events, cap_events;
    int lost_events; // events that could not be recorded (out of memory)

    // What the training loop told us.
    int have_info;
    char dataset[32], gemm[32], step[16], loop_backend[16], device_desc[128], model_desc[128];
    cnn_train_config cfg;
    long steps_per_epoch;
    int n_train, n_test;
    int have_result;
    cnn_train_result result; // the first run's
    uint64_t *run_seeds;     // each run's seed, in order (cnn-train --repeat: several runs in one session)
    int n_runs, cap_runs;

    char notes[CNN_ENERGY_MAX_NOTES][384];
    int n_notes;
    cnn_train_observer observer;

    int created_dir; // the run directory did not exist before this session
    int written;     // the run record was written (else cnn_energy_free removes a directory it created, if empty)
    int lock_fd;     // the run directory's lock (record_dir.h), held for the session; -1: none
    cnn_record_file files[CNN_RECORD_MAX_FILES]; // the record's other files, as run.json names them
    int n_files;

    // cnn-train resume: the run's earlier segments (segments.c), and the wall clock minus cnn_now_s() at start.
    cnn_energy_segment prior[CNN_ENERGY_MAX_SEGMENTS];
    int n_prior;
    double wall_minus_mono;

    // Computed by cnn_energy_finish.
    int finished;
    double t_stop;
    double steps[CNN_ENERGY_MAX_STEPS];
    int n_steps, steps_default;
    cnn_energy_accounting acc; // the first run (the only one without --repeat)
    cnn_energy_repeats rep;    // every run, the spanning window and the statistics across runs
    cnn_impact_factors factors;
    cnn_energy_fu fu;         // the functional unit's figures, earlier segments included (segments.c)
    cnn_impacts impacts;      // of the functional unit (or the whole run when the target was not reached)
    int impacts_fu;           // 1: impacts are for the functional unit
    cnn_impacts run_impacts;  // of the whole training window (emissions.csv)
    double thread_cpu_s;         // the sampler thread's CPU time
    double sampler_t0;           // when the sampler started (cnn_now_s); it ran until t_stop
    long reads, wakeups;         // meter reads and sampler wake-ups
    double mark_s, mark_max_s;   // time the training thread spent in window marks: total, longest
    long marks;
};

// Adds a note (also printed to log when not NULL).
void cnn_energy_note(cnn_energy_session *s, FILE *log, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

// The idle baselines (idle.c): at the start, the machine's (from the cache when it is valid, else measured,
// sleeping o->idle_seconds); at the finish, the device-open idle and the cache update.
void cnn_energy_idle_begin(cnn_energy_session *s, FILE *log);
void cnn_energy_idle_finish(cnn_energy_session *s, const cnn_energy_input *in);
// run.json's idle members saying how the baseline was obtained and the device-open idle (idle.c).
void cnn_energy_jw_idle_source(cnn_json_writer *w, const cnn_energy_session *s);

// The run record and the summary (record.c, summary.c).
cnn_status cnn_energy_write_record(cnn_energy_session *s);
void cnn_energy_fill_run_json(FILE *f, const void *ctx); // run.json (record_json.c)
void cnn_energy_print_summary(const cnn_energy_session *s, FILE *out);
// An energy with its half-width as the terminal prints it ("12.34 ± 0.56", "3.1..4.9", "<= 0.41"; summary.c).
const char *cnn_energy_fmt_ju(char *buf, size_t len, double j, double u);
// The repeats' section of the summary (repeats_summary.c): nothing for a single run.
void cnn_energy_print_repeats(const cnn_energy_session *s, FILE *out);
// run.json's "repeats" section (repeats_json.c).
void cnn_energy_jw_repeats(cnn_json_writer *w, const cnn_energy_session *s);

// Segments of a resumed run (segments.c): run.json's "segments" section and the summary's line about them
// (nothing for a run that was not resumed).
void cnn_energy_jw_segments(cnn_json_writer *w, const cnn_energy_session *s);
void cnn_energy_print_segments(const cnn_energy_session *s, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
