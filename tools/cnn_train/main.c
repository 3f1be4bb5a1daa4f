// cnn-train: trains a model on a dataset until a target test accuracy and
// reports time and energy to target. `cnn-train --help` lists the options.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/energy/energy.h"
#include "datasets/dataset.h"
#include "models/model.h"
#include "models/train.h"
#include "device.h"
#include "dist_cli.h"
#include "explain.h"
#include "interrupt.h"
#include "models/checkpoint.h"
#include "resume.h"
#include "options.h"
#include "preflight.h"
#include "progress.h"
#include "report_sweep.h"
#include "sweep.h"

enum { EXIT_REACHED = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_NOT_REACHED = 3 };

static int fail(cnn_status s) {
    const int code = s == CNN_ERR_INVALID_ARG ? EXIT_USAGE : EXIT_ERROR;
    cli_dist_fail(cnn_last_error()[0] ? cnn_last_error() : cnn_status_name(s), code); // rank 0 prints
    return code;
}

static int run_report(int argc, char **argv) {
    int hide_idle = argc == 4 && strcmp(argv[3], "--no-idle") == 0; // power.svg without the idle segment
    if ((argc != 3 && !hide_idle) || argv[2][0] == '-') {
        fprintf(stderr, "cnn-train: usage: cnn-train report DIR [--no-idle] (a run directory written by --out)\n");
        return EXIT_USAGE;
    }
    // "DIR/" names the same directory as "DIR": drop trailing slashes so the paths printed read DIR/power.svg
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", argv[2]);
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--) dir[n - 1] = '\0';
    cnn_status s = report_sweep_is_sweep(dir) ? report_sweep_render(dir, stdout)
                                              : cnn_report_render_opts(dir, hide_idle, stdout, NULL);
    if (s != CNN_OK) {
        fprintf(stderr, "cnn-train: %s\n", cnn_last_error());
        return EXIT_ERROR;
    }
    return EXIT_REACHED;
}

// Whether train returned s because training diverged at a known step: the loop then closed its windows, so the
// run's record is written as for any other run (run.json says where it diverged) before the error is reported.
static int cli_diverged(cnn_status s, const cnn_train_result *r) { return s == CNN_ERR_DIVERGED && r->diverged_step > 0; }

static void print_summary(const cli_options *o, const cnn_train_result *r) {
    printf("\n");
    char sigbuf[32];
    if (r->interrupted)
        printf("interrupted by %s at epoch %d (step %ld): the record keeps what was measured\n",
               cli_signal_name(r->interrupted, sigbuf, sizeof sigbuf), r->epochs, r->steps);
    else if (r->diverged_step > 0)
        printf("diverged at step %ld (epoch %d): the training loss stopped being finite; the record keeps what was "
               "measured\n",
               r->diverged_step, r->epochs);
    else if (o->cfg.target_acc > 0) {
        if (r->reached)
            printf("target %.4g reached at epoch %d (step %ld): %.2f s to target\n", o->cfg.target_acc,
                   r->target_epoch, r->target_step, r->time_to_target_s);
        else
            printf("target %.4g NOT reached within %d epoch%s (best test accuracy %.4f)\n", o->cfg.target_acc,
                   o->cfg.max_epochs, o->cfg.max_epochs == 1 ? "" : "s", r->best_acc);
    }
    if (r->n_evals > 0)
        printf("final test accuracy %.4f (best %.4f), test loss %.4f, after %d epoch%s, %ld steps, %.2f s of training\n",
               r->final_acc, r->best_acc, r->final_loss, r->epochs, r->epochs == 1 ? "" : "s", r->steps, r->total_s);
    else
        printf("no evaluation was completed; %d epoch%s started, %ld steps, %.2f s of training\n", r->epochs,
               r->epochs == 1 ? "" : "s", r->steps, r->total_s);
    printf("time in training steps %.3f s (%.3f s per epoch), in evaluations %.3f s\n", r->total_s - r->eval_s,
           (r->total_s - r->eval_s) / (r->epochs > 0 ? r->epochs : 1), r->eval_s);
    fflush(stdout);
}

