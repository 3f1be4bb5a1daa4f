// The accounting (internal to core/energy): pure functions from a recorded
// run (meter series + window events from the training loop) to window
// energies, accuracy-step crossings, marginal energies, the idle baseline
// and the functional-unit figures. No threads, no clock: tests feed it a
// fake meter of known power.
#ifndef CNN_ENERGY_ACCOUNTING_H
#define CNN_ENERGY_ACCOUNTING_H

#include "core/energy/common/options.h"
#include "core/energy/meters/meter.h"
#include "core/energy/meters/series.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CNN_EV_TRAIN_BEGIN,
    CNN_EV_EPOCH_BEGIN,
    CNN_EV_EVAL_BEGIN,
    CNN_EV_EVAL, // an evaluation finished
    CNN_EV_EPOCH_END,
    CNN_EV_TRAIN_END,
} cnn_energy_event_kind;

typedef struct {
    int epoch;
    long step;
    double train_loss, test_loss, test_acc;
    double elapsed_s; // as the training loop reports it
    long test_hits, n_test; // the accuracy as integers (n_test 0: unknown, test_acc is compared instead)
} cnn_energy_eval;

// Whether an evaluation reaches an accuracy threshold: exactly on integers when it has them.
int cnn_energy_eval_reaches(const cnn_energy_eval *e, double threshold);

typedef struct {
    cnn_energy_event_kind kind;
    double t;   // seconds, the cnn_now_s() clock
    int epoch;  // EPOCH_BEGIN / EPOCH_END
    cnn_energy_eval eval; // EVAL
} cnn_energy_event;

typedef struct {
    const cnn_meter_info *meters; // (n_meters)
    const cnn_energy_series *series; // (n_meters)
    int n_meters;
    const cnn_energy_event *events;  // (n_events), in time order
    int n_events;
    double idle_t0, idle_t1;      // the idle baseline window; idle_t1 <= idle_t0: none measured
    const double *steps;          // (n_steps) accuracy thresholds, ascending
    int n_steps;
    double target_acc;            // <= 0: no target
    double end_t;                 // used as the end of training when no TRAIN_END event came (0: last event)
    const double *idle_w, *idle_u_w; // (n_meters) idle powers known beforehand (a cached baseline); NULL: none
    double idle_given_s;          // how long that baseline was measured
} cnn_energy_input;

typedef struct {
    double t0, t1;
    double j[CNN_ENERGY_MAX_METERS]; // the estimate: the meter's interpolated series at t1 minus at t0
    double u[CNN_ENERGY_MAX_METERS]; // its half-width: [j - u, j + u] holds every energy the meter allows
    int below_res[CNN_ENERGY_MAX_METERS]; // 1: not resolved (u is not under 10% of j)
    double total_j, total_u;
    int any_below_res;
} cnn_energy_window;

// Whether an energy is resolved: its uncertainty under 10% of its value.
int cnn_energy_resolved(double j, double u);

typedef struct {
    int epoch;
    cnn_energy_window w;
    double above_idle_total_j, above_idle_total_u; // NaN when no idle baseline
    double eval_s;             // seconds of evaluation inside the epoch
    double eval_total_j, eval_total_u; // energy of those evaluations
    int has_eval;
    cnn_energy_eval last_eval; // the last evaluation in the epoch (when has_eval)
} cnn_energy_epoch_row;

typedef struct {
    cnn_energy_eval eval;
    cnn_energy_window w;       // eval begin .. eval end
    double cum_j[CNN_ENERGY_MAX_METERS]; // from the start of training to the end of this evaluation
    double cum_u[CNN_ENERGY_MAX_METERS];
    double cum_total_j, cum_total_u;
    double t_end;              // seconds since the start of training
} cnn_energy_eval_row;

typedef struct {
    double threshold;
    int reached;
    int eval_index;            // the first evaluation reaching it (when reached)
    cnn_energy_eval eval;
    double elapsed_s;          // seconds from the start of training to the end of that evaluation
    double cum_j[CNN_ENERGY_MAX_METERS], cum_total_j;
    double cum_u[CNN_ENERGY_MAX_METERS], cum_total_u;
    double marginal_j[CNN_ENERGY_MAX_METERS], marginal_total_j; // since the previous reached step (the start for the first)
    double marginal_u[CNN_ENERGY_MAX_METERS], marginal_total_u;
    int same_eval_as_previous; // crossed at the same evaluation as the step before it
} cnn_energy_step_row;

typedef struct {
    int n_meters;
    cnn_provenance total_prov;
    int has_training;          // a TRAIN_BEGIN event was seen
    int ended;                 // a TRAIN_END event was seen
    // idle baseline
    int idle_measured;
    double idle_s, idle_w[CNN_ENERGY_MAX_METERS], idle_total_w;
    double idle_u_w[CNN_ENERGY_MAX_METERS], idle_total_u_w; // half-widths of the idle powers
    // the training window, its energy above idle, and what fell outside every epoch
    cnn_energy_window train;
    double above_idle_j[CNN_ENERGY_MAX_METERS], above_idle_total_j; // NaN when no idle baseline
    double above_idle_u[CNN_ENERGY_MAX_METERS], above_idle_total_u;
    cnn_energy_window outside;
    cnn_energy_epoch_row *epochs;
    int n_epochs;
    cnn_energy_eval_row *evals;
    int n_evals;
    cnn_energy_step_row steps[CNN_ENERGY_MAX_STEPS];
    int n_steps;
    int last_step_index;       // the last reached step, -1 when none
    double last_step_share;    // its marginal / its cumulative energy; NaN when none
    double last_step_share_u;  // the half-width of that share
    // the functional unit: training to the target
    int target_reached;
    int target_eval;
    double target_time_s;
    double target_j[CNN_ENERGY_MAX_METERS], target_total_j;
    double target_u[CNN_ENERGY_MAX_METERS], target_total_u;
} cnn_energy_accounting;

// Energy of every meter over [t0, t1] (interpolated at the edges), its bound and the resolution flags.
void cnn_energy_window_compute(const cnn_energy_input *in, double t0, double t1, cnn_energy_window *w);

// The mean power of every meter over [t0, t1] (t1 > t0) and its half-width, in W: the window's energy / its length.
void cnn_energy_window_power(const cnn_energy_input *in, double t0, double t1, double *w, double *u);

// Computes everything from the record. Allocates out->epochs and out->evals.
cnn_status cnn_energy_account(const cnn_energy_input *in, cnn_energy_accounting *out);
void cnn_energy_accounting_free(cnn_energy_accounting *a);

// The default ladder of accuracy steps up to target (<= 0: no target):
// 0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995 below the target, then the
// target itself. Returns the count.
int cnn_energy_default_steps(double target, double *steps, int max);

#ifdef __cplusplus
}
#endif
#endif
