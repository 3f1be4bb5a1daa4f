// The recorded series (internal to core/energy): what the sampler records
// of each meter, and the interpolation and bounds the accounting reads from it.
#ifndef CNN_ENERGY_SERIES_H
#define CNN_ENERGY_SERIES_H

#include <stddef.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// A series is the list of instants where the meter's value is known: each
// knot says the true cumulative energy was j at some instant in [t0, t]
// (for a published counter: between the start of the last read that still
// saw the old value and the end of the read that saw the new one; for a
// meter read at the instant: the read itself; t0 = -inf for a counter's
// first value, published at an unknown earlier time).
typedef struct {
    double t0; // the earliest instant the value can belong to
    double t;  // the latest (seconds, the cnn_now_s() clock)
    double j;  // cumulative joules since the session opened the meter
    double w;  // watts: the reading (power meters) or the counter differenced over its own update interval
} cnn_energy_sample;

typedef struct {
    cnn_energy_sample *s;
    size_t n, cap;
} cnn_energy_series;

// Appends one knot known at the instant t (t0 = t). CNN_ERR_NOMEM on failure.
cnn_status cnn_series_push(cnn_energy_series *se, double t, double j, double w);
// Appends one knot known to lie in [t0, t].
cnn_status cnn_series_push_knot(cnn_energy_series *se, double t0, double t, double j, double w);
void cnn_series_free(cnn_energy_series *se);
// The instant a knot is placed at for interpolation: the middle of [t0, t] (t when t0 is -inf).
double cnn_sample_time(const cnn_energy_sample *k);
// The cumulative energy at time t, linearly interpolated between knots;
// clamped to the first/last knot outside them (0 when empty).
double cnn_series_energy_at(const cnn_energy_series *se, double t);
// What the knots guarantee about the true cumulative energy at t (which
// never decreases): lo = the value of the last knot certainly before t,
// hi = that of the first knot certainly after it (-inf / +inf when none).
void cnn_series_bounds_at(const cnn_energy_series *se, double t, double *lo, double *hi);
// The energy over [a, b]: the interpolated estimate and the half-width u such
// that [est - u, est + u] contains every energy the knots allow (each
// edge's bracketing update interval, plus resolution_j per edge); inf when unbounded.
void cnn_series_window(const cnn_energy_series *se, double resolution_j, double a, double b, double *est,
                       double *u);
// Number of i in [1, n) with a changed value (a measured update period: duration / changes).
size_t cnn_series_changes(const cnn_energy_series *se);

#ifdef __cplusplus
}
#endif
#endif
