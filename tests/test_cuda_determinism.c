// Same seed, same results, bit for bit, on the GPU: 20 training steps of the
// 784-512-10 MLP twice from fresh backends must give identical parameters,
// gradients, momentum and loss sums; a captured graph must give exactly
// what the same ops give eagerly; and a different shuffle must differ. The
// CUDA kernels use no floating-point atomics (split-K partial sums and the
// loss's per-block sums are added in a fixed order), so this holds for every
// GEMM variant we own; cuBLAS is checked too (deterministic on one GPU with
// a fixed workspace). Skipped (exit 77) without a GPU.
#include <stdio.h>
#include <string.h>

#include "test_cuda_common.h"
#include "test_cuda_mlp.h"
#include "test_util.h"

static mlp_data data;

static bool same_result(const char *what, const mlp_result *a, const mlp_result *b) {
    if (a->n != b->n || !a->arena || !b->arena) return false;
    bool ok = same_bits_floats(what, a->arena, b->arena, 3 * a->n);
    ok = same_bits_floats(what, a->stats, b->stats, 2) && ok;
    return ok;
}

static void run(const char *gemm, bool graph, uint64_t key, mlp_result *r) {
    cnn_backend *gpu = cuda_or_skip(gemm);
    CHECK_OK(mlp_run(gpu, &data, 20, graph, key, r));
    cnn_backend_destroy(gpu);
}

int main(void) {
    cnn_backend *probe = cuda_or_skip(NULL);
    printf("CUDA backend: %s\n", probe->device_desc);
    cnn_backend_destroy(probe);
    mlp_data_make(&data, 5);
    const char *gemms[] = {"auto", "warptile", "warptile-small", "vec", "mma-tf32", "mma-bf16", "cublas"};
    for (size_t i = 0; i < sizeof gemms / sizeof gemms[0]; i++) {
        mlp_result a, b, e;
        run(gemms[i], true, 99, &a);
        run(gemms[i], true, 99, &b);
        run(gemms[i], false, 99, &e);
        char what[96];
        snprintf(what, sizeof what, "%s: graph run twice", gemms[i]);
        CHECK(same_result(what, &a, &b));
        snprintf(what, sizeof what, "%s: graph vs eager", gemms[i]);
        CHECK(same_result(what, &a, &e));
        printf("%s: loss sum %.6f, hits %.0f over 20 steps\n", gemms[i], a.stats[0], a.stats[1]);
        mlp_result_free(&a), mlp_result_free(&b), mlp_result_free(&e);
    }
    mlp_result x, y;
    run(NULL, true, 99, &x);
    run(NULL, true, 100, &y);
    CHECK(x.arena && y.arena && memcmp(x.arena, y.arena, x.n * sizeof(float)) != 0);
    mlp_result_free(&x), mlp_result_free(&y);
    return test_finish("test_cuda_determinism");
}
