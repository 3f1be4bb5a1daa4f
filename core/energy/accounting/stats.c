// Descriptive statistics over repeated runs (see stats.h).
#include "core/energy/accounting/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double cnn_student_t975(int df) {
    static const double table[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                     2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                     2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1) return NAN;
    if (df <= 30) return table[df - 1];
    return 1.96 + 2.4 / df;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void cnn_stats_compute(const double *v, int n, cnn_stats *out) {
    memset(out, 0, sizeof *out);
    out->mean = out->median = out->stdev = out->ci95_low = out->ci95_high = NAN;
    double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    if (!x) return;
    int k = 0;
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            x[k++] = v[i];
            sum += v[i];
        }
    out->n = k;
    if (k > 0) {
        qsort(x, (size_t)k, sizeof *x, cmp_double);
        out->mean = sum / k;
        out->median = k % 2 ? x[k / 2] : 0.5 * (x[k / 2 - 1] + x[k / 2]);
    }
    if (k > 1) {
        double ss = 0;
        for (int i = 0; i < k; i++) ss += (x[i] - out->mean) * (x[i] - out->mean);
        out->stdev = sqrt(ss / (k - 1));
        double h = cnn_student_t975(k - 1) * out->stdev / sqrt((double)k);
        out->ci95_low = fmax(0.0, out->mean - h); // times, energies and epochs are never negative
        out->ci95_high = out->mean + h;
    }
    free(x);
}

void cnn_stats_set_mean(cnn_stats *s, double mean) {
    double h = s->ci95_high - s->mean;
    s->mean = mean;
    s->ci95_low = fmax(0.0, mean - h);
    s->ci95_high = mean + h;
}
