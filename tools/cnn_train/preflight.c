// The cheap checks of a run before anything is measured or created (preflight.h).
#include "preflight.h"

#include <string.h>

#include "core/backend.h"
#include "dist_cli.h"
#include "models/model.h"
#include "models/train.h"

// The step kind the options ask for, resolved against the backend's description for the model the run will
// build (its plan: the layer table, no memory).
static cnn_status check_step(const cli_options *o, const cnn_backend *desc, const cnn_dataset *ds) {
    cnn_model m;
    memset(&m, 0, sizeof m);
    CNN_TRY(cnn_model_plan(o->model, 1, ds->train.rows, ds->train.cols, o->hidden, o->n_hidden, ds->n_classes, &m));
    cnn_step_kind k;
    return cnn_step_resolve(desc, &m, o->cfg.step, &k);
}

cnn_status cli_preflight(const cli_options *o, const cnn_dataset *ds) {
    cnn_backend desc;
    CNN_TRY(cnn_backend_describe(o->backend, &desc));
    if (o->precision_given) CNN_TRY(cnn_backend_select_precision(&desc, o->gemm, o->precision));
    else if (o->gemm) CNN_TRY(cnn_backend_select_gemm(&desc, o->gemm));
    CNN_TRY(check_step(o, &desc, ds)); // the model first: one that cannot fit the images is the first thing to say
    return cnn_train_precheck(ds, &o->cfg, cnn_dist_size(cli_dist_world()));
}
