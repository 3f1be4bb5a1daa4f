#include "device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/gemm.h"
#include "backends/cuda/cuda_devices.h"

int cli_parse_device(const char *spec, const char **backend, int *index) {
    if (!spec) return -1;
    if (!strcmp(spec, "cpu") || !strcmp(spec, "cuda")) {
        *backend = !strcmp(spec, "cpu") ? "cpu" : "cuda";
        *index = -1;
        return 0;
    }
    if (strncmp(spec, "cuda:", 5) != 0 || spec[5] < '0' || spec[5] > '9') return -1;
    char *end;
    errno = 0;
    long n = strtol(spec + 5, &end, 10);
    if (errno || *end || n < 0 || n > 63) return -1;
    *backend = "cuda";
    *index = (int)n;
    return 0;
}

static int device_error(const char *msg, int a, int b) {
    fprintf(stderr, "cnn-train: ");
    fprintf(stderr, msg, a, b);
    fprintf(stderr, " (see cnn-train --help)\n");
    return 2;
}

int cli_resolve_device(cli_options *o) {
    char why[160] = "";
    if (!o->backend) {
        // no --backend/--device: a GPU ordinal alone (--gpu N) asks for cuda
        if (o->device_index >= 0) {
            o->backend = "cuda";
            snprintf(o->backend_why, sizeof o->backend_why, "chosen by --gpu %d", o->device_index);
        } else if (cnn_cuda_device_count(why, sizeof why) > 0) {
            o->backend = "cuda";
            snprintf(o->backend_why, sizeof o->backend_why, "default: a GPU is usable and the CUDA backend is built in");
        } else {
            o->backend = "cpu";
            snprintf(o->backend_why, sizeof o->backend_why, "default: %s", why);
        }
    } else {
        snprintf(o->backend_why, sizeof o->backend_why, "chosen with --%s", o->backend_flag ? o->backend_flag : "backend");
    }
    if (!strcmp(o->backend, "cpu")) {
        if (o->device_index >= 0)
            return device_error("--gpu %d (or cuda:%d) selects a GPU, but the backend is cpu: drop it or use --backend=cuda",
                                o->device_index, o->device_index);
        return 0;
    }
    if (o->device_index < 0) o->device_index = 0;
    int count = cnn_cuda_device_count(why, sizeof why);
    if (count > 0 && o->device_index >= count)
        return device_error("--gpu %d: this machine has %d usable GPU(s), numbered from 0", o->device_index, count);
    return 0;
}

static void print_names(FILE *f, const char *backend, const cnn_gemm_variant *v, int n, const char *dflt) {
    fprintf(f, "                         %s:", backend);
    int col = 26 + (int)strlen(backend) + 1;
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(v[i].name) + 2;
        if (col + len > 100) {
            fprintf(f, "\n                          ");
            col = 26;
        }
        fprintf(f, " %s%s", v[i].name, i + 1 < n ? "," : "");
        col += len;
    }
    fprintf(f, " [%s]\n", dflt);
}

void cli_print_gemm_names(FILE *f) {
    print_names(f, "cpu", cnn_cpu_gemm_variants, cnn_cpu_gemm_variant_count, cnn_cpu_gemm_default);
    if (cnn_cuda_gemm_variant_count > 0)
        print_names(f, "cuda", cnn_cuda_gemm_variants, cnn_cuda_gemm_variant_count, cnn_cuda_gemm_default);
    else
        fprintf(f, "                         cuda: not built into this binary (no CUDA toolkit when it was configured)\n");
}

int cli_require_gpu(const cli_options *o) {
    char why[160] = "";
    if (strcmp(o->backend, "cuda") != 0 || cnn_cuda_device_count(why, sizeof why) > 0) return 0;
    fprintf(stderr, "cnn-train: --backend=cuda: %s: run on a machine with an NVIDIA GPU and driver, or use "
                    "--backend=cpu\n", why[0] ? why : "no usable GPU");
    return 1;
}
