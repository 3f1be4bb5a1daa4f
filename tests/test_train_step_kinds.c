// The training step's ladder in the real training loop (models/train.c):
// the step kind resolves as documented (auto: fused where the backend and
// model allow it, else graph, else ops; an explicit kind a backend cannot
// run is refused with what to use), and the fused step, here the CUDA
// kernel on the CPU emulator (tests/emu_backend.cpp), trains a small MLP
// through cnn_train to the same evaluations as the CPU backend's op-by-op
// step, with evaluations every 7 steps so that launches end mid-epoch.
// Every evaluation of the fused run is the fused evaluation pass (the
// backend's mlp_eval entry, counted by the emulator): one call per
// evaluation, whose loss and hits match the CPU's chunked op-by-op pass.
//
// Tolerance: test losses and accuracies within 1e-3 (absolute) of the CPU's
// after 2 epochs: the fused kernel sums the GEMMs in another order and the
// softmax in float (docs/cuda.md); 1e-3 of accuracy is 0.1 of one of the
// 100 test images, so the hit counts must agree exactly.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "models/model.h"
#include "models/train.h"
#include "bars_dataset.h"
#include "test_backend_ops.h"
#include "test_util.h"

enum { SIDE = BARS_SIDE, N_TRAIN = 240, N_TEST = 100 };

static cnn_status train_on(cnn_backend *be, const cnn_dataset *ds, cnn_step_kind step, float lr, eval_log *log) {
    cnn_model m;
    const int hidden[2] = {24, 16};
    CNN_TRY(cnn_model_create(be, "mlp", 1, SIDE, SIDE, hidden, 2, 10, 5, &m));
    cnn_train_config cfg = cnn_train_config_default();
    cfg.batch = 16;
    cfg.max_epochs = 2;
    cfg.eval_every = 7;
    cfg.lr = lr;
    cfg.step = step;
    cnn_train_observer obs = eval_log_observer(log);
    const cnn_train_observer *list[] = {&obs};
    cnn_train_result r;
    memset(log, 0, sizeof *log);
    cnn_status s = cnn_train(be, &m, ds, &cfg, list, 1, &r);
    cnn_model_free(&m, be);
    return s;
}

static void check_resolution(cnn_backend *cpu, cnn_backend *emu) {
    cnn_model mlp, lenet;
    const int hidden[1] = {32};
    CHECK_OK(cnn_model_plan("mlp", 1, 28, 28, hidden, 1, 10, &mlp));
    CHECK_OK(cnn_model_plan("lenet", 1, 28, 28, NULL, 0, 10, &lenet));
    cnn_step_kind k;
    CHECK_OK(cnn_step_resolve(cpu, &mlp, CNN_STEP_AUTO, &k));
    CHECK(k == CNN_STEP_OPS); // no fused step, no graphs on the CPU
    CHECK(cnn_step_resolve(cpu, &mlp, CNN_STEP_FUSED, &k) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "use --step=ops") != NULL);
    CHECK(cnn_step_resolve(cpu, &mlp, CNN_STEP_GRAPH, &k) == CNN_ERR_INVALID_ARG);
    if (emu) {
        CHECK_OK(cnn_step_resolve(emu, &mlp, CNN_STEP_AUTO, &k));
        CHECK(k == CNN_STEP_FUSED);
        CHECK_OK(cnn_step_resolve(emu, &lenet, CNN_STEP_AUTO, &k));
        CHECK(k == CNN_STEP_OPS); // LeNet has no fused step (and the emulated backend no graphs)
        CHECK(cnn_step_resolve(emu, &lenet, CNN_STEP_FUSED, &k) == CNN_ERR_INVALID_ARG);
        CHECK(strstr(cnn_last_error(), "conv2d") != NULL);
    }
    cnn_step_kind parsed;
    CHECK(cnn_step_parse("fused", &parsed) && parsed == CNN_STEP_FUSED);
    CHECK(!cnn_step_parse("fast", &parsed));
}

