// The one-line energy summary of cnn-train --quiet.
#include "core/energy/energy.h"
#include "core/energy/session.h"

void cnn_energy_print_brief(const cnn_energy_session *s, FILE *out) {
    if (!s || !s->finished || !out) return;
    const cnn_energy_accounting *a = &s->acc;
    const char *prov = cnn_provenance_name(a->total_prov);
    if (s->impacts_fu)
        fprintf(out, "energy to target %.4g J (%s), climate change %.4g kgCO2eq (estimated); run record %s\n",
                a->target_total_j, prov, s->impacts.total.gwp, s->run_dir);
    else
        fprintf(out, "energy of the run %.4g J (%s), climate change %.4g kgCO2eq (estimated); run record %s\n",
                a->train.total_j, prov, s->impacts.total.gwp, s->run_dir);
}
