// How the terminal report writes an energy with its half-width (internal to core/energy).
#ifndef CNN_ENERGY_FORMAT_H
#define CNN_ENERGY_FORMAT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// "12.34 ± 0.56" when resolved, else the interval the meter allows ("3.1..4.9", "<= 0.41"), "<res" when
// unbounded, "0" for an empty window, "below idle", "-" for no value. Returns buf.
const char *cnn_energy_fmt_ju(char *buf, size_t len, double j, double u);

#ifdef __cplusplus
}
#endif
#endif
