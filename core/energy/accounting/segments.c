// The accounting of a resumed run's segments: the functional unit with the
// earlier segments added, this session's own segment, and the unmeasured
// gaps between segments (docs/checkpoints.md, "Segments").
#include "core/energy/accounting/segments.h"

#include <stdio.h>
#include <string.h>

_Static_assert(CNN_ENERGY_SEGMENT_METERS == CNN_ENERGY_MAX_METERS, "a segment holds every meter of a session");

// Adds an earlier segment to the functional unit: its time, its total, each meter to this session's of that name.
static void fu_add(cnn_energy_fu *f, const cnn_meter_info *info, int n_meters, const cnn_energy_segment *g) {
    f->time_s += g->train_s;
    f->total_j += g->total_j;
    f->total_u += g->total_u;
    f->prov = cnn_provenance_weakest(f->prov, (cnn_provenance)g->total_prov);
    for (int k = 0; k < g->n_meters; k++)
        for (int m = 0; m < n_meters; m++)
            if (!strncmp(g->meter[k], info[m].name, sizeof g->meter[k])) {
                f->j[m] += g->j[k];
                f->u[m] += g->u[k];
                break;
            }
}

// The functional unit: to the target when it was reached, else the training window; then the earlier segments.
void cnn_energy_fu_compute(const cnn_energy_accounting *a, const cnn_meter_info *info, int n_meters,
                           const cnn_energy_segment *prior, int n_prior, cnn_energy_fu *f) {
    memset(f, 0, sizeof *f);
    const int t = a->target_reached;
    f->time_s = t ? a->target_time_s : a->train.t1 - a->train.t0;
    memcpy(f->j, t ? a->target_j : a->train.j, sizeof f->j);
    memcpy(f->u, t ? a->target_u : a->train.u, sizeof f->u);
    f->total_j = t ? a->target_total_j : a->train.total_j;
    f->total_u = t ? a->target_total_u : a->train.total_u;
    f->prov = a->total_prov;
    for (int k = 0; k < n_prior; k++) fu_add(f, info, n_meters, &prior[k]);
}

// This session's segment from its training window, in wall-clock time.
void cnn_energy_segment_current(const cnn_energy_accounting *a, const char *run_id, double wall_minus_mono,
                                const cnn_meter_info *info, int n_meters, int signal, cnn_energy_segment *g) {
    memset(g, 0, sizeof *g);
    snprintf(g->run_id, sizeof g->run_id, "%s", run_id);
    g->start_unix = wall_minus_mono + a->train.t0;
    g->end_unix = wall_minus_mono + a->train.t1;
    g->train_s = a->train.t1 - a->train.t0;
    g->n_meters = n_meters;
    for (int m = 0; m < n_meters; m++) {
        snprintf(g->meter[m], sizeof g->meter[m], "%s", info[m].name);
        g->j[m] = a->train.j[m], g->u[m] = a->train.u[m], g->prov[m] = (int)info[m].prov;
    }
    g->total_j = a->train.total_j, g->total_u = a->train.total_u, g->total_prov = (int)a->total_prov;
    g->signal = signal;
    g->ended = g->signal ? CNN_SEGMENT_INTERRUPTED : CNN_SEGMENT_FINISHED;
}

// Seconds between each segment's last measurement and the next one's start, summed.
double cnn_energy_segments_gap_s(const cnn_energy_segment *prior, int n_prior, const cnn_energy_segment *cur) {
    double sum = 0.0;
    for (int k = 0; k < n_prior; k++)
        sum += (k + 1 < n_prior ? prior[k + 1].start_unix : cur->start_unix) - prior[k].end_unix;
    return sum;
}

// How a segment ended, as run.json and the summary name it.
const char *cnn_energy_segment_end_name(int ended) {
    return ended == CNN_SEGMENT_INTERRUPTED ? "interrupted" : ended == CNN_SEGMENT_FINISHED ? "finished" : "killed";
}
