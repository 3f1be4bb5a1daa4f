// The sampler: the one thread that reads the meters. The training loop never
// calls a meter; it only timestamps window edges, and window energies come
// afterwards from the series this thread records (cnn_series_window).
//
// A published counter (the NVML energy counter: a new value every ~100 ms,
// a read that can block for milliseconds) is polled around its next
// expected update until the change is seen, so that every update instant is
// known to within one read; the knot records [start of the last read that
// saw the old value, end of the read that saw the new one]. Other meters
// (RAPL, the cpu-model, power readings) give their value at the read and
// are read every min(interval, max(update period, 10 ms)).
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/energy/meters/sampler.h"

#define MIN_POLL_S 0.001 // back-to-back polls of a published counter are at least this far apart

typedef struct {
    int have;            // a first value was read
    int failed;
    double value;        // the last raw value read (joules, or watts for power meters)
    double read_t0;      // when the last read started
    double next_due;     // when to read next
    double last_change;  // end of the read that saw the last change (published counters)
    double poll_s;       // the period of a fresh meter
    double j, kt;        // the last knot's energy and instant
} meter_state;

struct cnn_sampler {
    cnn_meter *meters;
    int n;
    cnn_energy_series series[CNN_ENERGY_MAX_METERS];
    meter_state st[CNN_ENERGY_MAX_METERS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t read_cv; // broadcast after a round of reads while cnn_sampler_wait_past waits on it
    int waiting;            // callers in cnn_sampler_wait_past
    pthread_t th;
    int thread_started, stop, stopped;
    double stop_t;     // when the stop was asked: every meter needs a knot after it
    double max_period; // the longest update period (bounds the wait at stop)
    double thread_cpu_s;
    long reads, wakeups;
    char error[256];
};

static void fail(cnn_sampler *s, int i) {
    s->st[i].failed = 1;
    if (!s->error[0])
        snprintf(s->error, sizeof s->error, "meter %s stopped: %s", s->meters[i].info.name, cnn_last_error());
}

static cnn_status push(cnn_sampler *s, int i, double t0, double t1, double j, double w) {
    meter_state *m = &s->st[i];
    cnn_status st = cnn_series_push_knot(&s->series[i], t0, t1, j, w);
    if (st != CNN_OK) return st;
    m->j = j;
    m->kt = cnn_sample_time(&s->series[i].s[s->series[i].n - 1]);
    return CNN_OK;
}

// Reads meter i once and records a knot when the value says something new.
static void read_meter(cnn_sampler *s, int i) {
    meter_state *m = &s->st[i];
    cnn_meter *mt = &s->meters[i];
    const double period = mt->info.update_period_s;
    double v, t0 = cnn_now_s();
    cnn_status st = mt->read(mt, &v);
    double t1 = cnn_now_s();
    s->reads++;
    if (st != CNN_OK) {
        fail(s, i);
        return;
    }
    if (mt->info.published) {
        if (!m->have) { // its value was published at some unknown earlier instant
            st = push(s, i, -INFINITY, t1, v, NAN);
            m->last_change = t1;
        } else if (v != m->value) {
            double kt = 0.5 * (m->read_t0 + t1);
            st = push(s, i, m->read_t0, t1, v, kt > m->kt ? (v - m->j) / (kt - m->kt) : NAN);
            m->last_change = t1;
        }
        // next: shortly before the next expected update, then back-to-back until it is seen
        double wake = m->last_change + period - 2.0 * (t1 - t0) - 0.05 * period;
        if (t1 - m->last_change > 3.0 * period) wake = t1 + 0.25 * period; // a stuck counter: do not spin
        m->next_due = wake > t1 + MIN_POLL_S ? wake : t1 + MIN_POLL_S;
    } else {
        double j = v;
        if (mt->reads_power) j = m->have ? m->j + 0.5 * (v + m->value) * (0.5 * (t0 + t1) - m->kt) : 0.0;
        double kt = 0.5 * (t0 + t1);
        double w = mt->reads_power ? v : (m->have && kt > m->kt ? (j - m->j) / (kt - m->kt) : NAN);
        st = push(s, i, t0, t1, j, w);
        m->next_due = t0 + m->poll_s;
    }
    if (st != CNN_OK) fail(s, i);
    m->have = 1;
    m->value = v;
    m->read_t0 = t0;
}

// Whether meter i has a knot that certainly follows the instant t.
static int done_after(const cnn_sampler *s, int i, double t) {
    const cnn_energy_series *se = &s->series[i];
    return s->st[i].failed || (se->n > 0 && se->s[se->n - 1].t0 >= t);
}

static void add_seconds(struct timespec *ts, double sec) {
    long long ns = (long long)ts->tv_nsec + (long long)llround(sec * 1e9);
    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

static void *sampler_main(void *arg) {
    cnn_sampler *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        double now = cnn_now_s(), due = INFINITY;
        int all_done = 1;
        for (int i = 0; i < s->n; i++) {
            if (s->st[i].failed) continue;
            if (s->stop && !done_after(s, i, s->stop_t)) all_done = 0;
            if (s->st[i].next_due < due) due = s->st[i].next_due;
        }
        if (s->stop && (all_done || now > s->stop_t + 0.05 + 3.0 * s->max_period)) break;
        if (due > now && !(s->stop && due == INFINITY)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            add_seconds(&ts, fmin(due - now, 1.0));
            int stop_before = s->stop;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
            s->wakeups++;
            if (s->stop != stop_before) continue;
            now = cnn_now_s();
        }
        for (int i = 0; i < s->n; i++)
            if (!s->st[i].failed && s->st[i].next_due <= now) read_meter(s, i);
        if (s->waiting) pthread_cond_broadcast(&s->read_cv);
        if (due == INFINITY && s->stop) break; // every meter failed
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
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, &ca);
    pthread_cond_init(&s->read_cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < n; i++) {
        double p = meters[i].info.update_period_s;
        s->st[i].poll_s = fmin(interval_s, fmax(p, 0.01));
        s->max_period = fmax(s->max_period, p);
        read_meter(s, i); // the first reading: every series starts now
    }
    int e = pthread_create(&s->th, NULL, sampler_main, s);
    if (e != 0) {
        cnn_sampler_free(s);
        return cnn_error(CNN_ERR_INTERNAL, "cannot start the power sampler thread: %s", strerror(e));
    }
    s->thread_started = 1;
    *out = s;
    return CNN_OK;
}

void cnn_sampler_stop(cnn_sampler *s) {
    if (!s || s->stopped) return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        s->stop_t = cnn_now_s();
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
        s->thread_started = 0;
    }
    s->stopped = 1;
}

