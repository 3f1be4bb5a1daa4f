// The exact accuracy-target comparison shared by the training loop and the energy hook.
#include "core/train_events.h"

#include <math.h>

int cnn_acc_reaches(long hits, long n, double target) {
    if (!(target > 0) || n <= 0) return 0;
    if (target > 1) return 0;
    // target * n is exact to a few ulps; shave a relative 1e-12 so that 0.07 * 100 = 7.000000000000001 needs 7.
    double need = ceil(target * (double)n * (1.0 - 1e-12));
    return (double)hits >= need;
}
