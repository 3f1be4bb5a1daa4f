// cnn-train's command line: parsing and validation of the training options.
#ifndef CNN_TRAIN_OPTIONS_H
#define CNN_TRAIN_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "models/model.h"
#include "models/train.h"

typedef struct {
    const char *dataset;
    const char *backend;   // "cpu" or "cuda"; NULL until chosen (cli_resolve_device gives the default)
    const char *backend_flag; // the flag that chose it: "backend" or "device" (NULL: not given)
    const char *gpu_text;  // --gpu's value as given (for messages)
    int device_index;      // the CUDA device ordinal (--gpu N, cuda:N); -1: none given
    bool gpu_given;        // --gpu N or cuda:N chose the GPU (else a rank of several takes its node-local rank's)
    char backend_why[160]; // why this backend: "default: ..." or "chosen with --backend"
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
    long checkpoint_every; // --checkpoint-every STEPS (0: at each epoch's end only)
    void *resume;          // cnn-train resume: the checkpoint to continue from (cnn_checkpoint *), else NULL
    int repeat;            // --repeat N: N runs to the target in one process, seeds seed, seed+1, ... [1]
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
