// --precision on the CUDA backend (docs/precision.md): which GEMM each
// precision selects, the tensor-core kernels against the CPU backend's
// lower-precision GEMMs on the MLP's shapes, and training steps in bf16.
//
// 1. Selection (no GPU needed, in every CUDA build): in the CUDA table the
//    first variant of tf32 is mma-tf32 and of bf16 mma-bf16 (so they are
//    --precision's defaults), cublas-tf32 and cublas-bf16 are of their
//    precision, and a --gemm of another precision is refused.
// 2. Parity with the CPU (GPU): each variant of precision P (mma-tf32,
//    cublas-tf32 against packed-tf32; mma-bf16, cublas-bf16 against
//    packed-bf16) on the five GEMMs of the 784-512-10 MLP at batch 128
//    (layers/linear.c's calls), plus a case with alpha and beta. The CPU and
//    GPU kernels read the same rounded inputs (core/precision.h's functions
//    on both sides) and sum in FP32 in different orders, so each is within
//    (2K + 8) 2^-24 S (1 + u)^2 of the double product of the rounded inputs
//    (S = |alpha| sum |a b| + |beta c|), and the two within twice that. A
//    GPU kernel that rounded differently (ties away, truncation) or not at
//    all would differ by up to 2^-8 S (bf16) or 2^-11 S (tf32): hundreds of
//    times the tolerance at these K. cublas-tf32 is held only to the tf32
//    format bound (2u + u^2 + (2K + 8) 2^-24) S around the CPU's result
//    doubled: cuBLAS does not document its rounding to tf32.
// 3. Training (GPU): the MLP of test_cuda_step (same data, initial
//    parameters and step) with --precision bf16 on both backends, 1 and 3
//    steps, eager and as a CUDA graph. Once an activation differs in its
//    last FP32 bit it may round to a neighbouring bf16 value, so parity is
//    not to the FP32 tolerances of test_cuda_step: parameters, gradients and
//    momentum must agree within atol 1e-5 + rtol 1e-2 (one bf16 step,
//    2^-8, at most in any product; the gradients' scale is ~1e-2), the loss
//    sum within 1e-3 relative, and the GPU's bf16 result must be at least 8
//    times closer to the CPU's bf16 result than the CPU's FP32 result is
//    (largest difference over the gradients): a GPU that trained in FP32 or
//    tf32 instead fails that.
// Parts 2 and 3 are skipped (exit 77) without a GPU, after part 1.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/backend.h"
#include "core/precision.h"
#include "test_cuda_common.h"
#include "test_cuda_mlp.h"
#include "test_util.h"

#ifdef CNN_HAVE_CUDA
extern const cnn_gemm_variant cnn_cuda_gemm_variants[];
extern const int cnn_cuda_gemm_variant_count;
extern const char *const cnn_cuda_gemm_default;

// The CUDA table's selection rules, on a backend struct that only holds the table.
static void check_selection(void) {
    cnn_backend be;
    memset(&be, 0, sizeof be);
    be.name = "cuda";
    be.gemm_variants = cnn_cuda_gemm_variants;
    be.n_gemm_variants = cnn_cuda_gemm_variant_count;
    be.default_gemm = cnn_cuda_gemm_default;
    const cnn_gemm_variant *t = cnn_backend_default_gemm(&be, CNN_PRECISION_TF32),
                           *b = cnn_backend_default_gemm(&be, CNN_PRECISION_BF16),
                           *f = cnn_backend_default_gemm(&be, CNN_PRECISION_FP32);
    CHECK(t && strcmp(t->name, "mma-tf32") == 0);
    CHECK(b && strcmp(b->name, "mma-bf16") == 0);
    CHECK(f && strcmp(f->name, "auto") == 0);
    const char *names[] = {"mma-tf32", "cublas-tf32", "mma-bf16", "cublas-bf16"};
    const cnn_precision precs[] = {CNN_PRECISION_TF32, CNN_PRECISION_TF32, CNN_PRECISION_BF16, CNN_PRECISION_BF16};
    for (int i = 0; i < 4; i++) {
        const cnn_gemm_variant *v = cnn_backend_find_gemm(&be, names[i]);
        CHECK(v && v->precision == precs[i]);
        CHECK_OK(cnn_backend_select_precision(&be, names[i], precs[i]));
    }
    CHECK_OK(cnn_backend_select_precision(&be, NULL, CNN_PRECISION_BF16));
    CHECK(be.gemm && strcmp(be.gemm->name, "mma-bf16") == 0);
    CHECK(cnn_backend_select_precision(&be, "mma-bf16", CNN_PRECISION_TF32) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "choose one of: mma-tf32, cublas-tf32") != NULL);
    CHECK(cnn_backend_select_precision(&be, "auto", CNN_PRECISION_BF16) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "mma-bf16, cublas-bf16") != NULL);
}
#endif

