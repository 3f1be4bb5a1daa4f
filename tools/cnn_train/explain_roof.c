// The roofline with cache levels: which level an op's working set fits in,
// and the least time and the bound that follow (explain_roof.h).
#include "explain_roof.h"

#include <math.h>

int explain_roof_level(const explain_roof *r, double bytes) {
    for (int i = 0; i + 1 < r->n_levels; i++)
        if (r->level[i].capacity > 0 && r->level[i].gbs > 0 && bytes <= r->level[i].capacity) return i;
    return r->n_levels > 0 ? r->n_levels - 1 : 0;
}

double explain_roof_t_min(const explain_roof *r, double flops, double bytes) {
    const double bw = r->level[explain_roof_level(r, bytes)].gbs;
    return fmax(flops / (r->peak_gflops * 1e9), bw > 0 ? bytes / (bw * 1e9) : 0);
}

bool explain_roof_compute_bound(const explain_roof *r, double flops, double bytes) {
    const double bw = r->level[explain_roof_level(r, bytes)].gbs;
    return bytes <= 0 || flops / bytes * bw >= r->peak_gflops;
}

void explain_roof_set_capacities(explain_roof *r, int threads) {
    if (threads < 1) threads = 1;
    for (int i = 0; i < r->n_levels; i++) {
        roof_level *l = &r->level[i];
        const int k = l->shared_by > 0 ? l->shared_by : 1;
        l->capacity = l->size > 0 ? l->size * ((threads + k - 1) / k) : 0;
    }
}

void explain_roof_format_bytes(double bytes, char *buf, size_t len) {
    if (bytes >= 1024.0 * 1024 * 1024) snprintf(buf, len, "%.4g GiB", bytes / (1024.0 * 1024 * 1024));
    else if (bytes >= 1024.0 * 1024) snprintf(buf, len, "%.4g MiB", bytes / (1024.0 * 1024));
    else snprintf(buf, len, "%.4g KiB", bytes / 1024.0);
}
