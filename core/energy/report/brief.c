// The one-line energy summary of cnn-train --quiet.
#include "core/energy/report/format.h"
#include "core/energy/report/summary.h"

// The functional unit's energy and climate impact (or the whole run's), and where the record is.
void cnn_energy_print_result_brief(const cnn_energy_result *res, FILE *out) {
    const char *prov = cnn_provenance_name(res->fu.prov); // earlier segments included (cnn-train resume)
    char ju[48]; // with its half-width, as every energy the report prints
    cnn_energy_fmt_ju(ju, sizeof ju, res->fu.total_j, res->fu.total_u);
    fprintf(out, "energy %s %s J (%s), climate change %.4g kgCO2eq (estimated); run record %s\n",
            res->impacts_fu ? "to target" : "of the run", ju, prov, res->impacts.total.gwp, res->run_dir);
}
