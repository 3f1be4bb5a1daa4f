// The summary's line about the earlier segments of a resumed run (nothing
// for a run that was not resumed).
#include "core/energy/report/format.h"
#include "core/energy/report/segments_summary.h"

void cnn_energy_print_segments(const cnn_energy_result *res, FILE *out) {
    if (res->n_prior == 0) return;
    double t = 0.0, j = 0.0, u = 0.0;
    cnn_provenance p = CNN_PROV_MEASURED_COUNTER;
    for (int k = 0; k < res->n_prior; k++) {
        t += res->prior[k].train_s, j += res->prior[k].total_j, u += res->prior[k].total_u;
        p = cnn_provenance_weakest(p, (cnn_provenance)res->prior[k].total_prov);
    }
    char b[48];
    fprintf(out, "\nresumed run: %d segments; the earlier %d (ended: %s%s) trained %.3f s using %s J (%s), included "
                 "in the functional unit below; %.3f s between segments were not measured (not counted)\n",
            res->n_prior + 1, res->n_prior, cnn_energy_segment_end_name(res->prior[res->n_prior - 1].ended), res->n_prior > 1 ? " last" : "", t,
            cnn_energy_fmt_ju(b, sizeof b, j, u), cnn_provenance_name(p), cnn_energy_segments_gap_s(res->prior, res->n_prior, &res->segment));
}
