// The training loop as one rank of several (tests/dist.cmake runs it with 2
// ranks under mpirun): on the CPU backend (ops step) and on the CUDA
// kernels' CPU emulator (the fused step, which with several ranks launches
// one gradient-only step, sums the gradients over the ranks, then runs SGD),
// a small MLP trained with the global batch sharded over the ranks reaches
// the evaluations of the same run in one process (each rank trains that
// reference itself), ends with the same parameters on every rank, and
// reports the world in its result. A batch not divisible by the ranks and a
// checkpoint of another world size are refused.
//
// Tolerance: test and training losses within 2e-3 (absolute) of the single
// process after 2 epochs (30 steps) and the hit counts within 2 of the 100
// test images: the per-rank GEMMs sum half the rows each and the ranks'
// halves are added in double, so the gradients differ from one process's in
// the last bits of float, which 30 steps of momentum SGD at lr 0.05 amplify
// to below 1e-5 here (the limits leave room for other CPUs and GEMMs); the
// runs with the same number of ranks must agree bit for bit.
#include <math.h>
#include <string.h>

#include "core/backend.h"
#include "core/dist.h"
#include "models/model.h"
#include "models/train.h"
#include "bars_dataset.h"
#include "test_backend_ops.h"
#include "test_util.h"

enum { SIDE = BARS_SIDE, N_TRAIN = 240, N_TEST = 100 };

static cnn_status train_on(cnn_backend *be, const cnn_dataset *ds, cnn_dist *world, int batch,
                           const cnn_train_progress *resume, eval_log *log, cnn_train_result *r, uint32_t *hash) {
    cnn_model m;
    const int hidden[2] = {24, 16};
    CNN_TRY(cnn_model_create(be, "mlp", 1, SIDE, SIDE, hidden, 2, 10, 5, &m));
    cnn_train_config cfg = cnn_train_config_default();
    cfg.batch = batch;
    cfg.max_epochs = 2;
    cfg.eval_every = 7;
    cfg.dist = world;
    cnn_train_observer obs = eval_log_observer(log);
    const cnn_train_observer *list[] = {&obs};
    cnn_train_hooks hooks = {.resume = resume};
    memset(log, 0, sizeof *log);
    cnn_status s = cnn_train_hooked(be, &m, ds, &cfg, &hooks, list, 1, r);
    float *w = malloc(m.arena.n * sizeof *w);
    if (s == CNN_OK) s = be->ops->download(be, m.arena.base, w, m.arena.n * sizeof *w);
    uint32_t h = 2166136261u;
    for (size_t i = 0; s == CNN_OK && i < m.arena.n * sizeof *w; i++) h = (h ^ ((unsigned char *)w)[i]) * 16777619u;
    *hash = h;
    free(w);
    cnn_model_free(&m, be);
    return s;
}

// Whether every rank has the same hash.
static bool same_everywhere(cnn_dist *d, uint32_t hash) {
    int hi = (int)(hash >> 1), neg = -hi;
    CHECK_OK(cnn_dist_max_int(d, &hi));
    CHECK_OK(cnn_dist_max_int(d, &neg));
    return hi == (int)(hash >> 1) && -neg == (int)(hash >> 1);
}

// backend be: the sharded run against the single-process one, and bitwise across two sharded runs.
static void check_backend(const char *what, cnn_backend *be, const cnn_dataset *ds, cnn_dist *d) {
    static eval_log one, two, again;
    cnn_train_result r1, r2, r3;
    uint32_t h1 = 0, h2 = 0, h3 = 0;
    CHECK_OK(train_on(be, ds, NULL, 16, NULL, &one, &r1, &h1));
    CHECK_OK(train_on(be, ds, d, 16, NULL, &two, &r2, &h2));
    CHECK_OK(train_on(be, ds, d, 16, NULL, &again, &r3, &h3));
    CHECK(one.n == 6 && two.n == one.n); // 15 steps per epoch, evaluations every 7 steps and at the epochs' ends
    for (int i = 0; i < one.n && i < two.n; i++) {
        const cnn_eval_point *a = &one.p[i], *b = &two.p[i];
        if (d->rank == 0)
            printf("%s eval %d: step %ld: 1 rank loss %.5f hits %ld | %d ranks loss %.5f hits %ld\n", what, i, a->step,
                   a->test_loss, a->test_hits, d->size, b->test_loss, b->test_hits);
        CHECK(a->step == b->step && a->n_test == b->n_test);
        CHECK(fabs(a->test_loss - b->test_loss) <= 2e-3 && fabs(a->train_loss - b->train_loss) <= 2e-3);
        CHECK(labs(a->test_hits - b->test_hits) <= 2);
        CHECK(memcmp(&two.p[i].test_loss, &again.p[i].test_loss, sizeof(double)) == 0);
        CHECK(memcmp(&two.p[i].train_loss, &again.p[i].train_loss, sizeof(double)) == 0);
    }
    CHECK(h2 == h3);                 // the same bits run after run
    CHECK(same_everywhere(d, h2));   // and on every rank
    CHECK(r2.world_size == d->size && r2.ranks_per_node == d->local_size && r2.n_nodes == d->n_nodes);
    CHECK(r1.world_size == 1 && r1.allreduce_s == 0.0);
    if (d->size > 1) CHECK(r2.allreduce_s > 0.0 && r2.comm_s > 0.0);
    CHECK(one.n > 0 && one.p[one.n - 1].test_acc > 0.5); // it learned (chance is 0.1)
}

int main(void) {
    cnn_dist *d = NULL;
    CHECK_OK(cnn_dist_init(&d));
    if (!d) return test_finish("test_dist_train");
    cnn_dataset ds;
    bars_dataset(77, N_TRAIN, N_TEST, &ds);

    cnn_backend *cpu = NULL, *emu = NULL;
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &cpu));
    if (cpu) {
        check_backend("cpu ops", cpu, &ds, d);
        eval_log log;
        cnn_train_result r;
        uint32_t h;
        if (d->size > 1) { // refusals (every rank the same): a batch of 15 rows, a checkpoint of one rank
            CHECK(train_on(cpu, &ds, d, 16 * d->size - 1, NULL, &log, &r, &h) == CNN_ERR_INVALID_ARG);
            CHECK(strstr(cnn_last_error(), "not divisible by the") != NULL);
            cnn_train_progress one_rank = {.step = 0, .epoch = 1, .world_size = 1};
            CHECK(train_on(cpu, &ds, d, 16, &one_rank, &log, &r, &h) == CNN_ERR_INVALID_ARG);
            CHECK(strstr(cnn_last_error(), "written by a run of 1 rank") != NULL);
        }
    }
    if (test_emu_backend_create(&emu) == CNN_OK) {
        check_backend("emulated fused", emu, &ds, d);
        cnn_backend_destroy(emu);
    } else {
        printf("emulator: %s: the fused step is not trained here\n", cnn_last_error());
    }
    cnn_backend_destroy(cpu);
    bars_dataset_free(&ds);
    int failures = test_failures;
    CHECK_OK(cnn_dist_max_int(d, &failures));
    cnn_dist_finalize(d);
    test_failures = failures;
    return test_finish("test_dist_train");
}
