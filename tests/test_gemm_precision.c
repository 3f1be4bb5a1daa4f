// The lower-precision CPU GEMMs (--precision, docs/precision.md): rounding,
// validation against a double reference, kernel agreement, selection.
//
// 1. cnn_round_bf16 / cnn_round_tf32 on hand-picked values: ties to even,
//    NaN kept, overflow to infinity.
// 2. Each variant of precision P in cnn_cpu_gemm_variants[] (so one added
//    later is checked), on shapes with odd sizes and the MLP's GEMMs, all
//    four transposes, alpha and beta as test_gemm_cpu:
//    (a) against the double reference computed on the inputs rounded to P
//        (bf16: subnormals flushed as vdpbf16ps reads them), with the FP32
//        tolerance (2K + 8) 2^-24 S, S = |alpha| sum|a b| + |beta c|: the
//        rounding is exactly the stated one and the sums are FP32. A
//        variant that did not round its inputs fails this (rounding moves
//        a product by up to 2^-8 of itself, far more than the tolerance).
//    (b) against the double reference on the unrounded inputs, with the
//        tolerance of the format, (2 u + u^2 + (2K + 8) 2^-24) S, where u =
//        2^-8 (bf16, 8 significant bits) or 2^-11 (tf32, 11 bits) bounds the
//        relative error of each rounded input, so 2u + u^2 that of a product.
// 3. The AVX-512 BF16 kernel and the scalar one give the same bits (both sum
//    each pair as vdpbf16ps does and every bf16 product is exact in FP32);
//    where the CPU has AVX-512 BF16 the backend must have chosen it.
// 4. One thread or two: the same bits.
// 5. cnn_backend_select_precision: each precision's default, and a --gemm
//    of another precision refused with a message naming the right ones.
#include <float.h>
#include <math.h>
#include <string.h>

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/gemm.h"
#include "core/backend.h"
#include "core/precision.h"
#include "test_util.h"

