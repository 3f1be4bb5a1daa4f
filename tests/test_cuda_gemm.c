// Every CUDA GEMM variant (be->gemm_variants: the kernel ladder, the default
// and the cuBLAS references) against a double-precision reference: odd
// shapes built from 1, 7, 33, 784, 785, the MLP's shapes at batch 128, a
// matrix large enough for the big warp tile, all four transposes, several
// alpha/beta, padded and misaligned leading dimensions. Before each run the
// whole C buffer is poisoned with NaN (beta = 0) or its padding columns are
// (beta != 0): a kernel that reads C when beta = 0 or writes outside (M,N)
// fails.
//
// Tolerance: |got - want| <= atol + 1e-5 |want| with atol = 2e-6 K (|alpha| + 1):
// inputs are uniform in [-1, 1], so an FP32 dot product of length K is off by
// about sqrt(K) 2^-24 (~1e-5 at K = 785); atol is ~100x that, while an
// indexing bug is off by O(0.1). cublas-tf32 rounds inputs to 10-bit
// mantissas: atol = 5e-3 sqrt(K) (|alpha| + 1), rtol 5e-3.
// Skipped (exit 77) without a GPU.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/backend.h"
#include "test_cuda_common.h"
#include "test_util.h"

static cnn_backend *gpu;
static cnn_rng rng;

typedef struct {
    int M, N, K;
} shape;

static void run_case(bool ta, bool tb, int M, int N, int K, int pad, int misalign, float alpha, float beta) {
    const int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    const int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
    const size_t na = (size_t)ar * lda + 4, nb = (size_t)br * ldb + 4, nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C0 = malloc(nc * sizeof *C0),
          *got = malloc(nc * sizeof *got);
    double *want = malloc(nc * sizeof *want);
    test_fill_uniform(&rng, A, na, -1, 1);
    test_fill_uniform(&rng, B, nb, -1, 1);
    for (size_t i = 0; i < nc; i++) C0[i] = NAN;
    if (beta != 0.0f)
        for (int i = 0; i < M; i++) test_fill_uniform(&rng, C0 + (size_t)i * ldc, N, -1, 1);
    test_gemm_ref(ta, tb, M, N, K, alpha, A + misalign, lda, B + misalign, ldb, beta, C0, ldc, want);

    float *dA = dev_copy_of(gpu, A, na * sizeof(float)), *dB = dev_copy_of(gpu, B, nb * sizeof(float)), *dC = NULL;
    CHECK_OK(gpu->ops->alloc(gpu, (nc + 4) * sizeof(float), (void **)&dC));
    float *packed = malloc((size_t)M * N * sizeof *packed);
    double *wpacked = malloc((size_t)M * N * sizeof *wpacked);
    for (int v = 0; v < gpu->n_gemm_variants; v++) {
        const cnn_gemm_variant *var = &gpu->gemm_variants[v];
        CHECK_OK(gpu->ops->upload(gpu, C0, dC + misalign, nc * sizeof(float)));
        CHECK_OK(cnn_backend_select_gemm(gpu, var->name));
        CHECK_OK(cnn_gemm(gpu, ta, tb, M, N, K, alpha, dA + misalign, lda, dB + misalign, ldb, beta, dC + misalign,
                          ldc));
        CHECK_OK(gpu->ops->download(gpu, dC + misalign, got, nc * sizeof(float)));
        bool pad_ok = true;
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                packed[(size_t)i * N + j] = got[(size_t)i * ldc + j];
                wpacked[(size_t)i * N + j] = want[(size_t)i * ldc + j];
            }
            for (int j = N; j < ldc; j++) pad_ok = pad_ok && isnan(got[(size_t)i * ldc + j]);
        }
        const bool tf32 = strstr(var->name, "tf32") != NULL;
        const double scale = fabs(alpha) + 1.0;
        const double atol = tf32 ? 5e-3 * sqrt((double)K) * scale : 2e-6 * K * scale, rtol = tf32 ? 5e-3 : 1e-5;
        char what[200];
        snprintf(what, sizeof what, "%s %c%c M=%d N=%d K=%d pad=%d misalign=%d alpha=%g beta=%g", var->name,
                 ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, pad, misalign, alpha, beta);
        CHECK(test_close(what, packed, wpacked, (size_t)M * N, atol, rtol));
        if (!pad_ok) {
            fprintf(stderr, "  %s: wrote into C's padding columns\n", what);
            test_failures++;
        }
    }
    gpu->ops->free(gpu, dA), gpu->ops->free(gpu, dB), gpu->ops->free(gpu, dC);
    free(A), free(B), free(C0), free(got), free(want), free(packed), free(wpacked);
}

int main(void) {
    gpu = cuda_or_skip(NULL);
    printf("CUDA backend: %s; %d GEMM variants, default %s\n", gpu->device_desc, gpu->n_gemm_variants,
           gpu->default_gemm);
    cnn_rng_seed(&rng, 4242);
    const shape shapes[] = {
        {1, 1, 1},      {1, 785, 7},    {7, 1, 785},    {33, 33, 33},   {784, 33, 7},  {7, 784, 785},
        {785, 7, 33},   {33, 785, 784}, {785, 784, 33}, {785, 785, 7},  // odd sizes from 1, 7, 33, 784, 785
        {128, 512, 784}, {128, 10, 512}, {10, 512, 128}, {128, 512, 10}, {512, 784, 128}, // the MLP at batch 128
        {1000, 512, 784},                                                                // an evaluation chunk
        {1536, 1540, 64},                                                                // auto picks the big tile
    };
    const float ab[4][2] = {{1.0f, 0.0f}, {0.5f, -1.5f}, {-2.0f, 1.0f}, {1.0f, 0.25f}};
    int combo = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++, combo++) {
            const int pad = combo % 3 == 1 ? 3 : 0;      // odd leading dimensions: no 128-bit loads
            const int misalign = combo % 5 == 2 ? 1 : 0; // pointers off 16-byte alignment
            run_case(t & 1, t & 2, shapes[s].M, shapes[s].N, shapes[s].K, pad, misalign, ab[combo % 4][0],
                     ab[combo % 4][1]);
        }
    cnn_backend_destroy(gpu);
    return test_finish("test_cuda_gemm");
}
