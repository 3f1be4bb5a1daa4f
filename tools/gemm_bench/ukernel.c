// gemm-bench --ukernel: the packed GEMM's micro-kernels alone, on one
// thread, against the one-thread FMA peak. One sliver of A (mr x kc) stays
// in L1 while a block of B slivers (kc x 320, 480 KiB for kc = 384) streams
// from L2, exactly as inside gemm_packed, but without packing, edges or
// threads: what is left of the peak here is the kernel's own cost.
#include <stdio.h>
#include <stdlib.h>

#include "backends/cpu/gemm.h"
#include "bench.h"
#include "core/clock.h"

int ukernel_report(FILE *out, int repeat) {
    const char *isa;
    const double peak = probe_fma_peak(1, &isa);
    const gemm_ukernel *list[4];
    const int n = gemm_packed_kernels_supported(list, 4);
    fprintf(out, "one-thread FMA peak %.1f GFLOP/s (%s probe)\n\n", peak, isa);
    fprintf(out, "%-8s %6s %5s %6s %9s %6s\n", "kernel", "tile", "kc", "B KiB", "GFLOP/s", "%peak");
    for (int i = 0; i < n; i++) {
        const gemm_ukernel *uks[2] = {list[i], list[i]->small_k};
        for (int v = 0; v < 2 && uks[v]; v++) {
            const gemm_ukernel *uk = uks[v];
            // The main kernel at its full depth; the small-K one at the largest K it is used for.
            const int kc = v == 0 ? uk->kc : list[i]->small_k_max, mr = uk->mr, nr = uk->nr;
            const int nb = 320 / nr > 0 ? 320 / nr : 1;
            float *A = aligned_alloc(64, sizeof(float) * mr * kc), *B = aligned_alloc(64, sizeof(float) * nr * kc * nb);
            float *C = aligned_alloc(64, sizeof(float) * mr * nr * nb);
            if (!A || !B || !C) {
                free(A), free(B), free(C);
                fprintf(stderr, "gemm-bench: out of memory for --ukernel\n");
                return 1;
            }
            for (int j = 0; j < mr * kc; j++) A[j] = 1.0f / (float)(j + 1);
            for (int j = 0; j < nr * kc * nb; j++) B[j] = 1.0f / (float)(j % 97 + 1);
            double best = 1e30;
            for (int r = 0; r < 50 * repeat; r++) { // best of many: the kernel's speed, not the machine's load
                double t0 = cnn_now_s();
                for (int s = 0; s < nb; s++)
                    uk->kernel(kc, A, 1, mr, B + (size_t)s * nr * kc, nr, 1.0f, 1.0f, C + s * nr, nr * nb, 1, mr, nr);
                double t = cnn_now_s() - t0;
                if (t < best) best = t;
            }
            const double gflops = 2.0 * mr * nr * kc * nb / best / 1e9;
            char tile[16];
            snprintf(tile, sizeof tile, "%dx%d", mr, nr);
            fprintf(out, "%-8s %6s %5d %6zu %9.1f %6.1f\n", uk->name, tile, kc, sizeof(float) * nr * kc * nb / 1024,
                    gflops, 100.0 * gflops / peak);
            free(A), free(B), free(C);
        }
    }
    return 0;
}
