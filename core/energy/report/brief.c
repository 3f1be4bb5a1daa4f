// The one-line energy summary of cnn-train --quiet.
#include "core/energy/report/summary.h"

// The functional unit's energy and climate impact (or the whole run's), and where the record is.
void cnn_energy_print_result_brief(const cnn_energy_result *res, FILE *out) {
    const char *prov = cnn_provenance_name(res->fu.prov); // earlier segments included (cnn-train resume)
    if (res->impacts_fu)
        fprintf(out, "energy to target %.4g J (%s), climate change %.4g kgCO2eq (estimated); run record %s\n",
                res->fu.total_j, prov, res->impacts.total.gwp, res->run_dir);
    else
        fprintf(out, "energy of the run %.4g J (%s), climate change %.4g kgCO2eq (estimated); run record %s\n",
                res->fu.total_j, prov, res->impacts.total.gwp, res->run_dir);
}
