// What every build of core/dist.h shares: the launcher's environment, and a world of one.
#include "dist.h"

#include <errno.h>
#include <stdlib.h>

// The first of the launchers' world-size variables that is set: Open MPI's mpirun (also under Slurm with
// PMIx), then PMI-1/2 launchers (MPICH's hydra, Slurm's srun --mpi=pmi2).
bool cnn_dist_launched(int *size) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    *size = 1;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (!v || !*v) continue;
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || n < 1 || n > 1 << 20) continue;
        *size = (int)n;
        return true;
    }
    return false;
}
