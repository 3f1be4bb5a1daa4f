#include "precision.h"

static const char *const names[CNN_PRECISION_COUNT] = {"fp32", "tf32", "bf16"};

const char *cnn_precision_name(cnn_precision p) { return p >= 0 && p < CNN_PRECISION_COUNT ? names[p] : "?"; }

cnn_status cnn_precision_parse(const char *name, cnn_precision *out) {
    for (int i = 0; i < CNN_PRECISION_COUNT; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (cnn_precision)i;
            return CNN_OK;
        }
    return cnn_error(CNN_ERR_INVALID_ARG, "unknown precision '%s'; choose fp32, tf32 or bf16", name ? name : "");
}

int cnn_precision_significand_bits(cnn_precision p) {
    return p == CNN_PRECISION_BF16 ? 8 : p == CNN_PRECISION_TF32 ? 11 : 24;
}

double cnn_precision_input_roundoff(cnn_precision p) {
    if (p == CNN_PRECISION_FP32) return 0.0;
    return 1.0 / (double)(1u << cnn_precision_significand_bits(p));
}

int cnn_precision_input_bytes(cnn_precision p) { return p == CNN_PRECISION_BF16 ? 2 : 4; }