// A GPU that refuses the fused kernels' cooperative launch (the emulator, told so): auto takes the next rung
// (the emulated backend has no graphs: ops) and says why, the run trains to the CPU's evaluations without a
// fused launch; an explicit fused step is refused, naming the way out.
static void check_refused_coop(cnn_backend *emu, const cnn_dataset *ds, const eval_log *ops) {
    setenv("CNN_TEST_EMU_NO_COOP", "1", 1);
    cnn_model mlp;
    const int hidden[2] = {24, 16};
    CHECK_OK(cnn_model_plan("mlp", 1, SIDE, SIDE, hidden, 2, 10, &mlp));
    cnn_step_kind k = CNN_STEP_FUSED;
    char note[320] = "";
    CHECK_OK(cnn_step_resolve_noted(emu, &mlp, CNN_STEP_AUTO, &k, note, sizeof note));
    CHECK(k == CNN_STEP_OPS && strstr(note, "cooperative launch") && strstr(note, "the ops step instead"));
    CHECK(cnn_step_resolve(emu, &mlp, CNN_STEP_FUSED, &k) == CNN_ERR_UNSUPPORTED);
    CHECK(strstr(cnn_last_error(), "cooperative launch") && strstr(cnn_last_error(), "use --step=ops"));
    static eval_log fallback;
    const long before = test_emu_backend_mlp_evals(emu);
    CHECK_OK(train_on(emu, ds, CNN_STEP_AUTO, 0.05f, &fallback));
    CHECK(strcmp(fallback.step, "ops") == 0 && test_emu_backend_mlp_evals(emu) == before);
    CHECK(fallback.n == ops->n);
    for (int i = 0; i < ops->n && i < fallback.n; i++)
        CHECK(fabs(ops->p[i].test_loss - fallback.p[i].test_loss) <= 1e-3 && ops->p[i].test_hits == fallback.p[i].test_hits);
    unsetenv("CNN_TEST_EMU_NO_COOP");
    CHECK_OK(cnn_step_resolve(emu, &mlp, CNN_STEP_AUTO, &k));
    CHECK(k == CNN_STEP_FUSED); // the emulator runs them again
}

int main(void) {
    cnn_dataset ds;
    bars_dataset(77, N_TRAIN, N_TEST, &ds);

    cnn_backend *cpu = NULL, *emu = NULL;
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &cpu));
    if (!cpu) return test_finish("test_train_step_kinds");
    if (test_emu_backend_create(&emu) != CNN_OK) printf("emulator: %s: the fused step is not trained here\n",
                                                         cnn_last_error());
    check_resolution(cpu, emu);

    if (emu) {
        static eval_log ops, fused;
        CHECK_OK(train_on(cpu, &ds, CNN_STEP_OPS, 0.05f, &ops));
        const long evals_before = test_emu_backend_mlp_evals(emu);
        CHECK_OK(train_on(emu, &ds, CNN_STEP_AUTO, 0.05f, &fused));
        const long fused_evals = test_emu_backend_mlp_evals(emu) - evals_before;
        printf("fused run: %d evaluations, %ld through the fused evaluation pass\n", fused.n, fused_evals);
        CHECK(fused_evals == fused.n); // evaluate() took mlp_eval, once per evaluation
        CHECK(strcmp(ops.step, "ops") == 0 && strcmp(fused.step, "fused") == 0);
        // 15 steps per epoch, evaluations every 7 steps and at each epoch's end: 7, 14, 15, 21, 28, 30
        CHECK(ops.n == 6 && fused.n == ops.n);
        for (int i = 0; i < ops.n && i < fused.n; i++) {
            const cnn_eval_point *a = &ops.p[i], *b = &fused.p[i];
            printf("eval %d: step %ld: ops loss %.5f acc %.2f | fused loss %.5f acc %.2f\n", i, a->step, a->test_loss,
                   a->test_acc, b->test_loss, b->test_acc);
            CHECK(a->step == b->step && a->epoch == b->epoch);
            CHECK(fabs(a->test_loss - b->test_loss) <= 1e-3);
            CHECK(fabs(a->train_loss - b->train_loss) <= 1e-3);
            CHECK(a->test_hits == b->test_hits);
        }
        CHECK(ops.n > 0 && ops.p[ops.n - 1].test_acc > 0.5); // it learned (chance is 0.1)
        // A diverging run stops at the first evaluation, naming the step where the fused kernel saw the
        // first non-finite loss (a step before that evaluation, at step 7), as the op-by-op step does.
        static eval_log diverged;
        const long before = test_emu_backend_mlp_evals(emu);
        CHECK(train_on(emu, &ds, CNN_STEP_FUSED, 1e8f, &diverged) == CNN_ERR_DIVERGED);
        const char *msg = cnn_last_error();
        printf("fused, lr 1e8: %s\n", msg);
        long at = 0;
        const char *p = strstr(msg, "non-finite at step ");
        CHECK(p && sscanf(p, "non-finite at step %ld", &at) == 1 && at >= 1 && at <= 7);
        CHECK(diverged.n == 0 && test_emu_backend_mlp_evals(emu) == before); // no evaluation ran
        check_refused_coop(emu, &ds, &ops);
        cnn_backend_destroy(emu);
    }
    cnn_backend_destroy(cpu);
    bars_dataset_free(&ds);
    return test_finish("test_train_step_kinds");
}
