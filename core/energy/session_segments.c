// The session's side of a checkpointed and resumed run: the current segment
// so far (what a checkpoint carries) and the earlier segments a resumed
// session learns (docs/checkpoints.md, "Segments").
#include <math.h>
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
    snprintf(out->run_id, sizeof out->run_id, "%s", s->res.run_id);
    out->end_unix = wall - (now - t);
    out->start_unix = wall - (now - t0);
    out->train_s = now - t0;
    out->n_meters = s->res.n_meters;
    out->total_prov = s->res.n_meters ? CNN_PROV_MEASURED_COUNTER : CNN_PROV_ESTIMATED;
    for (int m = 0; m < s->res.n_meters; m++) {
        snprintf(out->meter[m], sizeof out->meter[m], "%s", s->res.info[m].name);
        cnn_sampler_window(s->sampler, m, s->res.info[m].resolution_j, t0, t, &out->j[m], &out->u[m]);
        out->prov[m] = (int)s->res.info[m].prov;
        out->total_j += out->j[m];
        out->total_u += out->u[m];
        out->total_prov = (int)cnn_provenance_weakest((cnn_provenance)out->total_prov, s->res.info[m].prov);
    }
    out->ended = signal ? CNN_SEGMENT_INTERRUPTED : CNN_SEGMENT_KILLED; // killed unless the record says otherwise
    out->signal = signal;
    return cnn_energy_world_segment(s, out); // a data-parallel run: every rank's meters in rank 0's
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
    memcpy(s->res.prior, segs, (size_t)n * sizeof *segs);
    s->res.n_prior = n;
    return CNN_OK;
}
