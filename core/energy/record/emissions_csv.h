// The run's emissions.csv in CodeCarbon 3.x's format, from the session's
// result (internal to core/energy; the format itself is codecarbon.c's).
#ifndef CNN_ENERGY_EMISSIONS_CSV_H
#define CNN_ENERGY_EMISSIONS_CSV_H

#include <stdio.h>

#include "core/energy/common/notes.h"
#include "core/energy/result/result.h"

// Watts per GB of installed RAM when no RAPL dram domain measures it: 3 W for
// every 8 GB of DDR3/DDR4 (docs/ENERGY.md: the RAM estimate).
#define CNN_RAM_W_PER_GB 0.375

// Writes the header and this run's row to f (the run directory's
// emissions.csv) and appends the row to the parent directory's
// emissions.csv; a row that cannot be appended is a note (added to notes), not an error.
void cnn_energy_emissions_csv(FILE *f, const cnn_energy_result *res, cnn_energy_notes *notes);

#endif
