// explain's table of the training step's GEMMs per precision (explain_precision.c).
#ifndef CNN_TRAIN_EXPLAIN_PRECISION_H
#define CNN_TRAIN_EXPLAIN_PRECISION_H

#include <stdio.h>

#include "models/cost.h"

// For each precision: the GEMMs' FLOPs, the fewest bytes they move (inputs
// in the precision's storage, C in FP32) and their arithmetic intensity.
void explain_precision_table(FILE *f, const cnn_cost *step);

#endif
