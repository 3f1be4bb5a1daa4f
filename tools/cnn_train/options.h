// cnn-train's command line: parsing and validation of the training options.
#ifndef CNN_TRAIN_OPTIONS_H
#define CNN_TRAIN_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "models/model.h"
#include "models/train.h"

typedef struct {
    const char *dataset;
    const char *backend;
    const char *gemm;      // NULL: the backend's default
    cnn_precision precision; // --precision: the GEMMs' input format (core/precision.h)
    bool precision_given;  // then --gemm must be of that precision (NULL: its default)
    const char *model;     // "mlp" or "lenet" (cnn_model_names)
    bool batch_given, lr_given; // on the command line: the dataset's recipe does not override them
    bool hidden_given;     // --hidden was on the command line (it applies to --model=mlp only)
    int hidden[CNN_MAX_HIDDEN];
    int n_hidden;
    int threads;           // 0: all cores
    const char *data_dir;  // NULL: look-up order (see README)
    bool quiet;
    bool help, version;
    cnn_train_config cfg;
    void *energy;          // the energy hook's options (cnn_energy_options *)
} cli_options;

// Fills o with the defaults.
void cli_defaults(cli_options *o);
// Parses argv[first..argc). Returns 0, or 2 after printing one line to stderr for a usage error.
int cli_parse(int argc, char **argv, int first, cli_options *o);
void cli_usage(FILE *f);

#endif