int cnn_sampler_wait_past(cnn_sampler *s, double t) {
    if (!s->thread_started) return 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++) // meters read at the instant: due now (a published counter keeps its polling)
        if (!s->meters[i].info.published && s->st[i].next_due > t) s->st[i].next_due = t;
    pthread_cond_signal(&s->cv);
    s->waiting++;
    const double deadline = t + 0.05 + 3.0 * s->max_period;
    int all = 0;
    for (;;) {
        all = 1;
        for (int i = 0; i < s->n; i++) all &= done_after(s, i, t);
        if (all || cnn_now_s() > deadline) break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        add_seconds(&ts, 0.005);
        pthread_cond_timedwait(&s->read_cv, &s->mu, &ts);
    }
    s->waiting--;
    pthread_mutex_unlock(&s->mu);
    return all;
}

double cnn_sampler_known_until(cnn_sampler *s) {
    if (s->thread_started) pthread_mutex_lock(&s->mu);
    double t = NAN;
    for (int i = 0; i < s->n; i++) {
        const cnn_energy_series *se = &s->series[i];
        if (s->st[i].failed || se->n == 0) continue;
        const double last = se->s[se->n - 1].t0;
        if (isnan(t) || last < t) t = last;
    }
    if (s->thread_started) pthread_mutex_unlock(&s->mu);
    return t;
}

void cnn_sampler_window(cnn_sampler *s, int i, double resolution_j, double a, double b, double *est, double *u) {
    if (s->thread_started) pthread_mutex_lock(&s->mu);
    cnn_series_window(&s->series[i], resolution_j, a, b, est, u);
    if (s->thread_started) pthread_mutex_unlock(&s->mu);
}

const cnn_energy_series *cnn_sampler_series(const cnn_sampler *s, int i) { return &s->series[i]; }

void cnn_sampler_overhead(const cnn_sampler *s, double *thread_cpu_s, long *reads, long *wakeups) {
    if (thread_cpu_s) *thread_cpu_s = s->thread_cpu_s;
    if (reads) *reads = s->reads;
    if (wakeups) *wakeups = s->wakeups;
}

const char *cnn_sampler_error(const cnn_sampler *s) { return s->error; }

void cnn_sampler_free(cnn_sampler *s) {
    if (!s) return;
    cnn_sampler_stop(s);
    for (int i = 0; i < s->n; i++) cnn_series_free(&s->series[i]);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->read_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
