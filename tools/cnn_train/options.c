#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/energy/energy.h"
#include "device.h"
#include "datasets/dataset.h"

void cli_defaults(cli_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = NULL; // cli_resolve_device: cuda when a GPU is usable and built in, else cpu
    o->device_index = -1;
    o->model = "mlp";
    o->hidden[0] = 512;
    o->n_hidden = 1;
    o->repeat = 1;
    o->cfg = cnn_train_config_default();
}

void cli_usage(FILE *f) {
    cnn_train_config d = cnn_train_config_default();
    cnn_train_config mn = cnn_train_config_recipe("mnist", "mlp"), fm = cnn_train_config_recipe("fashion-mnist", "mlp");
    fprintf(f,
            "usage: cnn-train DATASET [options]     train until --target-acc or --epochs\n"
            "       cnn-train report DIR            render the SVG plots of a run directory\n"
            "       cnn-train explain [--model=...]  the model's training step as GEMMs, FLOPs and bytes\n"
            "       cnn-train --help | --version\n"
            "\n"
            "Trains a neural network, an MLP (multi-layer perceptron) or LeNet-5 (a small\n"
            "convolutional network), on MNIST-style images with hand-written forward and\n"
            "backward passes, and reports the time and energy to a target test accuracy.\n"
            "\n"
            "datasets: mnist, fashion-mnist\n"
            "\n"
            "training options (defaults in brackets):\n"
            "  --backend=cpu|cuda|cuda:N  where to train [cuda when a GPU is usable and the CUDA\n"
            "                         backend is built in, else cpu]; also spelt --device (PyTorch's name)\n"
            "  --gpu=N                the GPU to train on and measure with NVML (implies cuda) [0]\n"
            "  --gemm=NAME            GEMM implementation of the backend [its fastest, in brackets]\n"
            "                         (the ladders: docs/gemm.md, docs/cuda.md):\n");
    cli_print_gemm_names(f);
    fprintf(f,
            "  --precision=fp32|tf32|bf16  the GEMMs' inputs (FP32 weights, sums and optimizer\n"
            "                         in every case; docs/precision.md) [fp32, or --gemm's]\n"
            "  --model=mlp|lenet      the network: mlp (linear layers, sizes from --hidden) or lenet\n"
            "                         (LeNet-5: two 5x5 convolutions with max pooling, then 120-84-10) [mlp]\n"
            "  --hidden=N[,N...]      hidden layer sizes of the mlp [512]; --hidden= (empty) for none\n"
            "  --target-acc=F         stop at the first evaluation with test accuracy >= F, in (0, 1]\n"
            "                         [none: run all --epochs]\n"
            "  --epochs=N             maximum number of epochs [%d]\n"
            "  --batch=N              mini-batch size [by dataset: mnist %d, fashion-mnist %d];\n"
            "                         also spelt --batch-size (PyTorch's examples). Evaluation runs\n"
            "                         in batches of 1000 (not an option: no --test-batch-size)\n"
            "  --lr=F                 learning rate [by dataset: mnist %g, fashion-mnist %g]\n"
            "  --momentum=F           SGD momentum in [0, 1) [%g]\n"
            "  --weight-decay=F       L2 weight decay [%g]\n"
            "  --seed=N               initialisation and shuffling seed [%llu]\n"
            "  --eval-every=STEPS     also evaluate every STEPS steps [0: at the end of each epoch]\n"
            "  --threads=N            CPU threads, 0 for all cores [0]\n"
            "  --repeat=N             N independent runs to --target-acc in one process (seeds seed,\n"
            "                         seed+1, ...), with statistics across runs [1]\n"
            "  --no-graph             run the training step op by op (CUDA: no graph replay)\n"
            "  --step=auto|ops|graph|fused  how each training step runs: op by op, the ops captured\n"
            "                         once as a CUDA graph and replayed, or fused (CUDA, the MLP:\n"
            "                         whole steps in one persistent kernel launch) [auto: fused where\n"
            "                         the backend and model allow it, else graph, else ops]\n"
            "  --no-graph             the same as --step=ops\n"
            "  --data-dir=DIR         directory holding the dataset's four IDX files\n"
            "                         [else $CNN_DATA_DIR/NAME, /usr/share/datasets/NAME,\n"
            "                          ~/.cache/cnn-train/NAME, else download into that cache]\n"
            "  --quiet                the summary only: no header, notes, per-evaluation lines,\n"
            "                         progress bar or energy tables\n"
            "\n",
            d.max_epochs, mn.batch, fm.batch, (double)mn.lr, (double)fm.lr, (double)d.momentum, (double)d.weight_decay,
            (unsigned long long)d.seed);
    fprintf(f, "data-parallel training (MPI%s; docs/distributed.md):\n"
               "  mpirun -np N cnn-train DATASET [options]   N ranks train one model (also srun -n N):\n"
               "                         --batch is the global batch (divisible by N), each rank takes\n"
               "                         batch/N rows of it and the gradients are summed over the ranks\n"
               "                         (CUDA: NCCL, one GPU per rank, the node-local rank's unless --gpu);\n"
               "                         rank 0 prints and writes the run record and checkpoints\n"
               "\n",
            cnn_dist_available() ? " built in" : ": not built into this binary, install libopenmpi-dev and rebuild");
    fprintf(f, "energy options:\n");
    cnn_energy_print_usage(f);
    fprintf(f, "\nexit status: 0 target reached (or none given), 3 target not reached within --epochs,\n"
               "             2 usage error, 1 any other error\n");
}