static float bits_to_float(uint32_t u) {
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static void check_rounding(void) {
    CHECK(cnn_round_bf16(1.0f) == 1.0f);
    CHECK(cnn_round_bf16(1.0f + 0x1p-8f) == 1.0f);                  // tie: to the even 1.0
    CHECK(cnn_round_bf16(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);    // tie: up to the even neighbour
    CHECK(cnn_round_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f); // above the tie: up
    CHECK(cnn_round_bf16(-1.0f - 0x1p-9f) == -1.0f);
    CHECK(cnn_bf16_bits(3.0f) == 0x4040);
    CHECK(isinf(cnn_round_bf16(FLT_MAX)) && cnn_round_bf16(-INFINITY) == -INFINITY);
    float q = cnn_round_bf16(bits_to_float(0x7f800001u)); // a signalling NaN whose payload would round away
    CHECK(isnan(q));
    CHECK(isnan(cnn_round_bf16(-NAN)) && signbit(cnn_round_bf16(-NAN)));
    CHECK(cnn_round_tf32(1.0f + 0x1p-11f) == 1.0f);                 // tie: to even
    CHECK(cnn_round_tf32(1.0f + 3 * 0x1p-11f) == 1.0f + 0x1p-9f);
    CHECK(cnn_round_tf32(1.0f + 0x1p-12f) == 1.0f);
    CHECK(isnan(cnn_round_tf32(NAN)));
    CHECK(cnn_precision_significand_bits(CNN_PRECISION_BF16) == 8 && cnn_precision_input_bytes(CNN_PRECISION_BF16) == 2);
    cnn_precision p;
    CHECK(cnn_precision_parse("bf16", &p) == CNN_OK && p == CNN_PRECISION_BF16);
    CHECK(cnn_precision_parse("fp8", &p) == CNN_ERR_INVALID_ARG && strstr(cnn_last_error(), "fp32, tf32 or bf16"));
}

static cnn_backend *cpu;
static int cases, failures_at_start;
static double worst_rounded[CNN_PRECISION_COUNT], worst_format[CNN_PRECISION_COUNT];

// One case on every variant of a precision other than FP32.
static void run_case(cnn_rng *rng, int M, int N, int K, bool ta, bool tb, float alpha, float beta) {
    const int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
    float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
    float *C0 = malloc(sizeof(float) * (size_t)M * N), *C = malloc(sizeof(float) * (size_t)M * N);
    double *ref = malloc(sizeof(double) * M * N), *exact = malloc(sizeof(double) * M * N);
    double *scale = malloc(sizeof(double) * M * N);
    test_fill_uniform(rng, A, (size_t)M * K, -1.0f, 1.0f);
    test_fill_uniform(rng, B, (size_t)K * N, -1.0f, 1.0f);
    test_fill_uniform(rng, C0, (size_t)M * N, -1.0f, 1.0f);
    for (int v = 0; v < cnn_cpu_gemm_variant_count; v++) {
        const cnn_gemm_variant *var = &cnn_cpu_gemm_variants[v];
        const cnn_precision p = var->precision;
        if (p == CNN_PRECISION_FP32) continue;
        test_gemm_ref_precision(p, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc, ref, exact, scale);
        memcpy(C, C0, sizeof(float) * (size_t)M * N);
        if (beta == 0.0f)
            for (int i = 0; i < M * N; i++) C[i] = NAN; // must not be read
        CHECK_OK(var->fn(cpu, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
        char what[160];
        snprintf(what, sizeof what, "%s %c%c M=%d N=%d K=%d alpha=%g beta=%g", var->name, ta ? 'T' : 'N',
                 tb ? 'T' : 'N', M, N, K, alpha, beta);
        const int bad = test_check_precision(what, p, K, C, ref, exact, scale, (size_t)M * N, &worst_rounded[p],
                                             &worst_format[p]);
        if (bad) test_failures++;
    }
    cases++;
    free(A), free(B), free(C0), free(C), free(ref), free(exact), free(scale);
}

static void check_validation(cnn_rng *rng) {
    const int dims[4] = {1, 7, 33, 300};
    int i = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++, i++)
                run_case(rng, dims[a], dims[b], dims[c], i & 1, (i >> 1) & 1, i % 3 == 0 ? 1.0f : -0.75f,
                         i % 3 == 0 ? 0.0f : i % 3 == 1 ? 1.0f : 0.5f);
    run_case(rng, 37, 512, 784, false, true, 1.0f, 0.0f); // the MLP's GEMMs at batch 37
    run_case(rng, 512, 784, 37, true, false, 1.0f, 0.0f);
    run_case(rng, 37, 10, 512, false, true, 1.0f, 0.0f);
    run_case(rng, 37, 512, 10, false, false, 1.0f, 0.0f);
    run_case(rng, 10, 512, 37, true, false, 1.0f, 1.0f);
    run_case(rng, 13, 17, 601, true, true, 2.5f, 0.5f); // K over two depth blocks, odd
}

// The AVX-512 BF16 and the scalar kernels: the same bits.
static void check_kernels(cnn_rng *rng) {
    const gemm_bf16_ukernel *k = gemm_bf16_kernel_of(cpu);
    const bool have = cnn_cpu_features_get()->avx512_bf16 && gemm_bf16_ukernel_avx512.kernel;
    printf("bf16 micro-kernel: %s (CPUID: AVX-512 BF16 %s)\n", k->name, cnn_cpu_features_get()->avx512_bf16 ? "yes" : "no");
    if (have && strcmp(cnn_cpu_ctx_of(cpu)->kernel->name, "avx512") == 0) CHECK(k == &gemm_bf16_ukernel_avx512);
    if (!have) {
        printf("this CPU has no AVX-512 BF16: the kernel agreement check needs one (the scalar kernel was validated above)\n");
        return;
    }
    const int shapes[][3] = {{12, 32, 2}, {13, 33, 3}, {128, 512, 784}, {37, 10, 601}, {5, 700, 257}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
        test_fill_uniform(rng, A, (size_t)M * K, -2.0f, 2.0f);
        test_fill_uniform(rng, B, (size_t)K * N, -2.0f, 2.0f);
        test_fill_uniform(rng, C1, (size_t)M * N, -1.0f, 1.0f);
        memcpy(C2, C1, sizeof(float) * M * N);
        CHECK_OK(cnn_cpu_backend_set_kernel(cpu, "avx512")); // whatever CNN_CPU_KERNEL says
        CHECK(gemm_bf16_kernel_of(cpu) == &gemm_bf16_ukernel_avx512);
        CHECK_OK(gemm_packed_bf16(cpu, false, true, M, N, K, 0.5f, A, K, B, K, 0.25f, C1, N));
        CHECK_OK(cnn_cpu_backend_set_kernel(cpu, "scalar"));
        CHECK(gemm_bf16_kernel_of(cpu) == &gemm_bf16_ukernel_scalar);
        CHECK_OK(gemm_packed_bf16(cpu, false, true, M, N, K, 0.5f, A, K, B, K, 0.25f, C2, N));
        int differ = 0;
        for (int e = 0; e < M * N; e++) differ += memcmp(&C1[e], &C2[e], 4) != 0;
        if (differ) {
            fprintf(stderr, "bf16 kernels disagree on %d of %d elements at M=%d N=%d K=%d\n", differ, M * N, M, N, K);
            test_failures++;
        }
        free(A), free(B), free(C1), free(C2);
    }
    CHECK_OK(cnn_cpu_backend_set_kernel(cpu, NULL));
    printf("avx512bf16 and scalar bf16 kernels: identical bits on %zu shapes\n", sizeof shapes / sizeof shapes[0]);
}

static void check_threads(cnn_rng *rng) {
    const int M = 301, N = 517, K = 403;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    test_fill_uniform(rng, A, (size_t)M * K, -1.0f, 1.0f);
    test_fill_uniform(rng, B, (size_t)K * N, -1.0f, 1.0f);
    cnn_backend *one = NULL, *two = NULL;
    CHECK_OK(cnn_cpu_backend_create(1, &one));
    CHECK_OK(cnn_cpu_backend_create(2, &two));
    if (one && two) {
        const char *names[] = {"packed-bf16", "packed-tf32"};
        for (int i = 0; i < 2; i++) {
            const cnn_gemm_variant *v = cnn_backend_find_gemm(one, names[i]);
            CHECK(v != NULL);
            if (!v) continue;
            CHECK_OK(v->fn(one, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N));
            CHECK_OK(v->fn(two, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N));
            CHECK(memcmp(C1, C2, sizeof(float) * M * N) == 0);
        }
    }
    cnn_backend_destroy(one);
    cnn_backend_destroy(two);
    free(A), free(B), free(C1), free(C2);
}

static void check_selection(void) {
    cnn_backend *be = NULL;
    CHECK_OK(cnn_backend_create("cpu", NULL, 1, 0, &be));
    if (!be) return;
    CHECK_OK(cnn_backend_select_precision(be, NULL, CNN_PRECISION_BF16));
    CHECK(strcmp(be->gemm->name, "packed-bf16") == 0 && be->gemm->precision == CNN_PRECISION_BF16);
    CHECK_OK(cnn_backend_select_precision(be, NULL, CNN_PRECISION_TF32));
    CHECK(strcmp(be->gemm->name, "packed-tf32") == 0);
    CHECK_OK(cnn_backend_select_precision(be, NULL, CNN_PRECISION_FP32));
    CHECK(strcmp(be->gemm->name, "packed") == 0);
    CHECK_OK(cnn_backend_select_precision(be, "naive", CNN_PRECISION_FP32));
    CHECK(cnn_backend_select_precision(be, "packed", CNN_PRECISION_BF16) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "computes in fp32") && strstr(cnn_last_error(), "packed-bf16"));
    CHECK(cnn_backend_select_precision(be, "packed-bf16", CNN_PRECISION_FP32) == CNN_ERR_INVALID_ARG);
    CHECK(cnn_backend_select_precision(be, "nope", CNN_PRECISION_BF16) == CNN_ERR_INVALID_ARG);
    CHECK(strstr(cnn_last_error(), "unknown GEMM"));
    CHECK(strcmp(be->gemm->name, "naive") == 0); // a refused choice changes nothing
    cnn_backend_destroy(be);
}

int main(void) {
    failures_at_start = test_failures;
    check_rounding();
    CHECK_OK(cnn_cpu_backend_create(2, &cpu));
    if (!cpu) return test_finish("test_gemm_precision");
    cnn_rng rng;
    cnn_rng_seed(&rng, 12);
    check_validation(&rng);
    printf("%d cases; largest error as a fraction of the tolerance (rounded-input reference, format reference):\n",
           cases);
    for (int p = 1; p < CNN_PRECISION_COUNT; p++)
        printf("  %s  %.4f  %.4f\n", cnn_precision_name(p), worst_rounded[p], worst_format[p]);
    check_kernels(&rng);
    check_threads(&rng);
    check_selection();
    cnn_backend_destroy(cpu);
    return test_finish("test_gemm_precision");
}
