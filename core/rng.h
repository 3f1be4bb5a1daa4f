// Deterministic random numbers: xoshiro256** seeded through splitmix64.
// The same seed gives the same sequence on every machine and build.
#ifndef CNN_RNG_H
#define CNN_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t s[4];
} cnn_rng;

void cnn_rng_seed(cnn_rng *rng, uint64_t seed);
uint64_t cnn_rng_u64(cnn_rng *rng);
// Uniform in [0, 1) with 53 random bits.
double cnn_rng_uniform(cnn_rng *rng);
// Standard normal (Box-Muller, both values used in turn is not needed: one per call).
double cnn_rng_normal(cnn_rng *rng);
// The splitmix64 mixing function, also used to derive per-epoch keys.
uint64_t cnn_mix64(uint64_t x);

#ifdef __cplusplus
}
#endif
#endif
