// The bytes a GEMM moves depend on the format of its inputs: bf16 inputs
// are 2 bytes, so A and B cost half; tf32 is read from FP32 storage (the
// tensor core rounds as it loads), so it moves as many bytes as FP32 and
// only the arithmetic is faster. C is FP32 in every precision (FP32 sums).
#include "explain_precision.h"

#include "core/precision.h"

void explain_precision_table(FILE *f, const cnn_cost *step) {
    fprintf(f, "\nthe step's GEMMs per precision (--precision; inputs in the format's storage, C in FP32, "
               "docs/precision.md):\n  %-6s %12s %12s %8s\n",
            "format", "GEMM MFLOP", "at least MB", "AI");
    for (int p = 0; p < CNN_PRECISION_COUNT; p++) {
        const double in = cnn_precision_input_bytes((cnn_precision)p);
        double flops = 0, bytes = 0;
        for (int i = 0; i < step->n_ops; i++) {
            const cnn_cost_op *op = &step->ops[i];
            if (!op->gemm) continue;
            const double M = op->M, N = op->N, K = op->K;
            flops += 2 * M * N * K;
            bytes += in * (M * K + K * N) + 4 * M * N;
        }
        fprintf(f, "  %-6s %12.4g %12.4g %8.2f\n", cnn_precision_name((cnn_precision)p), flops / 1e6, bytes / 1e6,
                bytes > 0 ? flops / bytes : 0);
    }
}
