// Descriptive statistics over repeated runs: mean, median, sample standard
// deviation and a 95% confidence interval of the mean (Student t).
#ifndef CNN_ENERGY_STATS_H
#define CNN_ENERGY_STATS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n;
    double mean, median;
    double stdev;              // sample standard deviation (n - 1); NaN when n < 2
    double ci95_low, ci95_high; // mean -+ t(0.975, n - 1) * stdev / sqrt(n), the low end clamped at 0 (the
                                // quantities are never negative); NaN when n < 2
} cnn_stats;

// The two-sided 95% quantile of Student's t with df degrees of freedom (df >= 1):
// the tabulated value up to 30, then 1.96 + 2.4 / df (within 0.002 of the exact value).
double cnn_student_t975(int df);

// Statistics of the finite values among v[0..n) (NaN ones are skipped).
void cnn_stats_compute(const double *v, int n, cnn_stats *out);

// Re-centres the confidence interval on another estimate of the mean (same half-width).
void cnn_stats_set_mean(cnn_stats *s, double mean);

#ifdef __cplusplus
}
#endif
#endif
