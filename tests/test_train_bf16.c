// End to end with bf16 and tf32 GEMMs (--precision bf16, tf32) on the CPU,
// on the shared MNIST data (10,000 training digits, the full test set): the
// default MLP reaches 0.96 test accuracy within 10 epochs with each, as
// test_train requires of FP32; the weights, sums and SGD step stay FP32,
// and every GEMM of the step (forward, both gradients) reads rounded
// inputs. Each run must differ from the FP32 one (the rounding reached the GEMMs).
#include <string.h>

#include "datasets/dataset.h"
#include "models/model.h"
#include "models/train.h"
#include "test_util.h"

static cnn_status run(const cnn_dataset *ds, cnn_precision p, cnn_train_config cfg, cnn_train_result *res) {
    cnn_backend *be = NULL;
    CNN_TRY(cnn_backend_create("cpu", NULL, 2, 0, &be));
    cnn_status s = cnn_backend_select_precision(be, NULL, p);
    cnn_model m;
    const int hidden[] = {512};
    if (s == CNN_OK) s = cnn_model_create(be, "mlp", 784, 1, 1, hidden, 1, 10, cfg.seed, &m);
    if (s == CNN_OK) {
        printf("%s: gemm %s\n", cnn_precision_name(p), be->gemm->name);
        s = cnn_train(be, &m, ds, &cfg, NULL, 0, res);
        cnn_model_free(&m, be);
    }
    cnn_backend_destroy(be);
    return s;
}

int main(void) {
    const char *dir = test_data_dir("mnist");
    if (!dir) test_skip("the shared MNIST data is not available (set CNN_DATA_DIR)");
    cnn_dataset ds;
    cnn_dataset_options opt = {dir, 0, 1};
    CHECK_OK(cnn_dataset_load("mnist", &opt, &ds));
    if (test_failures) return test_finish("test_train_bf16");

    cnn_train_config cfg = cnn_train_config_recipe("mnist", "mlp");
    cfg.target_acc = 0.96;
    cfg.max_epochs = 10;
    const cnn_precision lower[2] = {CNN_PRECISION_BF16, CNN_PRECISION_TF32};
    for (int i = 0; i < 2; i++) {
        cnn_train_result a;
        CHECK_OK(run(&ds, lower[i], cfg, &a));
        printf("%s MLP: reached=%d at epoch %d, best acc %.4f\n", cnn_precision_name(lower[i]), a.reached,
               a.target_epoch, a.best_acc);
        CHECK(a.reached && a.best_acc >= 0.96 && a.epochs <= 10);
    }

    cfg.target_acc = 0; // one epoch each: bf16, tf32 and fp32 differ
    cfg.max_epochs = 1;
    cnn_train_result b, t, c;
    CHECK_OK(run(&ds, CNN_PRECISION_BF16, cfg, &b));
    CHECK_OK(run(&ds, CNN_PRECISION_TF32, cfg, &t));
    CHECK_OK(run(&ds, CNN_PRECISION_FP32, cfg, &c));
    printf("one epoch: bf16 loss %.6f, tf32 loss %.6f, fp32 loss %.6f\n", b.final_loss, t.final_loss, c.final_loss);
    CHECK(b.final_loss != c.final_loss && t.final_loss != c.final_loss && b.final_loss != t.final_loss);
    cnn_dataset_free(&ds);
    return test_finish("test_train_bf16");
}
