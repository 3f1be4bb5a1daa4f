// cnn-train as one rank of a data-parallel run (mpirun -np N cnn-train ...,
// srun; docs/distributed.md): joining the world, the checks every rank makes
// before training, the GPU of each rank, and who prints and writes (rank 0:
// the header, progress, summary and the run record; the other ranks are
// quiet and run without an energy session).
#ifndef CNN_TRAIN_DIST_CLI_H
#define CNN_TRAIN_DIST_CLI_H

#include "core/dist.h"
#include "options.h"
#include "progress.h"

// Joins the world the launcher started (a world of one without one) and arranges that the world is left
// at exit. Returns 0, or an exit code after one line on stderr (a launch of several ranks of a build
// without MPI is refused).
int cli_dist_start(void);
// The world joined by cli_dist_start (NULL before).
cnn_dist *cli_dist_world(void);
// The checks of o against the world before anything is measured, the same on every rank: the global batch
// divisible by the ranks, a checkpoint of as many ranks; each rank's GPU (its node-local rank, unless
// --gpu or cuda:N chose one); rank 0 alone prints and keeps a record (energy_options: its
// cnn_energy_options). Returns 0, or 2 after one line on stderr (printed by rank 0).
int cli_dist_prepare(cli_options *o, void *energy_options);
// Tells the progress printer the world's shape for its header.
void cli_dist_describe(progress_printer *p);
// Reports a failure msg of this rank (exit code `code`): printed by rank 0, or by the rank that failed
// when the others do not know of it, which then ends the whole world (they would wait for it forever).
void cli_dist_fail(const char *msg, int code);
// Says that the failure about to be reported is one every rank met at the same point (a divergence the
// ranks agreed on, whose record was written): rank 0 prints it, and nobody ends the world.
void cli_dist_failure_agreed(void);

#endif
