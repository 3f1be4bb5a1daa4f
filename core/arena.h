// One parameter arena: params | grads | momentum, each one contiguous buffer
// in the backend's memory, so zeroing, the SGD step and host<->device copies
// are each one call. Tensors are planned first (cnn_arena_add), then the
// arena is allocated once (cnn_arena_alloc).
#ifndef CNN_ARENA_H
#define CNN_ARENA_H

#include "core/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_ARENA_MAX_SLOTS 64

typedef struct {
    char name[32];  // "fc1.weight"
    int rows, cols; // the tensor's shape
    size_t offset;  // in floats from the start of each section (64-byte aligned)
} cnn_arena_slot;

typedef struct {
    cnn_arena_slot slots[CNN_ARENA_MAX_SLOTS];
    int n_slots;
    size_t n;        // floats in each section, padding included
    size_t n_params; // floats that are real parameters (padding excluded)
    float *base;     // 3 * n floats in backend memory; NULL until allocated
} cnn_arena;

// Plans a (rows, cols) tensor; its index goes to *slot.
cnn_status cnn_arena_add(cnn_arena *a, const char *name, int rows, int cols, int *slot);
// Allocates (zeroed) the three sections on the backend.
cnn_status cnn_arena_alloc(cnn_arena *a, cnn_backend *be);
void cnn_arena_free(cnn_arena *a, cnn_backend *be);

static inline float *cnn_arena_param(const cnn_arena *a, int slot) { return a->base + a->slots[slot].offset; }
static inline float *cnn_arena_grad(const cnn_arena *a, int slot) { return a->base + a->n + a->slots[slot].offset; }
static inline float *cnn_arena_momentum(const cnn_arena *a, int slot) {
    return a->base + 2 * a->n + a->slots[slot].offset;
}
static inline size_t cnn_arena_numel(const cnn_arena *a, int slot) {
    return (size_t)a->slots[slot].rows * (size_t)a->slots[slot].cols;
}

#ifdef __cplusplus
}
#endif
#endif
