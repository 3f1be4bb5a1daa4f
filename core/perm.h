// A keyed pseudo-random permutation of [0, n) computed index by index.
//
// Shuffling without a shuffled array: perm(i) is a 4-round Feistel network on
// the smallest even number of bits covering n, with cycle-walking until the
// value falls inside [0, n). Both backends compute the same batches from the
// same (seed, epoch) with no table to upload, and the CUDA gather kernel can
// evaluate it per thread (the functions are __host__ __device__ under nvcc).
#ifndef CNN_PERM_H
#define CNN_PERM_H

#include <stdint.h>

#ifdef __CUDACC__
#define CNN_HD __host__ __device__
#else
#define CNN_HD
#endif

typedef struct {
    uint64_t key;  // 0 means the identity permutation
    uint32_t n;    // domain size
    uint32_t half; // bits in each Feistel half
} cnn_perm;

static inline CNN_HD uint32_t cnn_perm_round(uint32_t x, uint64_t key, uint32_t round) {
    uint64_t h = (uint64_t)x * 0x9E3779B97F4A7C15ull ^ (key + 0x632BE59BD9B4E019ull * (round + 1));
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

// A permutation of [0, n) for this key (key 0: identity).
static inline CNN_HD cnn_perm cnn_perm_make(uint32_t n, uint64_t key) {
    uint32_t bits = 2;
    while (bits < 32 && (1u << bits) < n) bits += 2;
    cnn_perm p = {key, n, bits / 2};
    return p;
}

static inline CNN_HD uint32_t cnn_perm_apply(const cnn_perm *p, uint32_t i) {
    if (p->key == 0) return i;
    uint32_t mask = (1u << p->half) - 1u;
    uint32_t x = i;
    do {
        uint32_t l = x >> p->half, r = x & mask;
        for (uint32_t round = 0; round < 4; round++) {
            uint32_t nl = r;
            r = l ^ (cnn_perm_round(r, p->key, round) & mask);
            l = nl;
        }
        x = (l << p->half) | r;
    } while (x >= p->n);
    return x;
}

#endif
