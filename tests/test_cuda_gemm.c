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
// Every other variant whose precision is not FP32 (mma-tf32, mma-bf16,
// cublas-bf16) is held to the bounds of docs/precision.md instead: the
// double product of the inputs rounded as the format's kernels read them
// within the FP32 accumulation bound (2K + 8) 2^-24 S (1 + u)^2, and the
// unrounded product within the format's (2u + u^2 + (2K + 8) 2^-24) S
// (test_check_precision). cublas-tf32 keeps the loose tolerance: cuBLAS
// does not say how it rounds to tf32 (it may truncate).
// Skipped (exit 77) without a GPU.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/backend.h"
#include "test_cuda_common.h"
#include "test_util.h"

static cnn_backend *gpu;
static cnn_rng rng;
enum { MAX_VARIANTS = 64 };
static double worst_rounded[MAX_VARIANTS], worst_format[MAX_VARIANTS]; // largest error / tolerance per variant

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
    // The lower-precision references, per precision, computed when a variant first needs them.
    double *pref[CNN_PRECISION_COUNT] = {0}, *pexact[CNN_PRECISION_COUNT] = {0}, *pscale[CNN_PRECISION_COUNT] = {0};
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
        char what[200];
        snprintf(what, sizeof what, "%s %c%c M=%d N=%d K=%d pad=%d misalign=%d alpha=%g beta=%g", var->name,
                 ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, pad, misalign, alpha, beta);
        const cnn_precision p = var->precision;
        if (p != CNN_PRECISION_FP32 && strcmp(var->name, "cublas-tf32") != 0) {
            if (!pref[p]) {
                pref[p] = malloc((size_t)M * N * sizeof(double)), pexact[p] = malloc((size_t)M * N * sizeof(double));
                pscale[p] = malloc((size_t)M * N * sizeof(double));
                test_gemm_ref_precision(p, ta, tb, M, N, K, alpha, A + misalign, lda, B + misalign, ldb, beta, C0,
                                        ldc, pref[p], pexact[p], pscale[p]);
            }
            double wr = 0, wf = 0;
            if (test_check_precision(what, p, K, packed, pref[p], pexact[p], pscale[p], (size_t)M * N, &wr, &wf))
                test_failures++;
            if (wr > worst_rounded[v]) worst_rounded[v] = wr;
            if (wf > worst_format[v]) worst_format[v] = wf;
        } else {
            const bool tf32 = p == CNN_PRECISION_TF32;
            const double scale = fabs(alpha) + 1.0;
            const double atol = tf32 ? 5e-3 * sqrt((double)K) * scale : 2e-6 * K * scale, rtol = tf32 ? 5e-3 : 1e-5;
            CHECK(test_close(what, packed, wpacked, (size_t)M * N, atol, rtol));
        }
        if (!pad_ok) {
            fprintf(stderr, "  %s: wrote into C's padding columns\n", what);
            test_failures++;
        }
    }
    for (int p = 0; p < CNN_PRECISION_COUNT; p++) free(pref[p]), free(pexact[p]), free(pscale[p]);
    gpu->ops->free(gpu, dA), gpu->ops->free(gpu, dB), gpu->ops->free(gpu, dC);
    free(A), free(B), free(C0), free(got), free(want), free(packed), free(wpacked);
}

int main(void) {
    gpu = cuda_or_skip(NULL);
    CHECK(gpu->n_gemm_variants <= MAX_VARIANTS);
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
    printf("largest error / tolerance of the lower-precision variants (rounded inputs, format):\n");
    for (int v = 0; v < gpu->n_gemm_variants && v < MAX_VARIANTS; v++)
        if (worst_rounded[v] > 0 || worst_format[v] > 0)
            printf("  %-12s %.3f  %.3f\n", gpu->gemm_variants[v].name, worst_rounded[v], worst_format[v]);
    cnn_backend_destroy(gpu);
    return test_finish("test_cuda_gemm");
}