// ---- 2. parity with the CPU backend's packed-tf32 / packed-bf16 -------------------------------------

static cnn_backend *gpu, *cpu;
static cnn_rng rng;

static void parity_case(bool ta, bool tb, int M, int N, int K, float alpha, float beta) {
    const int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
    const size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C0 = malloc(nc * sizeof *C0);
    float *Ccpu = malloc(nc * sizeof *Ccpu), *Cgpu = malloc(nc * sizeof *Cgpu);
    double *ref = malloc(nc * sizeof *ref), *exact = malloc(nc * sizeof *exact), *scale = malloc(nc * sizeof *scale);
    test_fill_uniform(&rng, A, na, -1, 1);
    test_fill_uniform(&rng, B, nb, -1, 1);
    test_fill_uniform(&rng, C0, nc, -1, 1);
    float *dA = dev_copy_of(gpu, A, na * sizeof(float)), *dB = dev_copy_of(gpu, B, nb * sizeof(float)),
          *dC = dev_copy_of(gpu, NULL, nc * sizeof(float));
    for (cnn_precision p = CNN_PRECISION_TF32; p <= CNN_PRECISION_BF16; p++) {
        test_gemm_ref_precision(p, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc, ref, exact, scale);
        CHECK_OK(cnn_backend_select_precision(cpu, NULL, p));
        memcpy(Ccpu, C0, nc * sizeof(float));
        CHECK_OK(cnn_gemm(cpu, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Ccpu, ldc));
        for (int v = 0; v < gpu->n_gemm_variants; v++) {
            const cnn_gemm_variant *var = &gpu->gemm_variants[v];
            if (var->precision != p) continue;
            CHECK_OK(cnn_backend_select_precision(gpu, var->name, p));
            CHECK_OK(gpu->ops->upload(gpu, C0, dC, nc * sizeof(float)));
            CHECK_OK(cnn_gemm(gpu, ta, tb, M, N, K, alpha, dA, lda, dB, ldb, beta, dC, ldc));
            CHECK_OK(gpu->ops->download(gpu, dC, Cgpu, nc * sizeof(float)));
            const bool loose = strcmp(var->name, "cublas-tf32") == 0;
            const double u = cnn_precision_input_roundoff(p), acc = (2.0 * K + 8.0) * 0x1p-24;
            double worst = 0;
            int bad = 0;
            for (size_t e = 0; e < nc; e++) {
                const double tol = loose ? 2 * (2 * u + u * u + acc) * scale[e] : 2 * acc * scale[e] * (1 + u) * (1 + u);
                const double d = fabs((double)Cgpu[e] - Ccpu[e]);
                if (d / tol > worst) worst = d / tol;
                if (!(d <= tol) && bad++ < 3)
                    fprintf(stderr, "%s vs %s %c%c M=%d N=%d K=%d [%zu]: GPU %.9g, CPU %.9g (%.3g x tol)\n",
                            var->name, cpu->gemm->name, ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, e, Cgpu[e], Ccpu[e],
                            d / tol);
            }
            if (bad) test_failures++;
            printf("  %-12s vs %-12s %c%c %4dx%4dx%4d: largest difference / tolerance %.3f\n", var->name,
                   cpu->gemm->name, ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, worst);
        }
    }
    gpu->ops->free(gpu, dA), gpu->ops->free(gpu, dB), gpu->ops->free(gpu, dC);
    free(A), free(B), free(C0), free(Ccpu), free(Cgpu), free(ref), free(exact), free(scale);
}

