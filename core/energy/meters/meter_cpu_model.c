// The cpu-model meter (provenance: estimated): CPU power from the TDP share
// of the CPUs this machine has and the process's measured CPU utilisation.
//
//   P(t) = idle_w + (tdp_w - idle_w) * u(t),   u = (process CPU time per second) / n_cpus
//
// Integrated exactly over any interval, because the process CPU time is a
// cumulative counter:
//
//   E(t1) - E(t0) = idle_w * (t1 - t0) + (tdp_w - idle_w) * (cpu(t1) - cpu(t0)) / n_cpus
//
// The process CPU time is the kernel's per-process accounting (utime +
// stime in /proc/self/stat), read with CLOCK_PROCESS_CPUTIME_ID at
// nanosecond resolution instead of /proc's 10 ms ticks. DRAM, the rest of
// the machine and other processes are not in the model; docs/ENERGY.md
// lists its assumptions.
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/energy/meters/meter.h"

typedef struct {
    double tdp_w, idle_w;
    int n_cpus;
    double t0, cpu0;
} cpu_model_ctx;

double cnn_process_cpu_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static cnn_status cpu_model_read(cnn_meter *m, double *value) {
    const cpu_model_ctx *c = m->ctx;
    double dt = cnn_now_s() - c->t0;
    double dcpu = cnn_process_cpu_s() - c->cpu0;
    // u cannot exceed 1 on average: cap the busy part at n_cpus * dt.
    double busy = dcpu / c->n_cpus;
    if (busy > dt) busy = dt;
    if (busy < 0) busy = 0;
    *value = c->idle_w * dt + (c->tdp_w - c->idle_w) * busy;
    return CNN_OK;
}

static void cpu_model_close(cnn_meter *m) { free(m->ctx); }

cnn_status cnn_meter_cpu_model_open(double tdp_w, double idle_w, int n_cpus, const char *cpu_name, cnn_meter *out) {
    if (!(tdp_w > 0) || !(idle_w >= 0) || idle_w > tdp_w || n_cpus < 1)
        return cnn_error(CNN_ERR_INVALID_ARG,
                         "cpu-model: need --cpu-tdp > 0 and 0 <= --cpu-idle-w <= --cpu-tdp (got %g W and %g W)",
                         tdp_w, idle_w);
    cpu_model_ctx *c = malloc(sizeof *c);
    if (!c) return cnn_error(CNN_ERR_NOMEM, "out of memory opening the cpu-model meter");
    c->tdp_w = tdp_w;
    c->idle_w = idle_w;
    c->n_cpus = n_cpus;
    c->t0 = cnn_now_s();
    c->cpu0 = cnn_process_cpu_s();
    cnn_meter m = {0};
    snprintf(m.info.name, sizeof m.info.name, "cpu-model");
    snprintf(m.info.component, sizeof m.info.component, "cpu");
    snprintf(m.info.device, sizeof m.info.device, "%s", cpu_name && *cpu_name ? cpu_name : "CPU");
    snprintf(m.info.method, sizeof m.info.method,
             "estimated: %.3g W idle + (%.3g - %.3g) W x process CPU utilisation of %d logical CPUs", idle_w, tdp_w,
             idle_w, n_cpus);
    m.info.prov = CNN_PROV_ESTIMATED;
    m.info.resolution_j = 0.0;
    m.info.update_period_s = 0.01; // other threads' CPU time is brought up to date at scheduler ticks
    m.reads_power = 0;
    m.read = cpu_model_read;
    m.close = cpu_model_close;
    m.ctx = c;
    *out = m;
    return CNN_OK;
}
