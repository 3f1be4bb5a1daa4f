// Everything a run can be refused for that costs nothing to check, checked before the energy
// session opens a meter, measures an idle baseline or creates the run directory: the
// configuration against the dataset, and the backend's GEMM, precision and step kind (on the
// backend's description: no device is opened). A refused run then prints its one error line and
// leaves nothing behind.
#ifndef CNN_TRAIN_PREFLIGHT_H
#define CNN_TRAIN_PREFLIGHT_H

#include "core/status.h"
#include "datasets/dataset.h"
#include "options.h"

cnn_status cli_preflight(const cli_options *o, const cnn_dataset *ds);

#endif