static int usage_error(const char *fmt, const char *a, const char *b) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b);
    cnn_error(CNN_ERR_INVALID_ARG, "%s", msg); // also for a caller that runs many (sweep.c)
    fprintf(stderr, "cnn-train: %s (see cnn-train --help)\n", msg);
    return 2;
}

static bool parse_double(const char *s, double *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

static bool parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

// "512,256" → sizes; "" → no hidden layer.
static bool parse_hidden(const char *s, cli_options *o) {
    o->n_hidden = 0;
    if (!*s) return true;
    char buf[256];
    if (strlen(s) >= sizeof buf) return false;
    strcpy(buf, s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        long v;
        if (o->n_hidden >= CNN_MAX_HIDDEN || !parse_long(tok, 1, 65536, &v)) return false;
        o->hidden[o->n_hidden++] = (int)v;
    }
    return o->n_hidden > 0;
}

static bool known_dataset(const char *name) {
    for (int i = 0; cnn_dataset_names[i]; i++)
        if (strcmp(cnn_dataset_names[i], name) == 0) return true;
    return false;
}

static int cli_parse_args(int argc, char **argv, int first, cli_options *o);

// Options that take no value.
static bool is_flag(const char *name) {
    return !strcmp(name, "quiet") || !strcmp(name, "help") || !strcmp(name, "version") || !strcmp(name, "no-graph") ||
           cnn_energy_option_is_flag(name);
}

// Options of cnn-train that take a value (the energy options are asked of the energy hook).
static bool takes_value(const char *name) {
    static const char *const names[] = {"backend", "device",   "gpu",        "gemm",  "step", "precision",
                                        "model",   "hidden",   "target-acc", "epochs", "batch", "batch-size",
                                        "test-batch-size", "lr", "momentum", "weight-decay", "seed", "eval-every",
                                        "threads", "data-dir", "repeat",     "checkpoint-every"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i])) return true;
    return false;
}

// An energy option? Asked on a scratch copy of the options: with no value,
// cnn_energy_parse_option answers 0 for a name it does not know.
static bool is_energy_option(const char *name) {
    cnn_energy_options scratch;
    cnn_energy_options_default(&scratch);
    return cnn_energy_parse_option(&scratch, name, NULL) != 0;
}

static bool is_known(const char *name) { return is_flag(name) || takes_value(name) || is_energy_option(name); }

// PyTorch's spellings (its examples' --batch-size, torch.device's --device) for ours.
static const char *primary_name(const char *name) {
    if (!strcmp(name, "batch-size")) return "batch";
    if (!strcmp(name, "device")) return "backend";
    return name;
}

