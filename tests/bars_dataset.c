#include "bars_dataset.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

// Records how the step runs.
static void on_begin(void *user, const cnn_train_info *info, double t) {
    (void)t;
    snprintf(((eval_log *)user)->step, sizeof ((eval_log *)user)->step, "%s", info->step ? info->step : "");
}

// Records every evaluation.
static void on_eval(void *user, const cnn_eval_point *p, double t) {
    (void)t;
    eval_log *log = user;
    if (log->n < BARS_MAX_EVALS) log->p[log->n++] = *p;
}

cnn_train_observer eval_log_observer(eval_log *log) {
    return (cnn_train_observer){.user = log, .on_train_begin = on_begin, .on_eval = on_eval};
}

void bars_split(cnn_split *s, int n, cnn_rng *rng) {
    s->n = n, s->rows = BARS_SIDE, s->cols = BARS_SIDE;
    s->images = malloc((size_t)n * BARS_SIDE * BARS_SIDE);
    s->labels = malloc((size_t)n);
    for (int i = 0; i < n; i++) {
        const int c = (int)(cnn_rng_u64(rng) % 10);
        s->labels[i] = (uint8_t)c;
        for (int y = 0; y < BARS_SIDE; y++)
            for (int x = 0; x < BARS_SIDE; x++) {
                const bool bar = c < 8 ? y == c : x == c - 8;
                s->images[(size_t)i * BARS_SIDE * BARS_SIDE + y * BARS_SIDE + x] =
                    (uint8_t)((bar ? 160 : 0) + (int)(cnn_rng_u64(rng) % 90));
            }
    }
}

void bars_dataset(uint64_t seed, int n_train, int n_test, cnn_dataset *ds) {
    cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    *ds = (cnn_dataset){.name = "bars", .n_classes = 10};
    bars_split(&ds->train, n_train, &rng);
    bars_split(&ds->test, n_test, &rng);
}

void bars_dataset_free(cnn_dataset *ds) {
    free(ds->train.images), free(ds->train.labels), free(ds->test.images), free(ds->test.labels);
}
