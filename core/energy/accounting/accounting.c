// The accounting: window energies, evaluations, accuracy steps, idle
// baseline and the functional unit, computed from a recorded run.
#include "core/energy/accounting/accounting.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/train_events.h"

int cnn_energy_default_steps(double target, double *steps, int max) {
    static const double ladder[] = {0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995};
    int n = 0;
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0] && n < max; i++)
        if (target <= 0 || ladder[i] < target - 1e-12) steps[n++] = ladder[i];
    if (target > 0 && n < max) steps[n++] = target;
    return n;
}

int cnn_energy_eval_reaches(const cnn_energy_eval *e, double threshold) {
    if (e->n_test > 0) return cnn_acc_reaches(e->test_hits, e->n_test, threshold);
    return threshold > 0 && e->test_acc >= threshold;
}

int cnn_energy_resolved(double j, double u) { return isfinite(j) && isfinite(u) && u < 0.1 * fabs(j); }

// Energies of the n_meters series over [t0, t1]: E(t1) - E(t0) each, with the bound and resolution flags.
void cnn_energy_window_compute(const cnn_energy_input *in, double t0, double t1, cnn_energy_window *w) {
    memset(w, 0, sizeof *w);
    w->t0 = t0;
    w->t1 = t1;
    if (!(t1 > t0)) return; // an empty window holds exactly no energy, whatever the meters' resolution
    for (int m = 0; m < in->n_meters; m++) {
        cnn_series_window(&in->series[m], in->meters[m].resolution_j, t0, t1, &w->j[m], &w->u[m]);
        w->below_res[m] = !cnn_energy_resolved(w->j[m], w->u[m]);
        w->any_below_res |= w->below_res[m];
        w->total_j += w->j[m];
        w->total_u += w->u[m];
    }
}

// The window's energy per meter divided by its length.
void cnn_energy_window_power(const cnn_energy_input *in, double t0, double t1, double *w, double *u) {
    cnn_energy_window win;
    cnn_energy_window_compute(in, t0, t1, &win);
    for (int m = 0; m < in->n_meters; m++) {
        w[m] = win.j[m] / (t1 - t0);
        u[m] = win.u[m] / (t1 - t0);
    }
}

void cnn_energy_accounting_free(cnn_energy_accounting *a) {
    free(a->epochs);
    free(a->evals);
    a->epochs = NULL;
    a->evals = NULL;
    a->n_epochs = a->n_evals = 0;
}

static void close_epoch(const cnn_energy_input *in, const cnn_energy_accounting *a, cnn_energy_epoch_row *row,
                        double t1) {
    cnn_energy_window_compute(in, row->w.t0, t1, &row->w);
    double dt = t1 - row->w.t0;
    row->above_idle_total_j = a->idle_measured ? row->w.total_j - a->idle_total_w * dt : NAN;
    row->above_idle_total_u = a->idle_measured ? row->w.total_u + a->idle_total_u_w * dt : NAN;
}

// The idle baseline: mean power of each meter over the idle window, with its half-width.
static void account_idle(const cnn_energy_input *in, cnn_energy_accounting *a) {
    if (in->idle_w && in->idle_u_w) { // a baseline measured before this run (cached)
        a->idle_measured = 1;
        a->idle_s = in->idle_given_s;
        for (int m = 0; m < in->n_meters; m++) {
            a->idle_w[m] = in->idle_w[m];
            a->idle_u_w[m] = in->idle_u_w[m];
            a->idle_total_w += a->idle_w[m];
            a->idle_total_u_w += a->idle_u_w[m];
        }
        return;
    }
    if (!(in->idle_t1 > in->idle_t0)) return;
    a->idle_measured = 1;
    a->idle_s = in->idle_t1 - in->idle_t0;
    cnn_energy_window_power(in, in->idle_t0, in->idle_t1, a->idle_w, a->idle_u_w);
    for (int m = 0; m < in->n_meters; m++) {
        a->idle_total_w += a->idle_w[m];
        a->idle_total_u_w += a->idle_u_w[m];
    }
}

// The training window and its energy above idle.
static void account_train(const cnn_energy_input *in, cnn_energy_accounting *a, double t_begin, double t_end) {
    cnn_energy_window_compute(in, t_begin, t_end, &a->train);
    if (!a->idle_measured) return;
    a->above_idle_total_j = a->above_idle_total_u = 0;
    for (int m = 0; m < in->n_meters; m++) {
        a->above_idle_j[m] = a->train.j[m] - a->idle_w[m] * (t_end - t_begin);
        a->above_idle_u[m] = a->train.u[m] + a->idle_u_w[m] * (t_end - t_begin);
        a->above_idle_total_j += a->above_idle_j[m];
        a->above_idle_total_u += a->above_idle_u[m];
    }
}

