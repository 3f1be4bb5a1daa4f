// The keyed permutation behind shuffling is a bijection for every size, differs
// between keys, and the CPU gather op follows it and advances its cursor.
#include <string.h>

#include "core/backend.h"
#include "core/perm.h"
#include "test_util.h"

static void test_bijection(uint32_t n, uint64_t key) {
    unsigned char *seen = calloc(n, 1);
    cnn_perm p = cnn_perm_make(n, key);
    uint32_t fixed = 0;
    int ok = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = cnn_perm_apply(&p, i);
        if (j >= n || seen[j]) ok = 0;
        else seen[j] = 1;
        fixed += j == i;
    }
    if (!ok) fprintf(stderr, "  perm n=%u key=%llu is not a bijection\n", n, (unsigned long long)key);
    CHECK(ok);
    // a shuffle leaves few elements in place (expected about 1 for a random permutation)
    if (key && n >= 1000) CHECK(fixed < n / 100);
    free(seen);
}

int main(void) {
    const uint32_t sizes[] = {1, 2, 3, 7, 64, 1000, 10000, 60000, 65537};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        test_bijection(sizes[i], 0);
        test_bijection(sizes[i], 12345);
        test_bijection(sizes[i], 0xDEADBEEFCAFEull);
    }
    // identity for key 0; different keys give different orders
    cnn_perm id = cnn_perm_make(100, 0), a = cnn_perm_make(10000, 1), b = cnn_perm_make(10000, 2);
    for (uint32_t i = 0; i < 100; i++) CHECK(cnn_perm_apply(&id, i) == i);
    int differ = 0;
    for (uint32_t i = 0; i < 100; i++) differ += cnn_perm_apply(&a, i) != cnn_perm_apply(&b, i);
    CHECK(differ > 90);

    // gather: rows follow the permutation, pixels are scaled and shifted, the cursor advances by B
    cnn_backend *be = NULL;
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &be));
    if (!be) return test_finish("test_perm");
    enum { N = 50, D = 3, B = 7 };
    uint8_t images[N * D], labels[N];
    for (int i = 0; i < N; i++) {
        labels[i] = (uint8_t)(i % 10);
        for (int d = 0; d < D; d++) images[i * D + d] = (uint8_t)(i * 5 + d);
    }
    cnn_batch_cursor cur = {cnn_perm_make(N, 99), 14, 0};
    float X[B * D];
    int32_t y[B];
    CHECK_OK(be->ops->gather(be, images, labels, &cur, X, y, B, D, 0.5f, -1.0f, true));
    for (int i = 0; i < B; i++) {
        uint32_t j = cnn_perm_apply(&cur.perm, 14 + i);
        CHECK(y[i] == labels[j]);
        for (int d = 0; d < D; d++) CHECK(X[i * D + d] == images[j * D + d] * 0.5f - 1.0f);
    }
    CHECK(cur.start == 14 + B);
    // a batch running past the end is an error, and the cursor does not move
    cur.start = N - 3;
    CHECK(be->ops->gather(be, images, labels, &cur, X, y, B, D, 1.0f, 0.0f, true) == CNN_ERR_INVALID_ARG);
    CHECK(cur.start == N - 3);
    cnn_backend_destroy(be);
    return test_finish("test_perm");
}
