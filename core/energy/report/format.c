// Energies as the terminal prints them, with their uncertainty.
#include "core/energy/report/format.h"

#include <math.h>
#include <stdio.h>

#include "core/energy/accounting/accounting.h"

// Formats an energy with its uncertainty: "0" for an empty window, "12.34 ± 0.56" when u is under 10%
// of the value, else the interval the meter allows ("3.1..4.9", or "<= 0.41"
// when it may be zero), "<res" when unbounded; never a negative number (an
// above-idle figure below zero by more than its uncertainty reads "below idle").
const char *cnn_energy_fmt_ju(char *buf, size_t len, double j, double u) {
    if (!isfinite(j)) snprintf(buf, len, "-");
    else if (!isfinite(u)) snprintf(buf, len, "<res");
    else if (j == 0 && u == 0) snprintf(buf, len, "0"); // exactly nothing (an empty window)
    else if (cnn_energy_resolved(j, u) && j > 0) {
        int dec = u > 0 ? 1 - (int)floor(log10(u)) : 2;
        dec = dec < 0 ? 0 : dec > 4 ? 4 : dec;
        snprintf(buf, len, "%.*f ± %.*f", dec, j, dec, u);
    } else if (j + u <= 0) snprintf(buf, len, "below idle");
    else if (j - u <= 0) snprintf(buf, len, "<= %.2g", j + u);
    else snprintf(buf, len, "%.3g..%.3g", j - u, j + u);
    return buf;
}
