// The one-line energy summary of cnn-train --quiet.
#include "core/energy/energy.h"
#include "core/energy/session.h"

void cnn_energy_print_brief(const cnn_energy_session *s, FILE *out) {
    if (!s || !s->finished || !out) return;
    const char *prov = cnn_provenance_name(s->fu.prov); // earlier segments included (cnn-train resume)
    if (s->impacts_fu)
        fprintf(out, "energy to target %.4g J (%s), climate change %.4g kgCO2eq (estimated); run record %s\n",
                s->fu.total_j, prov, s->impacts.total.gwp, s->run_dir);
    else
        fprintf(out, "energy of the run %.4g J (%s), climate change %.4g kgCO2eq (estimated); run record %s\n",
                s->fu.total_j, prov, s->impacts.total.gwp, s->run_dir);
}