// One run: a model initialised with the run's seed, trained, its summary printed; *reached tells the target.
// One run of --repeat (run 0 when there is none) on be, measured by the energy session: the model
// from seed + run, trained (or, resuming, continued from the checkpoint) as o says; its result in *r.
static cnn_status train_one(cli_options *o, cnn_backend *be, const cnn_dataset *ds, cnn_energy_session *energy,
                            int run, cnn_train_result *r) {
    cnn_train_config cfg = o->cfg;
    cfg.seed = o->cfg.seed + (uint64_t)run;
    if (o->repeat > 1 && !o->quiet) printf("\n== run %d of %d (seed %llu) ==\n", run + 1, o->repeat,
                                          (unsigned long long)cfg.seed);
    cnn_model model;
    memset(&model, 0, sizeof model);
    memset(r, 0, sizeof *r);
    cnn_status s = cnn_model_create(be, o->model, 1, ds->train.rows, ds->train.cols, o->hidden, o->n_hidden,
                                    ds->n_classes, cfg.seed, &model);
    if (s == CNN_OK && o->resume) s = cnn_checkpoint_restore(o->resume, be, &model, ds);
    if (s == CNN_OK) {
        progress_printer progress;
        progress_init(&progress, o->quiet);
        cli_dist_describe(&progress);
        progress.backend_why = o->backend_why;
        const cnn_train_observer *observers[2] = {&progress.observer, cnn_energy_observer(energy)};
        // Checkpoints belong to a single run: with --repeat the runs are not checkpointed.
        const cnn_checkpoint *ck = o->resume;
        cli_checkpointer ckp = {cnn_energy_run_dir(energy), be, &model, ds, energy,
                                ck ? ck->segments : NULL, ck ? ck->n_segments : 0};
        cnn_train_hooks hooks = {o->checkpoint_every, energy && o->repeat == 1 ? cli_checkpoint_save : NULL, &ckp,
                                 o->resume ? &((cnn_checkpoint *)o->resume)->progress : NULL};
        s = cnn_train_hooked(be, &model, ds, &cfg, &hooks, observers, 2, r);
        if (s == CNN_OK || cli_diverged(s, r)) print_summary(o, r);
    }
    cnn_model_free(&model, be);
    return s;
}

