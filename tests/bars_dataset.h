// A small synthetic dataset for training-loop tests, and an observer that
// records every evaluation (tests/test_train_step_kinds.c, test_dist_train.c).
#ifndef CNN_TESTS_BARS_DATASET_H
#define CNN_TESTS_BARS_DATASET_H

#include "core/rng.h"
#include "core/train_events.h"
#include "datasets/dataset.h"

enum { BARS_SIDE = 8, BARS_MAX_EVALS = 64 };

// The evaluations of a run, and how its step ran (cnn_train_info's step).
typedef struct {
    cnn_eval_point p[BARS_MAX_EVALS];
    int n;
    char step[16];
} eval_log;

// An observer filling log (on_train_begin, on_eval).
cnn_train_observer eval_log_observer(eval_log *log);
// n examples of ten classes of 8x8 images: class c is a bright bar at row c % 8 (column bar for c >= 8), plus
// noise, drawn from rng (s->images, s->labels: malloc'd).
void bars_split(cnn_split *s, int n, cnn_rng *rng);
// The dataset "bars": n_train training and n_test test examples drawn from the seed; bars_dataset_free frees them.
void bars_dataset(uint64_t seed, int n_train, int n_test, cnn_dataset *ds);
void bars_dataset_free(cnn_dataset *ds);

#endif
