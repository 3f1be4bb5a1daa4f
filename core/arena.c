#include "arena.h"

#include <stdio.h>
#include <string.h>

cnn_status cnn_arena_add(cnn_arena *a, const char *name, int rows, int cols, int *slot) {
    if (a->base) return cnn_error(CNN_ERR_INTERNAL, "arena: '%s' added after allocation", name);
    if (a->n_slots >= CNN_ARENA_MAX_SLOTS)
        return cnn_error(CNN_ERR_INVALID_ARG, "arena: more than %d parameter tensors", CNN_ARENA_MAX_SLOTS);
    if (rows < 1 || cols < 1)
        return cnn_error(CNN_ERR_INVALID_ARG, "arena: tensor '%s' has shape (%d,%d)", name, rows, cols);
    cnn_arena_slot *s = &a->slots[a->n_slots];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->rows = rows;
    s->cols = cols;
    s->offset = a->n;
    size_t count = (size_t)rows * (size_t)cols;
    a->n += (count + 15) / 16 * 16; // keep every tensor 64-byte aligned
    a->n_params += count;
    *slot = a->n_slots++;
    return CNN_OK;
}

cnn_status cnn_arena_alloc(cnn_arena *a, cnn_backend *be) {
    if (a->n == 0) return cnn_error(CNN_ERR_INVALID_ARG, "arena: no tensors to allocate");
    void *p = NULL;
    CNN_TRY(be->ops->alloc(be, 3 * a->n * sizeof(float), &p));
    a->base = p;
    return CNN_OK;
}

void cnn_arena_free(cnn_arena *a, cnn_backend *be) {
    if (a->base) be->ops->free(be, a->base);
    a->base = NULL;
}
