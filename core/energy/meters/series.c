// The recorded energy series: growth, interpolation, bounds.
#include <math.h>
#include <stdlib.h>

#include "core/energy/meters/series.h"

cnn_status cnn_series_push_knot(cnn_energy_series *se, double t0, double t, double j, double w) {
    if (se->n == se->cap) {
        size_t cap = se->cap ? 2 * se->cap : 256;
        cnn_energy_sample *p = realloc(se->s, cap * sizeof *p);
        if (!p) return cnn_error(CNN_ERR_NOMEM, "out of memory recording %zu power samples", se->n + 1);
        se->s = p;
        se->cap = cap;
    }
    se->s[se->n++] = (cnn_energy_sample){t0, t, j, w};
    return CNN_OK;
}

cnn_status cnn_series_push(cnn_energy_series *se, double t, double j, double w) {
    return cnn_series_push_knot(se, t, t, j, w);
}

void cnn_series_free(cnn_energy_series *se) {
    free(se->s);
    se->s = NULL;
    se->n = se->cap = 0;
}

double cnn_sample_time(const cnn_energy_sample *k) { return isfinite(k->t0) ? 0.5 * (k->t0 + k->t) : k->t; }

// The number of knots whose t0 (which 0: strictly below t), t (1) or middle (2) is <= t: knots are ordered in all three.
static size_t count_le(const cnn_energy_series *se, double t, int which) {
    size_t lo = 0, hi = se->n; // answer in [lo, hi]
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const cnn_energy_sample *k = &se->s[mid];
        double v = which == 0 ? k->t0 : which == 1 ? k->t : cnn_sample_time(k);
        if (v < t || (which != 0 && v == t)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

// E(t): linear between the knots' instants, clamped outside them.
double cnn_series_energy_at(const cnn_energy_series *se, double t) {
    if (se->n == 0) return 0.0;
    size_t k = count_le(se, t, 2); // knots placed at or before t
    if (k == 0) return se->s[0].j;
    if (k == se->n) return se->s[se->n - 1].j;
    const cnn_energy_sample *a = &se->s[k - 1], *b = &se->s[k];
    double ta = cnn_sample_time(a), tb = cnn_sample_time(b);
    if (tb <= ta) return b->j;
    return a->j + (b->j - a->j) * (t - ta) / (tb - ta);
}

void cnn_series_bounds_at(const cnn_energy_series *se, double t, double *lo, double *hi) {
    size_t before = count_le(se, t, 1); // knots whose latest instant is <= t: their value was reached by t
    *lo = before ? se->s[before - 1].j : -INFINITY;
    size_t not_after = count_le(se, t, 0); // knots whose earliest instant is before t; the next one is at or after t
    *hi = not_after < se->n ? se->s[not_after].j : INFINITY;
}

void cnn_series_window(const cnn_energy_series *se, double resolution_j, double a, double b, double *est,
                       double *u) {
    *est = cnn_series_energy_at(se, b) - cnn_series_energy_at(se, a);
    if (se->n == 0) {
        *u = INFINITY;
        return;
    }
    double alo, ahi, blo, bhi;
    cnn_series_bounds_at(se, a, &alo, &ahi);
    cnn_series_bounds_at(se, b, &blo, &bhi);
    double lo = blo - ahi, hi = bhi - alo; // -inf / +inf propagate
    if (lo < 0) lo = 0;                   // the cumulative energy never decreases
    double du = fmax(*est - lo, hi - *est);
    *u = du + 2.0 * resolution_j;
}
// Number of i in [1, n) with s[i].j != s[i-1].j.
size_t cnn_series_changes(const cnn_energy_series *se) {
    size_t c = 0;
    for (size_t i = 1; i < se->n; i++)
        if (se->s[i].j != se->s[i - 1].j) c++;
    return c;
}
