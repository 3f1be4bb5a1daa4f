// cnn-train resume DIR: reads DIR/checkpoint.bin, rebuilds the run's options
// from the arguments saved in it (with --out DIR), and trains on from there.
#include "resume.h"

#include <stdio.h>
#include <string.h>

#include "core/energy/energy.h"
#include "device.h"
#include "dist_cli.h"
#include "models/checkpoint.h"

int cli_train(cli_options *o, void *energy_options); // main.c

static int saved_argc;
static char **saved_argv;

void cli_checkpoint_args(int argc, char **argv) {
    saved_argc = argc;
    saved_argv = argv;
}

cnn_status cli_checkpoint_save(void *user, const cnn_train_progress *p) {
    const cli_checkpointer *c = user;
    static cnn_energy_segment segs[CNN_ENERGY_MAX_SEGMENTS];
    if (c->n_prior < 0 || c->n_prior >= CNN_ENERGY_MAX_SEGMENTS)
        return cnn_error(CNN_ERR_INVALID_ARG, "a run can be resumed at most %d times", CNN_ENERGY_MAX_SEGMENTS - 1);
    for (int k = 0; k < c->n_prior; k++) segs[k] = c->prior[k];
    CNN_TRY(cnn_energy_segment_now(c->energy, p->result.interrupted, &segs[c->n_prior])); // every rank's meters
    if (cnn_dist_rank(cli_dist_world()) != 0) return CNN_OK; // rank 0 writes the checkpoint
    return cnn_checkpoint_save(c->run_dir, c->be, c->model, c->ds, saved_argc, saved_argv, p, segs, c->n_prior + 1);
}

// Whether dir/run.json names run_id: the segment that ran as run_id wrote its record (it finished or was
// interrupted), rather than dying after its last checkpoint.
static int record_names(const char *dir, const char *run_id) {
    char path[1100], line[512], want[64];
    snprintf(path, sizeof path, "%s/run.json", dir);
    snprintf(want, sizeof want, "\"%s\"", run_id); // a random UUID: only its own record names the last segment
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) found = strstr(line, want) != NULL;
    if (f) fclose(f);
    return found && run_id[0];
}

int resume_main(int argc, char **argv) {
    if (argc < 3 || argv[2][0] == '-') {
        fprintf(stderr, "cnn-train: usage: cnn-train resume DIR [--epochs N] [--backend B] (DIR: a run directory "
                        "with a checkpoint.bin)\n");
        return 2;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", argv[2]);
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--) dir[n - 1] = '\0';
    static cnn_checkpoint ck;
    if (cnn_checkpoint_load(dir, &ck) != CNN_OK) {
        fprintf(stderr, "cnn-train: %s\n", cnn_last_error());
        return 1;
    }
    // The saved arguments, then --out DIR, then what was given after DIR (later options win).
    static char *args[2 * CNN_CHECKPOINT_MAX_ARGS + 4];
    int n = 0;
    args[n++] = "cnn-train";
    for (int i = 0; i < ck.argc; i++) args[n++] = ck.argv[i];
    args[n++] = "--out";
    args[n++] = dir;
    for (int i = 3; i < argc && n < (int)(sizeof args / sizeof args[0]) - 1; i++) args[n++] = argv[i];
    args[n] = NULL;
    cli_checkpoint_args(n - 1, args + 1); // the next checkpoints resume the same way
    cnn_energy_segment *last = ck.n_segments > 0 ? &ck.segments[ck.n_segments - 1] : NULL;
    if (last && last->ended == CNN_SEGMENT_KILLED && record_names(dir, last->run_id))
        last->ended = CNN_SEGMENT_FINISHED; // it wrote its record after this checkpoint: it ended normally
    cli_options o;
    cli_defaults(&o);
    cnn_energy_options eo;
    cnn_energy_options_default(&eo);
    o.energy = &eo;
    int r = cli_parse(n, args, 1, &o);
    if (r == 0 && !eo.enabled) {
        fprintf(stderr, "cnn-train: resume keeps a run record: drop --no-energy\n");
        r = 2;
    }
    if (r == 0) r = cli_resolve_device(&o);
    if (r == 0) {
        eo.resume = 1;
        o.resume = &ck;
        r = cli_train(&o, &eo);
    }
    cnn_checkpoint_free(&ck);
    return r;
}
