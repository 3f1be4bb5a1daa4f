// Repeated runs in one session: per-run accountings, the spanning window
// and the statistics across runs (see repeats.h, docs/ENERGY.md "Repeats").
#include "core/energy/accounting/repeats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double cnn_energy_run_target_t(const cnn_energy_accounting *r) {
    if (!r->target_reached || r->target_eval < 0) return NAN;
    return r->evals[r->target_eval].w.t1;
}

int cnn_energy_repeats_epochs_count(const cnn_energy_repeats *r, int epochs) {
    int c = 0;
    for (int k = 0; k < r->n; k++)
        if (r->runs[k].target_reached && r->runs[k].evals[r->runs[k].target_eval].eval.epoch == epochs) c++;
    return c;
}

void cnn_energy_repeats_free(cnn_energy_repeats *r) {
    for (int k = 0; k < r->n && r->runs; k++) cnn_energy_accounting_free(&r->runs[k]);
    free(r->runs);
    free(r->seeds);
    memset(r, 0, sizeof *r);
}

// Each run: the events from its on_train_begin up to the next run's.
static cnn_status account_runs(const cnn_energy_input *in, cnn_energy_repeats *r) {
    int k = 0;
    for (int i = 0; i < in->n_events; i++) {
        if (in->events[i].kind != CNN_EV_TRAIN_BEGIN) continue;
        int j = i + 1;
        while (j < in->n_events && in->events[j].kind != CNN_EV_TRAIN_BEGIN) j++;
        cnn_energy_input sub = *in;
        sub.events = in->events + i;
        sub.n_events = j - i;
        if (j < in->n_events) sub.end_t = in->events[j].t;
        CNN_TRY(cnn_energy_account(&sub, &r->runs[k]));
        r->n = ++k;
    }
    return CNN_OK;
}

// Statistics of time, energy and epochs to target, and of each step's marginal energy.
static void account_stats(const cnn_energy_input *in, cnn_energy_repeats *r) {
    double *t = calloc((size_t)r->n, sizeof *t), *e = calloc((size_t)r->n, sizeof *e);
    double *ep = calloc((size_t)r->n, sizeof *ep), *m = calloc((size_t)r->n, sizeof *m);
    if (!t || !e || !ep || !m) goto done;
    for (int k = 0; k < r->n; k++) {
        const cnn_energy_accounting *a = &r->runs[k];
        int ok = a->target_reached;
        t[k] = ok ? a->target_time_s : NAN;
        e[k] = ok ? a->target_total_j : NAN;
        ep[k] = ok ? a->evals[a->target_eval].eval.epoch : NAN;
        if (ok && ep[k] > r->epochs_hist_max) r->epochs_hist_max = (int)ep[k];
    }
    cnn_stats_compute(t, r->n, &r->time_s);
    cnn_stats_compute(e, r->n, &r->energy_j);
    cnn_stats_compute(ep, r->n, &r->epochs);
    for (int s = 0; s < in->n_steps; s++) {
        double usum = 0;
        int nu = 0;
        for (int k = 0; k < r->n; k++) {
            const cnn_energy_step_row *row = &r->runs[k].steps[s];
            m[k] = row->reached ? row->marginal_total_j : NAN;
            if (row->reached) usum += row->marginal_total_u, nu++;
        }
        cnn_stats_compute(m, r->n, &r->step_j[s]);
        r->step_u[s] = nu ? usum / nu : NAN;
    }
done:
    free(t), free(e), free(ep), free(m);
}

// The one window over all runs: the mean energy to target with a bound that shrinks as 1/n.
static void account_span(const cnn_energy_input *in, cnn_energy_repeats *r) {
    const cnn_energy_accounting *first = &r->runs[0], *last = &r->runs[r->n - 1];
    double t1 = r->all_reached ? cnn_energy_run_target_t(last) : last->train.t1;
    cnn_energy_window_compute(in, first->train.t0, t1, &r->span);
    double sum = 0;
    for (int k = 0; k < r->n; k++) sum += r->runs[k].target_total_j;
    if (r->all_reached) {
        r->mean_j = r->span.total_j / r->n;
        r->mean_u = r->span.total_u / r->n;
        r->between_j = r->span.total_j - sum;
        r->mean_method = "one window from the first run's start to the last run's target, divided by the runs";
        cnn_stats_set_mean(&r->energy_j, r->mean_j);
    } else {
        r->mean_j = r->energy_j.mean;
        double usum = 0;
        for (int k = 0; k < r->n; k++) usum += r->runs[k].target_reached ? r->runs[k].target_total_u : 0;
        r->mean_u = r->n_reached ? usum / r->n_reached : NAN;
        r->between_j = NAN;
        r->mean_method = "mean of the runs that reached the target (not all did: no spanning window)";
    }
}

cnn_status cnn_energy_repeats_account(const cnn_energy_input *in, const uint64_t *seeds, int n_seeds,
                                      cnn_energy_repeats *out) {
    memset(out, 0, sizeof *out);
    int n = 0;
    for (int i = 0; i < in->n_events; i++) n += in->events[i].kind == CNN_EV_TRAIN_BEGIN;
    if (n == 0) return CNN_OK;
    out->runs = calloc((size_t)n, sizeof *out->runs);
    out->seeds = calloc((size_t)n, sizeof *out->seeds);
    if (!out->runs || !out->seeds) {
        cnn_energy_repeats_free(out);
        return cnn_error(CNN_ERR_NOMEM, "out of memory accounting %d runs", n);
    }
    cnn_status st = account_runs(in, out);
    if (st != CNN_OK) {
        cnn_energy_repeats_free(out);
        return st;
    }
    for (int k = 0; k < out->n; k++) {
        out->seeds[k] = k < n_seeds ? seeds[k] : 0;
        out->n_reached += out->runs[k].target_reached;
    }
    out->all_reached = out->n_reached == out->n;
    account_stats(in, out);
    account_span(in, out);
    return CNN_OK;
}

// How many back-to-back repeats bring the energy's relative uncertainty under 2% with windows of >= 10 s in total.
int cnn_energy_repeats_needed(double j, double u, double time_s) {
    if (!(j > 0) || !isfinite(u)) return -1;
    double n = ceil((u / j) / 0.02);
    if (time_s > 0 && n * time_s < 10.0) n = ceil(10.0 / time_s);
    return n < 1 ? 1 : n > 1e6 ? 1000000 : (int)n;
}
