// Where explain's roofline figures come from, in order: the command line,
// the cache of an earlier probe, a probe now, and otherwise a stated
// default that says it is another machine's (explain_roof.h).
#include <string.h>

#include "backends/cpu/gemm.h"
#include "core/backend.h"
#include "explain_probe.h"
#include "explain_roof.h"
#include "explain_roof_cache.h"

// The figures used when nothing is measured: another machine's, said so.
static void stated_default(explain_roof *r, const char *why) {
    r->peak_gflops = 140.0;
    r->n_levels = 1;
    memset(&r->level[0], 0, sizeof r->level[0]);
    snprintf(r->level[0].name, sizeof r->level[0].name, "DRAM");
    r->level[0].gbs = 12.2;
    r->stated_default = true;
    r->peak_kind = r->bw_kind = "stated default";
    snprintf(r->peak_source, sizeof r->peak_source,
             "gemm-bench's peak and copy bandwidth on the 2-vCPU development VM (Xeon 2.0 GHz, AVX-512), not this "
             "machine: %s",
             why);
    snprintf(r->bw_source, sizeof r->bw_source, "as the peak");
}

// CUDA: the data sheet's H100 SXM figures (explain does not open the GPU).
static void data_sheet(explain_roof *r) {
    r->peak_gflops = 67000.0;
    r->n_levels = 1;
    memset(&r->level[0], 0, sizeof r->level[0]);
    snprintf(r->level[0].name, sizeof r->level[0].name, "HBM");
    r->level[0].gbs = 3000.0;
    r->peak_kind = r->bw_kind = "data sheet";
    snprintf(r->peak_source, sizeof r->peak_source,
             "H100 SXM FP32 non-tensor (an H200's is the same); explain does not open the GPU");
    snprintf(r->bw_source, sizeof r->bw_source,
             "H100 SXM HBM3 as gemm-bench's table (an H200's HBM3e: 4800): maybe not this GPU's");
}

// The CPU's figures: cached, else measured now (and cached), else the stated default.
static void cpu_figures(const char *gemm, int threads, explain_roof_mode mode, explain_roof *r, FILE *log) {
    if (mode == ROOF_NO_PROBE) {
        stated_default(r, "--no-probe; run without it to measure, or give --peak-gflops and --bandwidth-gbs");
        return;
    }
    cnn_backend *be = NULL;
    if (cnn_backend_create("cpu", gemm, threads, 0, &be) != CNN_OK) {
        stated_default(r, "the CPU backend could not be created to measure");
        if (log) fprintf(log, "cnn-train explain: note: no probe: %s\n", cnn_last_error());
        return;
    }
    const char *gname = be->gemm->name, *kernel = cnn_cpu_ctx_of(be)->kernel->name;
    r->threads = cnn_cpu_ctx_of(be)->threads;
    explain_read_caches("/sys/devices/system/cpu", r->threads, r);
    char key[1024];
    explain_roof_cache_key(gname, kernel, r->threads, r, key, sizeof key);
    const bool have_path = explain_roof_cache_path(gname, r->threads, r->cache_file, sizeof r->cache_file);
    if (!have_path) r->cache_file[0] = '\0';
    if (mode == ROOF_AUTO && have_path && explain_roof_cache_read(r->cache_file, key, r)) {
        r->peak_kind = r->bw_kind = "cached";
        cnn_backend_destroy(be);
        return;
    }
    cnn_status s = explain_probe_cpu(be, r);
    cnn_backend_destroy(be);
    if (s != CNN_OK) {
        if (log) fprintf(log, "cnn-train explain: note: the probe failed: %s\n", cnn_last_error());
        stated_default(r, "the probe of this machine failed");
        return;
    }
    if (have_path && !r->busy && explain_roof_cache_write(r->cache_file, key, r) != CNN_OK && log)
        fprintf(log, "cnn-train explain: note: the roofline probe could not be cached (%s); the next run measures again\n",
                cnn_last_error());
    r->peak_kind = r->bw_kind = "measured now";
}

void explain_roof_get(const char *backend, const char *gemm, int threads, explain_roof_mode mode, double peak_given,
                      double bw_given, explain_roof *r, FILE *log) {
    memset(r, 0, sizeof *r);
    if (strcmp(backend, "cpu") != 0) data_sheet(r);
    else if (!(peak_given > 0 && bw_given > 0)) cpu_figures(gemm, threads, mode, r, log);
    else r->n_levels = 1;
    if (peak_given > 0) {
        r->peak_gflops = peak_given;
        r->peak_kind = "given";
        snprintf(r->peak_source, sizeof r->peak_source, "--peak-gflops");
    }
    if (bw_given > 0) {
        r->n_levels = 1;
        memset(&r->level[0], 0, sizeof r->level[0]);
        snprintf(r->level[0].name, sizeof r->level[0].name, "memory");
        r->level[0].gbs = bw_given;
        r->bw_kind = "given";
        snprintf(r->bw_source, sizeof r->bw_source, "--bandwidth-gbs: one bandwidth for every op, no cache levels");
    }
    r->stated_default = !strcmp(r->peak_kind, "stated default") || !strcmp(r->bw_kind, "stated default");
}
