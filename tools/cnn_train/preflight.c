// The cheap checks of a run before anything is measured or created (preflight.h).
#include "preflight.h"

#include <string.h>

#include "core/backend.h"
#include "dist_cli.h"
#include "models/model.h"
#include "models/train.h"

// The step kind the options ask for, resolved against the backend's description for the model the run will
// build (built here on a throwaway one-thread CPU backend: the same layers, no device).
static cnn_status check_step(const cli_options *o, const cnn_backend *desc, const cnn_dataset *ds) {
    cnn_backend *cpu = NULL;
    CNN_TRY(cnn_cpu_backend_create(1, &cpu));
    cnn_model m;
    memset(&m, 0, sizeof m);
    cnn_status s = cnn_model_create(cpu, o->model, 1, ds->train.rows, ds->train.cols, o->hidden, o->n_hidden,
                                    ds->n_classes, o->cfg.seed, &m);
    cnn_step_kind k;
    if (s == CNN_OK) s = cnn_step_resolve(desc, &m, o->cfg.step, &k);
    cnn_model_free(&m, cpu);
    cnn_backend_destroy(cpu);
    return s;
}

cnn_status cli_preflight(const cli_options *o, const cnn_dataset *ds) {
    cnn_backend desc;
    CNN_TRY(cnn_backend_describe(o->backend, &desc));
    if (o->precision_given) CNN_TRY(cnn_backend_select_precision(&desc, o->gemm, o->precision));
    else if (o->gemm) CNN_TRY(cnn_backend_select_gemm(&desc, o->gemm));
    CNN_TRY(check_step(o, &desc, ds)); // the model first: one that cannot fit the images is the first thing to say
    return cnn_train_precheck(ds, &o->cfg, cnn_dist_size(cli_dist_world()));
}