static void record_eval(const cnn_energy_input *in, cnn_energy_accounting *a, const cnn_energy_event *e,
                        double eval_begin, double t_begin, int open) {
    cnn_energy_eval_row *r = &a->evals[a->n_evals++];
    r->eval = e->eval;
    double t0 = isnan(eval_begin) ? e->t : eval_begin;
    cnn_energy_window_compute(in, t0, e->t, &r->w);
    cnn_energy_window cum;
    cnn_energy_window_compute(in, t_begin, e->t, &cum);
    memcpy(r->cum_j, cum.j, sizeof r->cum_j);
    memcpy(r->cum_u, cum.u, sizeof r->cum_u);
    r->cum_total_j = cum.total_j;
    r->cum_total_u = cum.total_u;
    r->t_end = e->t - t_begin;
    if (open < 0) return;
    cnn_energy_epoch_row *er = &a->epochs[open];
    er->has_eval = 1;
    er->last_eval = e->eval;
    er->eval_s += e->t - t0;
    er->eval_total_j += r->w.total_j;
    er->eval_total_u += r->w.total_u;
}

// Epoch and evaluation windows from the events [begin, last].
static void account_windows(const cnn_energy_input *in, cnn_energy_accounting *a, int begin, int last, double t_begin,
                            double t_end) {
    int open = -1; // index of the epoch row still open
    double eval_begin = NAN;
    for (int i = begin; i <= last; i++) {
        const cnn_energy_event *e = &in->events[i];
        switch (e->kind) {
        case CNN_EV_EPOCH_BEGIN:
            if (open >= 0) close_epoch(in, a, &a->epochs[open], e->t);
            open = a->n_epochs++;
            a->epochs[open].epoch = e->epoch;
            a->epochs[open].w.t0 = e->t;
            break;
        case CNN_EV_EPOCH_END:
            if (open >= 0) close_epoch(in, a, &a->epochs[open], e->t);
            open = -1;
            break;
        case CNN_EV_EVAL_BEGIN: eval_begin = e->t; break;
        case CNN_EV_EVAL:
            record_eval(in, a, e, eval_begin, t_begin, open);
            eval_begin = NAN;
            break;
        case CNN_EV_TRAIN_END:
        case CNN_EV_TRAIN_BEGIN: break;
        }
    }
    if (open >= 0) close_epoch(in, a, &a->epochs[open], t_end);
}

static void window_add(cnn_energy_window *sum, const cnn_energy_window *w, int n_meters) {
    for (int m = 0; m < n_meters; m++) {
        sum->j[m] += w->j[m];
        sum->u[m] += w->u[m];
    }
    sum->total_j += w->total_j;
    sum->total_u += w->total_u;
}

// What the epochs do not cover (setup before the first epoch, gaps, the end): the sum of those gaps' windows.
static void account_outside(const cnn_energy_input *in, cnn_energy_accounting *a) {
    memset(&a->outside, 0, sizeof a->outside);
    a->outside.t0 = a->train.t0;
    a->outside.t1 = a->train.t1;
    double from = a->train.t0;
    cnn_energy_window gap;
    for (int k = 0; k <= a->n_epochs; k++) {
        double to = k < a->n_epochs ? a->epochs[k].w.t0 : a->train.t1;
        if (to > from) {
            cnn_energy_window_compute(in, from, to, &gap);
            window_add(&a->outside, &gap, in->n_meters);
        }
        if (k < a->n_epochs) from = a->epochs[k].w.t1;
    }
    for (int m = 0; m < in->n_meters; m++) {
        a->outside.below_res[m] = !cnn_energy_resolved(a->outside.j[m], a->outside.u[m]);
        a->outside.any_below_res |= a->outside.below_res[m];
    }
}

