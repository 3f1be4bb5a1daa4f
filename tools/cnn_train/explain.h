// cnn-train explain: a model's training step written out as GEMMs and the
// other ops, with FLOPs, bytes, arithmetic intensity and the roofline bound,
// without training (explain.c); --measure times each op (profile.c).
#ifndef CNN_TRAIN_EXPLAIN_H
#define CNN_TRAIN_EXPLAIN_H

// argv[1] is "explain". Returns the process exit status (0, or 2 for a usage error, 1 for another error).
int explain_main(int argc, char **argv);

#endif
