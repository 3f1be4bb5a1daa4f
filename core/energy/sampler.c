// The sampler: a thread that reads every meter at a fixed interval and
// keeps each meter's series (time, cumulative joules, watts). Window edges
// from the training loop add a sample at once (cnn_sampler_mark), so that
// window energies come from readings taken at the edges. One mutex guards
// the meters and the series; the thread measures its own CPU time.
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/energy/meter.h"

struct cnn_sampler {
    cnn_meter *meters;
    int n;
    cnn_energy_series series[CNN_ENERGY_MAX_METERS];
    double last_t[CNN_ENERGY_MAX_METERS], last_j[CNN_ENERGY_MAX_METERS], last_w[CNN_ENERGY_MAX_METERS];
    int have_last[CNN_ENERGY_MAX_METERS], failed[CNN_ENERGY_MAX_METERS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int thread_started, stop, stopped;
    double interval_s;
    double thread_cpu_s, mark_wall_s;
    long ticks, marks;
    char error[256];
};

// Reads every meter at time t and appends a sample to each series. Caller holds mu.
static void sample_locked(cnn_sampler *s, double t) {
    for (int i = 0; i < s->n; i++) {
        if (s->failed[i]) continue;
        cnn_meter *m = &s->meters[i];
        double v;
        cnn_status st = m->read(m, &v);
        double j, w;
        if (st == CNN_OK) {
            if (m->reads_power) {
                w = v;
                j = s->have_last[i] ? s->last_j[i] + 0.5 * (w + s->last_w[i]) * (t - s->last_t[i]) : 0.0;
            } else {
                j = v;
                w = (s->have_last[i] && t > s->last_t[i]) ? (j - s->last_j[i]) / (t - s->last_t[i]) : NAN;
            }
            st = cnn_series_push(&s->series[i], t, j, w);
        }
        if (st != CNN_OK) {
            s->failed[i] = 1;
            if (!s->error[0])
                snprintf(s->error, sizeof s->error, "meter %s stopped: %s", m->info.name, cnn_last_error());
            continue;
        }
        s->last_t[i] = t;
        s->last_j[i] = j;
        s->last_w[i] = w;
        s->have_last[i] = 1;
    }
}

static void add_seconds(struct timespec *ts, double sec) {
    long long ns = (long long)ts->tv_nsec + (long long)llround(sec * 1e9);
    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

static void *sampler_main(void *arg) {
    cnn_sampler *s = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        add_seconds(&next, s->interval_s);
        int rc = 0;
        while (!s->stop && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&s->cv, &s->mu, &next);
        if (s->stop) break;
        double t = cnn_now_s();
        sample_locked(s, t);
        s->ticks++;
        // Fell behind (a stalled machine): resume from now rather than sampling in a burst.
        double next_s = (double)next.tv_sec + 1e-9 * (double)next.tv_nsec;
        if (t - next_s > s->interval_s) {
            clock_gettime(CLOCK_MONOTONIC, &next);
        }
    }
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        s->thread_cpu_s = (double)cpu.tv_sec + 1e-9 * (double)cpu.tv_nsec;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

cnn_status cnn_sampler_start(cnn_meter *meters, int n, double interval_s, cnn_sampler **out) {
    *out = NULL;
    if (n < 0 || n > CNN_ENERGY_MAX_METERS)
        return cnn_error(CNN_ERR_INVALID_ARG, "the sampler takes at most %d meters, got %d", CNN_ENERGY_MAX_METERS, n);
    if (!(interval_s >= 0.001 && interval_s <= 60.0))
        return cnn_error(CNN_ERR_INVALID_ARG, "the sampling interval must be in [1 ms, 60 s], got %g s", interval_s);
    cnn_sampler *s = calloc(1, sizeof *s);
    if (!s) return cnn_error(CNN_ERR_NOMEM, "out of memory starting the power sampler");
    s->meters = meters;
    s->n = n;
    s->interval_s = interval_s;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    sample_locked(s, cnn_now_s()); // the first sample: every series starts at the same instant
    int e = pthread_create(&s->th, NULL, sampler_main, s);
    if (e != 0) {
        cnn_sampler_free(s);
        return cnn_error(CNN_ERR_INTERNAL, "cannot start the power sampler thread: %s", strerror(e));
    }
    s->thread_started = 1;
    *out = s;
    return CNN_OK;
}

double cnn_sampler_mark(cnn_sampler *s) {
    pthread_mutex_lock(&s->mu);
    double t = cnn_now_s();
    if (!s->stopped) {
        sample_locked(s, t);
        s->marks++;
        s->mark_wall_s += cnn_now_s() - t;
    }
    pthread_mutex_unlock(&s->mu);
    return t;
}

void cnn_sampler_stop(cnn_sampler *s) {
    if (!s || s->stopped) return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
        s->thread_started = 0;
    }
    pthread_mutex_lock(&s->mu);
    sample_locked(s, cnn_now_s());
    s->stopped = 1;
    pthread_mutex_unlock(&s->mu);
}

const cnn_energy_series *cnn_sampler_series(const cnn_sampler *s, int i) { return &s->series[i]; }

void cnn_sampler_overhead(const cnn_sampler *s, double *thread_cpu_s, double *mark_wall_s, long *ticks, long *marks) {
    if (thread_cpu_s) *thread_cpu_s = s->thread_cpu_s;
    if (mark_wall_s) *mark_wall_s = s->mark_wall_s;
    if (ticks) *ticks = s->ticks;
    if (marks) *marks = s->marks;
}

const char *cnn_sampler_error(const cnn_sampler *s) { return s->error; }

void cnn_sampler_free(cnn_sampler *s) {
    if (!s) return;
    cnn_sampler_stop(s);
    for (int i = 0; i < s->n; i++) cnn_series_free(&s->series[i]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
