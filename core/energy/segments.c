// Segments of a run that was checkpointed and resumed: the current segment
// so far (what a checkpoint carries), the earlier segments a resumed session
// learns, the functional unit with them added, run.json's "segments" section
// and the summary's line about them (docs/checkpoints.md, "Segments").
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/energy/session.h"

static double wall_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// The start of this session's training window (its first TRAIN_BEGIN), NAN when training has not begun.
static double train_begin_t(const cnn_energy_session *s) {
    for (int i = 0; i < s->n_events; i++)
        if (s->events[i].kind == CNN_EV_TRAIN_BEGIN) return s->events[i].t;
    return NAN;
}

cnn_status cnn_energy_segment_now(cnn_energy_session *s, int signal, cnn_energy_segment *out) {
    memset(out, 0, sizeof *out);
    if (!s) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_energy_segment_now: no energy session");
    const double t0 = train_begin_t(s);
    if (isnan(t0)) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_energy_segment_now: training has not begun");
    // The training thread never waits for a meter (a published counter may be 100 ms from its next update):
    // the segment's energy is measured up to the meters' last readings, t <= now, and the moments after
    // them fall in the unmeasured gap before the next segment. Its training time counts to now.
    const double now = cnn_now_s(), wall = wall_now_s();
    double t = cnn_sampler_known_until(s->sampler);
    if (!(t <= now)) t = now;
    if (t < t0) t = t0;
    snprintf(out->run_id, sizeof out->run_id, "%s", s->run_id);
    out->end_unix = wall - (now - t);
    out->start_unix = wall - (now - t0);
    out->train_s = now - t0;
    out->n_meters = s->n_meters;
    out->total_prov = s->n_meters ? CNN_PROV_MEASURED_COUNTER : CNN_PROV_ESTIMATED;
    for (int m = 0; m < s->n_meters; m++) {
        snprintf(out->meter[m], sizeof out->meter[m], "%s", s->info[m].name);
        cnn_sampler_window(s->sampler, m, s->info[m].resolution_j, t0, t, &out->j[m], &out->u[m]);
        out->prov[m] = (int)s->info[m].prov;
        out->total_j += out->j[m];
        out->total_u += out->u[m];
        out->total_prov = (int)cnn_provenance_weakest((cnn_provenance)out->total_prov, s->info[m].prov);
    }
    out->ended = signal ? CNN_SEGMENT_INTERRUPTED : CNN_SEGMENT_KILLED; // killed unless the record says otherwise
    out->signal = signal;
    return CNN_OK;
}

cnn_status cnn_energy_add_prior_segments(cnn_energy_session *s, const cnn_energy_segment *segs, int n) {
    if (!s) return CNN_OK;
    if (n < 0 || n > CNN_ENERGY_MAX_SEGMENTS - 1)
        return cnn_error(CNN_ERR_INVALID_ARG, "a run can be resumed at most %d times (this one has %d segments)",
                         CNN_ENERGY_MAX_SEGMENTS - 1, n);
    for (int k = 0; k < n; k++) {
        const cnn_energy_segment *g = &segs[k];
        if (g->n_meters < 0 || g->n_meters > CNN_ENERGY_MAX_METERS || !(g->train_s >= 0) ||
            !(g->end_unix >= g->start_unix) || !(g->total_u >= 0) || isnan(g->total_j))
            return cnn_error(CNN_ERR_FORMAT, "earlier segment %d of the run is malformed (%d meters, %g s)", k + 1,
                             g->n_meters, g->train_s);
    }
    memcpy(s->prior, segs, (size_t)n * sizeof *segs);
    s->n_prior = n;
    return CNN_OK;
}

static void signal_name(int sig, char *buf, size_t len) {
    snprintf(buf, len, "%s", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "");
    if (!buf[0]) snprintf(buf, len, "signal %d", sig);
}