int cli_train(cli_options *o, void *energy_options) {
    cnn_energy_options *eo = energy_options;
    int dist_r = cli_dist_prepare(o, eo); // several ranks: batch, checkpoint, GPU per rank, rank 0 records
    if (dist_r) return dist_r;
    if (o->resume && o->repeat > 1) {
        fprintf(stderr, "cnn-train: a checkpoint continues one run; --repeat %d cannot be resumed (run it again)\n",
                o->repeat);
        return EXIT_USAGE;
    }
    if (cli_require_gpu(o)) return EXIT_ERROR; // the first of the cheap checks: no meter, no idle, no directory
    cnn_dataset_options dopt = {o->data_dir, 1, o->quiet};
    cnn_dataset ds;
    cnn_status s = cnn_dataset_load(o->dataset, &dopt, &ds);
    if (s != CNN_OK) return fail(s);
    s = cli_preflight(o, &ds); // refused now, before any meter, idle baseline or directory
    if (s != CNN_OK) {
        cnn_dataset_free(&ds);
        return fail(s);
    }

    int code = EXIT_ERROR;
    cnn_backend *be = NULL;
    cnn_energy_session *energy = NULL;
    FILE *log = o->quiet ? NULL : stderr;
    eo->gpu_index = o->device_index >= 0 ? o->device_index : 0; // NVML measures the GPU that trains
    // The idle baseline is the machine's: taken (or read from its cache) before the backend opens the device.
    s = cnn_energy_start(eo, o->backend, log, &energy);
    if (s == CNN_OK)
        s = cnn_backend_create(o->backend, o->precision_given ? NULL : o->gemm, o->threads, o->device_index, &be);
    if (s == CNN_OK && o->precision_given) s = cnn_backend_select_precision(be, o->gemm, o->precision);
    if (s == CNN_OK) s = cnn_energy_device_ready(energy, log); // the device's idle with its context open
    if (s == CNN_OK && o->resume) // the run's earlier segments: their time and energy count in the functional unit
        s = cnn_energy_add_prior_segments(energy, ((const cnn_checkpoint *)o->resume)->segments,
                                          ((const cnn_checkpoint *)o->resume)->n_segments);
    o->cfg.stop = cli_interrupt_install(); // SIGINT, SIGTERM: stop at a step boundary, keep the record
    int all_reached = 1, interrupted = 0; // --repeat N: N runs back to back, one backend, one energy session
    cnn_status diverged = CNN_OK;         // a run that diverged: its record is written, then its error is the exit
    char diverged_msg[512] = "";
    for (int k = 0; s == CNN_OK && k < o->repeat && !interrupted; k++) {
        cnn_train_result r;
        s = train_one(o, be, &ds, energy, k, &r);
        all_reached &= s == CNN_OK && r.reached;
        interrupted = r.interrupted;
        if (cli_diverged(s, &r)) {
            diverged = s;
            snprintf(diverged_msg, sizeof diverged_msg, "%s", cnn_last_error());
            s = CNN_OK;
            break;
        }
    }
    if (s == CNN_OK) {
        s = cnn_energy_finish(energy, o->quiet ? NULL : stdout, NULL);
        if (o->quiet) cnn_energy_print_brief(energy, stdout);
        if (s == CNN_OK) code = (o->cfg.target_acc > 0 && !all_reached) ? EXIT_NOT_REACHED : EXIT_REACHED;
        if (s == CNN_OK && interrupted) code = 128 + interrupted; // as the shell reports a signal
    }
    cli_interrupt_restore();
    if (s == CNN_OK && diverged != CNN_OK) {
        s = cnn_error(diverged, "%s", diverged_msg);
        cli_dist_failure_agreed(); // every rank diverged at the agreed step and closed its record together
    }
    if (s != CNN_OK) code = fail(s);
    cnn_energy_free(energy);
    cnn_backend_destroy(be);
    cnn_dataset_free(&ds);
    return code;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "report") == 0) return run_report(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "explain") == 0) return explain_main(argc, argv);
    int ranks = 1;
    if (argc >= 2 && strcmp(argv[1], "sweep") == 0 && cnn_dist_launched(&ranks) && ranks > 1) {
        // N copies of a sweep would each run every row into the same directories; the first rank says so
        const char *rank = getenv("OMPI_COMM_WORLD_RANK") ? getenv("OMPI_COMM_WORLD_RANK") : getenv("PMI_RANK");
        if (!rank || !strcmp(rank, "0")) fprintf(stderr, "cnn-train: sweep runs its rows one process at a time, not as %d ranks: run it without "
                        "mpirun (or launch each row with mpirun yourself)\n", ranks);
        return EXIT_USAGE;
    }
    if (argc >= 2 && strcmp(argv[1], "sweep") == 0) return sweep_main(argc, argv);
    int dist_r = cli_dist_start(); // under mpirun or srun: this process is one rank of the run (dist_cli.h)
    if (dist_r) return dist_r;
    if (argc >= 2 && strcmp(argv[1], "resume") == 0) return resume_main(argc, argv);
    cli_checkpoint_args(argc - 1, argv + 1);
    cli_options o;
    cli_defaults(&o);
    cnn_energy_options eo;
    cnn_energy_options_default(&eo);
    o.energy = &eo;
    int r = cli_parse(argc, argv, 1, &o);
    if (r) return r;
    if (o.help) {
        cli_usage(stdout);
        return EXIT_REACHED;
    }
    if (o.version) {
#ifdef CNN_HAVE_CUDA
        printf("cnn-train %s (CPU backend; CUDA backend built in)\n", CNN_VERSION);
#else
        printf("cnn-train %s (CPU backend; built without CUDA)\n", CNN_VERSION);
#endif
        return EXIT_REACHED;
    }
    if (!o.dataset) {
        fprintf(stderr, "cnn-train: no dataset given; choose mnist or fashion-mnist (see cnn-train --help)\n");
        return EXIT_USAGE;
    }
    r = cli_resolve_device(&o);
    if (r) return r;
    return cli_train(&o, &eo);
}
