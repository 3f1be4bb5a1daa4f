// The observer the training loop calls at window edges: each call only
// timestamps the edge (no meter is read on the training thread) and keeps
// what the loop says of itself (dataset, configuration, result).
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/energy/session.h"

// Records one window edge (a mark): its kind, timestamp, epoch and evaluation; and how long the mark took.
static void push_event(cnn_energy_session *s, cnn_energy_event_kind kind, double t, int epoch,
                       const cnn_energy_eval *ev) {
    // A mark only records the edge's timestamp: no meter is read on the training thread.
    double m0 = cnn_now_s();
    if (s->n_events == s->cap_events) {
        int cap = s->cap_events ? 2 * s->cap_events : 256;
        cnn_energy_event *p = realloc(s->events, (size_t)cap * sizeof *p);
        if (!p) {
            s->lost_events++;
            return;
        }
        s->events = p;
        s->cap_events = cap;
    }
    cnn_energy_event *e = &s->events[s->n_events++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->t = t;
    e->epoch = epoch;
    if (ev) e->eval = *ev;
    double dt = cnn_now_s() - m0;
    s->res.marks++;
    s->res.mark_s += dt;
    if (dt > s->res.mark_max_s) s->res.mark_max_s = dt;
}

static void obs_train_begin(void *user, const cnn_train_info *info, double t) {
    cnn_energy_session *s = user;
    if (info) {
        if (!s->res.have_info && info->step_note) // the record says why the step is not the fused one (once)
            cnn_energy_notes_add(&s->res.notes, NULL, "step: %s", info->step_note);
        s->res.have_info = 1;
        snprintf(s->res.dataset, sizeof s->res.dataset, "%s", info->dataset ? info->dataset : "");
        snprintf(s->res.loop_backend, sizeof s->res.loop_backend, "%s", info->backend ? info->backend : "");
        snprintf(s->res.gemm, sizeof s->res.gemm, "%s", info->gemm ? info->gemm : "");
        snprintf(s->res.step, sizeof s->res.step, "%s", info->step ? info->step : "");
        snprintf(s->res.device_desc, sizeof s->res.device_desc, "%s", info->device_desc ? info->device_desc : "");
        snprintf(s->res.model_desc, sizeof s->res.model_desc, "%s", info->model_desc ? info->model_desc : "");
        if (info->cfg) s->res.cfg = *info->cfg;
        s->res.steps_per_epoch = info->steps_per_epoch;
        s->res.n_train = info->n_train;
        s->res.n_test = info->n_test;
    }
    if (s->n_runs == s->cap_runs) { // once per run, before its first mark
        int cap = s->cap_runs ? 2 * s->cap_runs : 8;
        uint64_t *p = realloc(s->run_seeds, (size_t)cap * sizeof *p);
        if (p) s->run_seeds = p, s->cap_runs = cap;
    }
    if (s->n_runs < s->cap_runs) s->run_seeds[s->n_runs++] = info && info->cfg ? info->cfg->seed : 0;
    push_event(s, CNN_EV_TRAIN_BEGIN, t, 0, NULL);
}

static void obs_epoch_begin(void *user, int epoch, double t) { push_event(user, CNN_EV_EPOCH_BEGIN, t, epoch, NULL); }
static void obs_eval_begin(void *user, double t) { push_event(user, CNN_EV_EVAL_BEGIN, t, 0, NULL); }

static void obs_eval(void *user, const cnn_eval_point *p, double t) {
    cnn_energy_eval ev = {p->epoch,    p->step,      p->train_loss, p->test_loss,
                           p->test_acc, p->elapsed_s, p->test_hits,  p->n_test};
    push_event(user, CNN_EV_EVAL, t, p->epoch, &ev);
}

static void obs_epoch_end(void *user, int epoch, double t) { push_event(user, CNN_EV_EPOCH_END, t, epoch, NULL); }

static void obs_train_end(void *user, const cnn_train_result *r, double t) {
    cnn_energy_session *s = user;
    if (r && !s->res.have_result) { // the first run's result (with --repeat, the others are in the events)
        s->res.result = *r;
        s->res.have_result = 1;
    }
    push_event(s, CNN_EV_TRAIN_END, t, 0, NULL);
}

static const cnn_train_observer no_observer = {0};

const cnn_train_observer *cnn_energy_observer(cnn_energy_session *s) { return s ? &s->observer : &no_observer; }

// The session's observer: every callback but on_step.
cnn_train_observer cnn_energy_session_observer(cnn_energy_session *s) {
    return (cnn_train_observer){
        .user = s,
        .on_train_begin = obs_train_begin,
        .on_epoch_begin = obs_epoch_begin,
        .on_step = NULL,
        .on_eval_begin = obs_eval_begin,
        .on_eval = obs_eval,
        .on_epoch_end = obs_epoch_end,
        .on_train_end = obs_train_end,
    };
}
