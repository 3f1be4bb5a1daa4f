// Helpers shared by the CUDA tests: create the CUDA backend or skip (exit
// 77, ctest's skip code) when there is no GPU or no CUDA build, copy buffers
// to and from the device, compare against float references.
#ifndef CNN_TEST_CUDA_COMMON_H
#define CNN_TEST_CUDA_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "test_util.h"

// The CUDA backend with the named GEMM (NULL: default); skips the test when
// no GPU is usable, fails it on any other error.
static inline cnn_backend *cuda_or_skip(const char *gemm) {
    cnn_backend *be = NULL;
    cnn_status s = cnn_backend_create("cuda", gemm, 0, 0, &be);
    if (s == CNN_ERR_UNSUPPORTED) {
        static char why[1024];
        snprintf(why, sizeof why, "this test needs a CUDA GPU: %s", cnn_last_error());
        test_skip(why);
    }
    if (s != CNN_OK) {
        fprintf(stderr, "creating the CUDA backend failed: %s: %s\n", cnn_status_name(s), cnn_last_error());
        exit(1);
    }
    return be;
}

// A device copy of bytes of host memory (NULL and a failed check on error).
static inline void *dev_copy_of(cnn_backend *be, const void *host, size_t bytes) {
    void *p = NULL;
    CHECK_OK(be->ops->alloc(be, bytes, &p));
    if (p && host) CHECK_OK(be->ops->upload(be, host, p, bytes));
    return p;
}

// got and want are (n) floats: |got - want| <= atol + rtol |want| everywhere.
static inline bool close_to_floats(const char *what, const float *got, const float *want, size_t n, double atol,
                                   double rtol) {
    double *w = (double *)malloc((n ? n : 1) * sizeof *w);
    for (size_t i = 0; i < n; i++) w[i] = want[i];
    bool ok = test_close(what, got, w, n, atol, rtol);
    free(w);
    return ok;
}

// got and want are (n) floats with the same bits.
static inline bool same_bits_floats(const char *what, const float *got, const float *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            fprintf(stderr, "  %s: element %zu of %zu differs: %.9g vs %.9g\n", what, i, n, (double)got[i],
                    (double)want[i]);
            return false;
        }
    return true;
}

#endif