static void check_parity(void) {
    cnn_rng_seed(&rng, 2024);
    const int Bt = MLP_BATCH, D = MLP_D, H = MLP_HIDDEN, C = MLP_CLASSES;
    parity_case(false, true, Bt, H, D, 1.0f, 0.0f);  // hidden forward: X W1^T
    parity_case(false, true, Bt, C, H, 1.0f, 0.0f);  // output forward: h W2^T
    parity_case(true, false, C, H, Bt, 1.0f, 0.0f);  // dW2 = dY^T h
    parity_case(false, false, Bt, H, C, 1.0f, 0.0f); // dh = dY W2
    parity_case(true, false, H, D, Bt, 1.0f, 0.0f);  // dW1 = dh^T X
    parity_case(true, true, 37, 45, 301, -0.5f, 0.75f);
}

// ---- 3. training steps with --precision bf16 ---------------------------------------------------------

static mlp_data data;

// The largest |x - y| over n floats (infinity where either is NaN).
static double max_diff(const float *x, const float *y, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)x[i] - y[i]);
        m = isnan(d) ? INFINITY : d > m ? d : m;
    }
    return m;
}

static void check_training(void) {
    mlp_data_make(&data, 11);
    for (int steps = 1; steps <= 3; steps += 2) {
        mlp_result c16, c32;
        CHECK_OK(cnn_backend_select_precision(cpu, NULL, CNN_PRECISION_FP32));
        CHECK_OK(mlp_run(cpu, &data, steps, false, 0x5EEDull, &c32));
        CHECK_OK(cnn_backend_select_precision(cpu, NULL, CNN_PRECISION_BF16));
        CHECK_OK(mlp_run(cpu, &data, steps, false, 0x5EEDull, &c16));
        const size_t n = c16.n;
        const double d_prec = max_diff(c32.arena + n, c16.arena + n, n); // what bf16 itself changes
        printf("CPU %s, %d step(s): loss sum %.6f (fp32: %.6f); gradients fp32 vs bf16: largest difference %.3g\n",
               cpu->gemm->name, steps, c16.stats[0], c32.stats[0], d_prec);
        CHECK(d_prec > 0); // the rounding reached the step
        for (int graph = 0; graph < 2; graph++) {
            CHECK_OK(cnn_backend_select_precision(gpu, NULL, CNN_PRECISION_BF16));
            mlp_result g;
            char what[128];
            cnn_status s = mlp_run(gpu, &data, steps, graph, 0x5EEDull, &g);
            CHECK_OK(s);
            if (s != CNN_OK) continue;
            const double d_gpu = max_diff(g.arena + n, c16.arena + n, n);
            printf("CUDA %s, %d step(s), %s: loss sum %.6f, hits %.0f; gradients vs CPU bf16: largest difference "
                   "%.3g (%.3g of fp32's)\n",
                   gpu->gemm->name, steps, graph ? "graph" : "eager", g.stats[0], g.stats[1], d_gpu, d_gpu / d_prec);
            snprintf(what, sizeof what, "bf16 %d step(s) %s: initial parameters", steps, graph ? "graph" : "eager");
            CHECK(same_bits_floats(what, g.arena0, c16.arena0, n));
            const char *part[3] = {"parameters", "gradients", "momentum"};
            for (int k = 0; k < 3; k++) {
                snprintf(what, sizeof what, "bf16 %d step(s) %s: %s", steps, graph ? "graph" : "eager", part[k]);
                CHECK(close_to_floats(what, g.arena + k * n, c16.arena + k * n, n, 1e-5, 1e-2));
            }
            snprintf(what, sizeof what, "bf16 %d step(s): loss sum", steps);
            CHECK(close_to_floats(what, &g.stats[0], &c16.stats[0], 1, 0.0, 1e-3));
            CHECK(d_gpu * 8 <= d_prec);
            mlp_result_free(&g);
        }
        mlp_result_free(&c16);
        mlp_result_free(&c32);
    }
}

int main(void) {
#ifdef CNN_HAVE_CUDA
    check_selection();
    if (test_failures) return test_finish("test_cuda_precision");
#endif
    gpu = cuda_or_skip(NULL);
    printf("CUDA backend: %s\n", gpu->device_desc);
    CHECK_OK(cnn_backend_create("cpu", NULL, 0, 0, &cpu));
    if (!cpu) return test_finish("test_cuda_precision");
    check_parity();
    check_training();
    cnn_backend_destroy(cpu);
    cnn_backend_destroy(gpu);
    return test_finish("test_cuda_precision");
}