// Applies one option; returns 0 or 2 (usage error, printed).
static int apply(cli_options *o, const char *name, const char *value) {
    double d;
    long l;
    cnn_train_config *c = &o->cfg;
    if (!strcmp(name, "quiet")) o->quiet = true;
    else if (!strcmp(name, "help")) o->help = true;
    else if (!strcmp(name, "version")) o->version = true;
    else if (!strcmp(name, "no-graph")) c->step = CNN_STEP_OPS;
    else if (!strcmp(name, "step")) {
        if (!cnn_step_parse(value, &c->step))
            return usage_error("unknown --step '%s'; choose auto, ops, graph or fused%s", value, "");
    }
    else if (!strcmp(name, "backend")) {
        const char *backend;
        int index;
        if (cli_parse_device(value, &backend, &index) != 0)
            return usage_error("unknown backend '%s'%s; choose cpu, cuda or cuda:N (N: the GPU, from 0)", value, "");
        if (index >= 0 && o->device_index >= 0 && index != o->device_index)
            return usage_error("two different GPUs asked for ('%s' and --gpu %s): give one", value,
                               o->gpu_text ? o->gpu_text : "");
        o->backend = backend;
        if (index >= 0) o->device_index = index, o->gpu_given = true;
    } else if (!strcmp(name, "gpu")) {
        if (!parse_long(value, 0, 63, &l))
            return usage_error("--gpu takes a GPU number in [0, 63] (as nvidia-smi counts them), got '%s'%s", value, "");
        if (o->device_index >= 0 && o->device_index != (int)l)
            return usage_error("two different GPUs asked for (--gpu %s and cuda:N in --backend/--device)%s", value, "");
        o->device_index = (int)l;
        o->gpu_text = value;
        o->gpu_given = true;
    } else if (!strcmp(name, "test-batch-size")) {
        return usage_error("--test-batch-size: evaluation always runs in batches of 1000 rows (not an option)%s%s; "
                           "remove it",
                           "", "");
    } else if (!strcmp(name, "gemm")) {
        if (!*value) return usage_error("--gemm needs a name%s%s", "", "");
        o->gemm = value;
    } else if (!strcmp(name, "precision")) {
        if (cnn_precision_parse(value, &o->precision) != CNN_OK)
            return usage_error("unknown precision '%s'%s; choose fp32, tf32 or bf16", value, "");
        o->precision_given = true;
    } else if (!strcmp(name, "model")) {
        bool known = false;
        for (int i = 0; cnn_model_names[i]; i++) known = known || !strcmp(value, cnn_model_names[i]);
        if (!known) return usage_error("unknown model '%s'%s; choose mlp or lenet", value, "");
        o->model = value;
    } else if (!strcmp(name, "hidden")) {
        o->hidden_given = true;
        if (!parse_hidden(value, o))
            return usage_error("--hidden takes up to 8 comma-separated sizes in [1, 65536], got '%s'%s", value, "");
    } else if (!strcmp(name, "target-acc")) {
        if (!parse_double(value, &d) || d <= 0.0 || d > 1.0)
            return usage_error("--target-acc must be in (0, 1] (a fraction: 0.97 for 97%%), got '%s'%s", value, "");
        c->target_acc = d;
    } else if (!strcmp(name, "epochs")) {
        if (!parse_long(value, 1, 100000, &l)) return usage_error("--epochs must be in [1, 100000], got '%s'%s", value, "");
        c->max_epochs = (int)l;
    } else if (!strcmp(name, "batch")) {
        if (!parse_long(value, 1, 65536, &l)) return usage_error("--batch must be in [1, 65536], got '%s'%s", value, "");
        c->batch = (int)l;
        o->batch_given = true;
    } else if (!strcmp(name, "lr")) {
        if (!parse_double(value, &d) || d <= 0.0 || d > 100.0)
            return usage_error("--lr must be a number in (0, 100], got '%s'%s", value, "");
        c->lr = (float)d;
        o->lr_given = true;
    } else if (!strcmp(name, "momentum")) {
        if (!parse_double(value, &d) || d < 0.0 || d >= 1.0)
            return usage_error("--momentum must be in [0, 1), got '%s'%s", value, "");
        c->momentum = (float)d;
    } else if (!strcmp(name, "weight-decay")) {
        if (!parse_double(value, &d) || d < 0.0 || d > 1.0)
            return usage_error("--weight-decay must be in [0, 1], got '%s'%s", value, "");
        c->weight_decay = (float)d;
    } else if (!strcmp(name, "seed")) {
        if (!parse_long(value, 0, LONG_MAX, &l))
            return usage_error("--seed must be a non-negative integer, got '%s'%s", value, "");
        c->seed = (uint64_t)l;
    } else if (!strcmp(name, "checkpoint-every")) {
        if (!parse_long(value, 0, 1000000000L, &o->checkpoint_every))
            return usage_error("--checkpoint-every takes a number of steps >= 0, got '%s'", value, "");
    } else if (!strcmp(name, "eval-every")) {
        if (!parse_long(value, 0, 100000000, &l))
            return usage_error("--eval-every must be a number of steps >= 0, got '%s'%s", value, "");
        c->eval_every = l;
    } else if (!strcmp(name, "threads")) {
        if (!parse_long(value, 0, 1024, &l)) return usage_error("--threads must be in [0, 1024], got '%s'%s", value, "");
        o->threads = (int)l;
    } else if (!strcmp(name, "repeat")) {
        if (!parse_long(value, 1, 1000, &l))
            return usage_error("--repeat must be a whole number of runs in [1, 1000], got '%s'%s", value, "");
        o->repeat = (int)l;
    } else if (!strcmp(name, "data-dir")) {
        if (!*value) return usage_error("--data-dir needs a directory%s%s", "", "");
        o->data_dir = value;
    } else {
        int r = cnn_energy_parse_option((cnn_energy_options *)o->energy, name, value);
        if (r == 1) return 0;
        if (r < 0) {
            fprintf(stderr, "cnn-train: %s (see cnn-train --help)\n", cnn_last_error());
            return 2;
        }
        return usage_error("unknown option '--%s'%s", name, "");
    }
    return 0;
}

