// The models cnn-train knows, each described by one table (read top to
// bottom, as PyTorch's nn.Sequential lists its layers). The MLP's table is
// made from --hidden (models/mlp.c).
#include <string.h>

#include "models/model.h"

const char *const cnn_model_names[] = {"mlp", "lenet", NULL};

// LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, for 1x28x28 digits:
//   conv 1→6, 5x5, pad 2   (6,28,28)   ReLU   maxpool 2   (6,14,14)
//   conv 6→16, 5x5         (16,10,10)  ReLU   maxpool 2   (16,5,5)
//   flatten 400 → 120 → ReLU → 84 → ReLU → 10
// Weights start as PyTorch's do, uniform in ±1/√fan_in: with He-normal ones
// (2.4 times larger) SGD at lr 0.05 and momentum 0.9 drives every ReLU dead
// in the first steps on MNIST and the loss stays at ln 10.
static const cnn_layer_spec lenet[] = {
    {.kind = CNN_LAYER_CONV2D, .out = 6, .k = 5, .stride = 1, .pad = 2},
    {.kind = CNN_LAYER_RELU},
    {.kind = CNN_LAYER_MAXPOOL, .k = 2, .stride = 2},
    {.kind = CNN_LAYER_CONV2D, .out = 16, .k = 5, .stride = 1, .pad = 0},
    {.kind = CNN_LAYER_RELU},
    {.kind = CNN_LAYER_MAXPOOL, .k = 2, .stride = 2},
    {.kind = CNN_LAYER_FLATTEN},
    {.kind = CNN_LAYER_LINEAR, .out = 120},
    {.kind = CNN_LAYER_RELU},
    {.kind = CNN_LAYER_LINEAR, .out = 84},
    {.kind = CNN_LAYER_RELU},
    {.kind = CNN_LAYER_LINEAR, .out = 0}, // 0: one output per class
};

// The smallest image side that every window (convolution, pooling) of the
// table fits, found by trying sides upward; 0 when none up to 4096 does.
static int min_side(const cnn_layer_spec *specs, int n) {
    for (int side = 1; side <= 4096; side++) {
        int h = side, fits = 1;
        for (int i = 0; i < n && fits; i++) {
            const cnn_layer_spec *l = &specs[i];
            if (l->kind != CNN_LAYER_CONV2D && l->kind != CNN_LAYER_MAXPOOL) continue;
            fits = h + 2 * l->pad >= l->k;
            h = (h + 2 * l->pad - l->k) / l->stride + 1;
        }
        if (fits) return side;
    }
    return 0;
}

// Builds model `name` on be, or only plans it when be is NULL.
static cnn_status create(cnn_backend *be, const char *name, int in_c, int in_h, int in_w, const int *hidden,
                         int n_hidden, int n_classes, uint64_t seed, cnn_model *m) {
    memset(m, 0, sizeof *m);
    if (!name || strcmp(name, "mlp") == 0) {
        cnn_layer_spec specs[2 * CNN_MAX_HIDDEN + 1];
        int n = 0;
        char desc[sizeof m->desc];
        CNN_TRY(cnn_mlp_table(in_c * in_h * in_w, hidden, n_hidden, n_classes, specs, &n, desc, sizeof desc));
        return cnn_model_build(be, desc, in_c, in_h, in_w, specs, n, n_classes, CNN_INIT_HE_NORMAL, seed, m);
    }
    if (strcmp(name, "lenet") == 0) {
        // Said here, in the user's terms: the window check below knows only "a kernel does not fit".
        const int n = (int)(sizeof lenet / sizeof lenet[0]), side = min_side(lenet, n);
        if (in_h < side || in_w < side)
            return cnn_error(CNN_ERR_INVALID_ARG,
                             "model lenet: its convolutions and pooling need images of at least %dx%d, and these are "
                             "%dx%d: use the MLP (--model=mlp) or larger images",
                             side, side, in_h, in_w);
        return cnn_model_build(be, "lenet-5 conv6-pool-conv16-pool-120-84", in_c, in_h, in_w, lenet,
                               n, n_classes, CNN_INIT_FAN_IN_UNIFORM, seed, m);
    }
    return cnn_error(CNN_ERR_INVALID_ARG, "unknown model '%s'; choose mlp or lenet", name);
}

cnn_status cnn_model_create(cnn_backend *be, const char *name, int in_c, int in_h, int in_w, const int *hidden,
                            int n_hidden, int n_classes, uint64_t seed, cnn_model *m) {
    if (!be) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_model_create needs a backend (cnn_model_plan makes none)");
    return create(be, name, in_c, in_h, in_w, hidden, n_hidden, n_classes, seed, m);
}

cnn_status cnn_model_plan(const char *name, int in_c, int in_h, int in_w, const int *hidden, int n_hidden,
                          int n_classes, cnn_model *m) {
    return create(NULL, name, in_c, in_h, in_w, hidden, n_hidden, n_classes, 0, m);
}
