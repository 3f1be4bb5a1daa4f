// Provenance names and the recorded energy series: growth, interpolation.
#include <stdlib.h>

#include "core/energy/meter.h"

const char *cnn_provenance_name(cnn_provenance p) {
    switch (p) {
    case CNN_PROV_MEASURED_COUNTER: return "measured-counter";
    case CNN_PROV_MEASURED_POWER: return "measured-power";
    case CNN_PROV_ESTIMATED: return "estimated";
    }
    return "estimated";
}

cnn_provenance cnn_provenance_weakest(cnn_provenance a, cnn_provenance b) { return a > b ? a : b; }

void cnn_meter_close(cnn_meter *m) {
    if (m && m->close) m->close(m);
    if (m) {
        m->close = NULL;
        m->read = NULL;
        m->ctx = NULL;
    }
}

cnn_status cnn_series_push(cnn_energy_series *se, double t, double j, double w) {
    if (se->n == se->cap) {
        size_t cap = se->cap ? 2 * se->cap : 256;
        cnn_energy_sample *p = realloc(se->s, cap * sizeof *p);
        if (!p) return cnn_error(CNN_ERR_NOMEM, "out of memory recording %zu power samples", se->n + 1);
        se->s = p;
        se->cap = cap;
    }
    se->s[se->n++] = (cnn_energy_sample){t, j, w};
    return CNN_OK;
}

void cnn_series_free(cnn_energy_series *se) {
    free(se->s);
    se->s = NULL;
    se->n = se->cap = 0;
}

// E(t) over samples s (n) sorted by time: linear between neighbours, clamped outside.
double cnn_series_energy_at(const cnn_energy_series *se, double t) {
    if (se->n == 0) return 0.0;
    const cnn_energy_sample *s = se->s;
    if (t <= s[0].t) return s[0].j;
    if (t >= s[se->n - 1].t) return s[se->n - 1].j;
    size_t lo = 0, hi = se->n - 1; // s[lo].t < t < s[hi].t
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].t <= t) lo = mid;
        else hi = mid;
    }
    double dt = s[hi].t - s[lo].t;
    if (dt <= 0) return s[hi].j;
    return s[lo].j + (s[hi].j - s[lo].j) * (t - s[lo].t) / dt;
}

// Number of i in [1, n) with s[i].j != s[i-1].j.
size_t cnn_series_changes(const cnn_energy_series *se) {
    size_t c = 0;
    for (size_t i = 1; i < se->n; i++)
        if (se->s[i].j != se->s[i - 1].j) c++;
    return c;
}