int cli_parse(int argc, char **argv, int first, cli_options *o) {
    // --help (or -h) anywhere prints the help; --version stands alone
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            o->help = true;
            return 0;
        }
    }
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            if (argc - first != 1)
                return usage_error("--version takes no other argument, got '%s'%s", argv[i == first ? first + 1 : first],
                                   "");
            o->version = true;
            return 0;
        }
    }
    int r = cli_parse_args(argc, argv, first, o);
    if (r) return r;
    if (o->repeat > 1 && !(o->cfg.target_acc > 0))
        return usage_error("--repeat measures time and energy to a target: give --target-acc too%s%s", "", "");
    if (o->repeat > 1 && o->energy && !((cnn_energy_options *)o->energy)->enabled)
        return usage_error("--repeat reports energy across runs: it cannot go with --no-energy%s%s", "", "");
    if (o->hidden_given && strcmp(o->model, "mlp") != 0)
        return usage_error("--hidden applies to --model=mlp only (--model=%s has a fixed table)%s", o->model, "");
    // the dataset's recipe supplies the batch size and learning rate the command line did not
    if (o->dataset) {
        cnn_train_config recipe = cnn_train_config_recipe(o->dataset, o->model);
        if (!o->batch_given) o->cfg.batch = recipe.batch;
        if (!o->lr_given) o->cfg.lr = recipe.lr;
    }
    return 0;
}

static int cli_parse_args(int argc, char **argv, int first, cli_options *o) {
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] != '-' || arg[2] == '\0') {
            if (!strcmp(arg, "-h")) {
                o->help = true;
                continue;
            }
            if (arg[0] == '-') return usage_error("unknown option '%s'%s", arg, "");
            if (o->dataset) return usage_error("unexpected argument '%s' (the dataset is already '%s')", arg, o->dataset);
            if (!known_dataset(arg)) return usage_error("unknown dataset '%s'%s; choose mnist or fashion-mnist", arg, "");
            o->dataset = arg;
            continue;
        }
        char name[64];
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
        if (len >= sizeof name) return usage_error("unknown option '%s'%s", arg, "");
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        const char *value = NULL;
        if (eq) {
            if (!is_known(name)) return usage_error("unknown option '--%s'%s", name, "");
            if (is_flag(name)) return usage_error("--%s takes no value%s", name, "");
            value = eq + 1;
        } else if (!is_known(name)) {
            return usage_error("unknown option '--%s'%s", name, "");
        } else if (!is_flag(name)) {
            if (i + 1 >= argc) return usage_error("--%s needs a value%s", name, "");
            value = argv[++i];
        }
        if (value && eq == NULL && value[0] == '-' && value[1] == '-')
            return usage_error("--%s needs a value, got the option '%s' instead", name, value);
        const char *primary = primary_name(name);
        if (!strcmp(primary, "backend")) o->backend_flag = !strcmp(name, "device") ? "device" : "backend";
        int r = apply(o, primary, value);
        if (r) return r;
    }
    return 0;
}
