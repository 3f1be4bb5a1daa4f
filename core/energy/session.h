// The energy session (internal to core/energy): the orchestrator at the top
// of the pipeline. It owns the live parts (meters, sampler thread, the run
// directory's lock, the training loop's window edges) and fills a
// cnn_energy_result, which the record writers and the report read.
#ifndef CNN_ENERGY_SESSION_H
#define CNN_ENERGY_SESSION_H

#include <stdint.h>

#include "core/energy/energy.h"
#include "core/energy/accounting/rank_part.h"
#include "core/energy/meters/sampler.h"
#include "core/energy/result/result.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cnn_energy_session {
    cnn_energy_result res; // what the record and the report read (filled as the run goes, completed by finish)

    cnn_meter meters[CNN_ENERGY_MAX_METERS]; // res.n_meters of them
    cnn_sampler *sampler;
    double idle_t0, idle_t1;  // the machine's idle, measured now (before the backend opened the device)
    double ctx_t0, ctx_t1;    // the device's idle with its context open, measured now

    cnn_energy_event *events;
    int n_events, cap_events;
    int lost_events; // events that could not be recorded (out of memory)
    uint64_t *run_seeds;     // each run's seed, in order (cnn-train --repeat: several runs in one session)
    int n_runs, cap_runs;
    cnn_train_observer observer;

    char created_dir[1100]; // the top-most directory this session created for the run directory ("": none)
    int written;     // the run record was written (else cnn_energy_free removes a directory it created, if empty)
    int lock_fd;     // the run directory's lock (record_dir.h), held for the session; -1: none
    double wall_minus_mono; // the wall clock minus cnn_now_s() at start
    int finished;
    cnn_energy_rank_part *parts; // rank 0 of a data-parallel run: the other ranks' shares (their series)
    int n_parts;
};

// The observer that records the training loop's window edges into s (observer.c).
cnn_train_observer cnn_energy_session_observer(cnn_energy_session *s);

// The idle baselines (idle.c): at the start, the machine's (from the cache when it is valid, else measured,
// sleeping o->idle_seconds); at the finish, the device-open idle and the cache update.
void cnn_energy_idle_begin(cnn_energy_session *s, FILE *log);
void cnn_energy_idle_finish(cnn_energy_session *s, const cnn_energy_input *in);

// A data-parallel run (session_world.c). Whether this session writes the record (rank 0, or one process).
int cnn_energy_session_is_root(const cnn_energy_session *s);
// After this rank's own accounting: sends its share to rank 0. On rank 0, receives every share, adds the
// other ranks' meters to the result (re-timed onto its clock), points `in` at all of them with each one's idle
// power (idle_w, idle_u: CNN_ENERGY_MAX_METERS each, kept by the caller while `in` is used) and accounts again.
cnn_status cnn_energy_world_merge(cnn_energy_session *s, cnn_energy_input *in, double *idle_w, double *idle_u);
// A checkpoint of a data-parallel run (every rank calls it, with its own segment so far in out): rank 0's out
// gets every other rank's meters (rK:NAME) and energy; the other ranks' is theirs alone.
cnn_status cnn_energy_world_segment(cnn_energy_session *s, cnn_energy_segment *out);
// Rank 0, after the functional unit: each rank's and each node's energy from its meters.
void cnn_energy_world_totals(cnn_energy_result *r);

#ifdef __cplusplus
}
#endif
#endif
