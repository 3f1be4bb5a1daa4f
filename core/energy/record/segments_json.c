// run.json's "segments" section: every segment of a checkpointed and resumed
// run, with the unmeasured gaps between them (docs/checkpoints.md, "Segments").
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "core/energy/record/record_json.h"

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

void cnn_energy_jw_segments(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_segment *cur = &res->segment;
    cnn_jw_object(w, "segments");
    cnn_jw_int(w, "count", res->n_prior + 1);
    cnn_jw_bool(w, "resumed", res->n_prior > 0);
    cnn_jw_number(w, "unmeasured_gap_total_s", cnn_energy_segments_gap_s(res->prior, res->n_prior, cur));
    cnn_jw_array(w, "list");
    for (int k = 0; k < res->n_prior; k++)
        jw_segment(w, &res->prior[k], k, k + 1 < res->n_prior ? &res->prior[k + 1] : cur);
    jw_segment(w, cur, res->n_prior, NULL);
    cnn_jw_end_array(w);
    cnn_jw_end_object(w);
}