static void utc(double unix_s, char *buf, size_t len) {
    time_t t = (time_t)floor(unix_s);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void jw_segment(cnn_json_writer *w, const cnn_energy_segment *g, int index, const cnn_energy_segment *next) {
    char buf[48];
    cnn_jw_object(w, NULL);
    cnn_jw_int(w, "segment", index + 1);
    cnn_jw_string(w, "run_id", g->run_id);
    utc(g->start_unix, buf, sizeof buf);
    cnn_jw_string(w, "start_utc", buf);
    cnn_jw_number(w, "start_unix_s", g->start_unix);
    utc(g->end_unix, buf, sizeof buf);
    cnn_jw_string(w, "end_utc", buf);
    cnn_jw_number(w, "end_unix_s", g->end_unix);
    cnn_jw_number(w, "training_s", g->train_s);
    cnn_jw_object(w, "energy_per_meter_j");
    for (int m = 0; m < g->n_meters; m++) cnn_jw_number(w, g->meter[m], g->j[m]);
    cnn_jw_end_object(w);
    cnn_jw_object(w, "energy_per_meter_uncertainty_j");
    for (int m = 0; m < g->n_meters; m++) cnn_jw_number(w, g->meter[m], g->u[m]);
    cnn_jw_end_object(w);
    cnn_jw_number(w, "energy_total_j", g->total_j);
    cnn_jw_number(w, "energy_total_uncertainty_j", g->total_u);
    cnn_jw_string(w, "provenance", cnn_provenance_name((cnn_provenance)g->total_prov));
    cnn_jw_string(w, "ended", cnn_energy_segment_end_name(g->ended));
    signal_name(g->signal, buf, sizeof buf);
    cnn_jw_string(w, "signal", g->ended == CNN_SEGMENT_INTERRUPTED ? buf : NULL);
    if (next) cnn_jw_number(w, "unmeasured_gap_s", next->start_unix - g->end_unix);
    else cnn_jw_null(w, "unmeasured_gap_s");
    cnn_jw_end_object(w);
}

void cnn_energy_jw_segments(cnn_json_writer *w, const cnn_energy_session *s) {
    cnn_energy_segment cur;
    cnn_energy_segment_current(&s->acc, s->run_id, s->wall_minus_mono, s->info, s->n_meters,
                               s->have_result ? s->result.interrupted : 0, &cur);
    cnn_jw_object(w, "segments");
    cnn_jw_int(w, "count", s->n_prior + 1);
    cnn_jw_bool(w, "resumed", s->n_prior > 0);
    cnn_jw_number(w, "unmeasured_gap_total_s", cnn_energy_segments_gap_s(s->prior, s->n_prior, &cur));
    cnn_jw_array(w, "list");
    for (int k = 0; k < s->n_prior; k++)
        jw_segment(w, &s->prior[k], k, k + 1 < s->n_prior ? &s->prior[k + 1] : &cur);
    jw_segment(w, &cur, s->n_prior, NULL);
    cnn_jw_end_array(w);
    cnn_jw_end_object(w);
}

void cnn_energy_print_segments(const cnn_energy_session *s, FILE *out) {
    if (s->n_prior == 0) return;
    cnn_energy_segment cur;
    cnn_energy_segment_current(&s->acc, s->run_id, s->wall_minus_mono, s->info, s->n_meters,
                               s->have_result ? s->result.interrupted : 0, &cur);
    double t = 0.0, j = 0.0, u = 0.0;
    cnn_provenance p = CNN_PROV_MEASURED_COUNTER;
    for (int k = 0; k < s->n_prior; k++) {
        t += s->prior[k].train_s, j += s->prior[k].total_j, u += s->prior[k].total_u;
        p = cnn_provenance_weakest(p, (cnn_provenance)s->prior[k].total_prov);
    }
    char b[48];
    fprintf(out, "\nresumed run: %d segments; the earlier %d (ended: %s%s) trained %.3f s using %s J (%s), included "
                 "in the functional unit below; %.3f s between segments were not measured (not counted)\n",
            s->n_prior + 1, s->n_prior, cnn_energy_segment_end_name(s->prior[s->n_prior - 1].ended), s->n_prior > 1 ? " last" : "", t,
            cnn_energy_fmt_ju(b, sizeof b, j, u), cnn_provenance_name(p), cnn_energy_segments_gap_s(s->prior, s->n_prior, &cur));
}