// Accuracy steps: the first evaluation reaching each threshold, cumulative and marginal energies.
static void account_steps(const cnn_energy_input *in, cnn_energy_accounting *a) {
    a->n_steps = in->n_steps;
    const cnn_energy_step_row *prev = NULL;
    for (int k = 0; k < in->n_steps; k++) {
        cnn_energy_step_row *s = &a->steps[k];
        s->threshold = in->steps[k];
        s->eval_index = -1;
        for (int i = 0; i < a->n_evals && !s->reached; i++)
            if (cnn_energy_eval_reaches(&a->evals[i].eval, s->threshold)) {
                s->reached = 1;
                s->eval_index = i;
            }
        if (!s->reached) continue;
        const cnn_energy_eval_row *r = &a->evals[s->eval_index];
        s->eval = r->eval;
        s->elapsed_s = r->t_end;
        memcpy(s->cum_j, r->cum_j, sizeof s->cum_j);
        memcpy(s->cum_u, r->cum_u, sizeof s->cum_u);
        s->cum_total_j = r->cum_total_j;
        s->cum_total_u = r->cum_total_u;
        // The marginal energy is its own window (previous step's evaluation end .. this one's), with its own bound.
        double from = prev ? a->evals[prev->eval_index].w.t1 : a->train.t0;
        cnn_energy_window mw;
        cnn_energy_window_compute(in, from, r->w.t1, &mw);
        memcpy(s->marginal_j, mw.j, sizeof s->marginal_j);
        memcpy(s->marginal_u, mw.u, sizeof s->marginal_u);
        s->marginal_total_j = mw.total_j;
        s->marginal_total_u = mw.total_u;
        s->same_eval_as_previous = prev && prev->eval_index == s->eval_index;
        a->last_step_index = k;
        prev = s;
    }
    if (a->last_step_index < 0) return;
    const cnn_energy_step_row *s = &a->steps[a->last_step_index];
    if (!(s->cum_total_j > 0)) return;
    a->last_step_share = s->marginal_total_j / s->cum_total_j;
    // share = m / c with m in [m - um, m + um] and c in [c - uc, c + uc] (m <= c): the widest deviation
    double mlo = fmax(0, s->marginal_total_j - s->marginal_total_u), mhi = s->marginal_total_j + s->marginal_total_u;
    double clo = s->cum_total_j - s->cum_total_u, chi = s->cum_total_j + s->cum_total_u;
    double hi = clo > 0 ? fmin(1.0, mhi / clo) : 1.0, lo = mlo / chi;
    a->last_step_share_u = fmax(hi - a->last_step_share, a->last_step_share - lo);
}

// The functional unit: training until the first evaluation at or above the target.
static void account_target(const cnn_energy_input *in, cnn_energy_accounting *a) {
    a->target_eval = -1;
    if (!(in->target_acc > 0)) return;
    for (int i = 0; i < a->n_evals; i++) {
        if (!cnn_energy_eval_reaches(&a->evals[i].eval, in->target_acc)) continue;
        a->target_reached = 1;
        a->target_eval = i;
        a->target_time_s = a->evals[i].t_end;
        memcpy(a->target_j, a->evals[i].cum_j, sizeof a->target_j);
        memcpy(a->target_u, a->evals[i].cum_u, sizeof a->target_u);
        a->target_total_j = a->evals[i].cum_total_j;
        a->target_total_u = a->evals[i].cum_total_u;
        return;
    }
}

cnn_status cnn_energy_account(const cnn_energy_input *in, cnn_energy_accounting *a) {
    memset(a, 0, sizeof *a);
    a->last_step_index = -1;
    a->last_step_share = a->last_step_share_u = NAN;
    a->above_idle_total_j = a->above_idle_total_u = NAN;
    if (in->n_meters < 0 || in->n_meters > CNN_ENERGY_MAX_METERS)
        return cnn_error(CNN_ERR_INVALID_ARG, "accounting: %d meters (at most %d)", in->n_meters,
                         CNN_ENERGY_MAX_METERS);
    if (in->n_steps < 0 || in->n_steps > CNN_ENERGY_MAX_STEPS)
        return cnn_error(CNN_ERR_INVALID_ARG, "accounting: %d accuracy steps (at most %d)", in->n_steps,
                         CNN_ENERGY_MAX_STEPS);
    a->n_meters = in->n_meters;
    a->total_prov = in->n_meters ? in->meters[0].prov : CNN_PROV_ESTIMATED;
    for (int m = 1; m < in->n_meters; m++) a->total_prov = cnn_provenance_weakest(a->total_prov, in->meters[m].prov);
    account_idle(in, a);

    int begin = -1, end = -1, n_epochs = 0, n_evals = 0;
    for (int i = 0; i < in->n_events; i++) {
        const cnn_energy_event *e = &in->events[i];
        if (e->kind == CNN_EV_TRAIN_BEGIN && begin < 0) begin = i;
        if (e->kind == CNN_EV_TRAIN_END && begin >= 0 && end < 0) end = i;
        if (begin >= 0 && e->kind == CNN_EV_EPOCH_BEGIN) n_epochs++;
        if (begin >= 0 && e->kind == CNN_EV_EVAL) n_evals++;
    }
    if (begin < 0) return CNN_OK; // no training recorded
    a->has_training = 1;
    a->ended = end >= 0;
    double t_begin = in->events[begin].t;
    double t_end = end >= 0 ? in->events[end].t
                 : (in->end_t > t_begin ? in->end_t : in->events[in->n_events - 1].t);
    account_train(in, a, t_begin, t_end);

    a->epochs = calloc((size_t)(n_epochs ? n_epochs : 1), sizeof *a->epochs);
    a->evals = calloc((size_t)(n_evals ? n_evals : 1), sizeof *a->evals);
    if (!a->epochs || !a->evals) {
        cnn_energy_accounting_free(a);
        return cnn_error(CNN_ERR_NOMEM, "out of memory in the energy accounting");
    }
    account_windows(in, a, begin, end >= 0 ? end : in->n_events - 1, t_begin, t_end);
    account_outside(in, a);
    account_steps(in, a);
    account_target(in, a);
    return CNN_OK;
}
