// A fake libnvidia-ml for test_energy_nvml: the NVML entry points the meter
// loads, with deterministic values. FAKE_NVML_MODE selects the behaviour:
//   counter (default): nvmlDeviceGetTotalEnergyConsumption starts at 1e6 mJ
//                      and grows by 250 mJ per call
//   power:             no energy counter (NOT_SUPPORTED); 150 W from nvmlDeviceGetPowerUsage
//   initfail:          nvmlInit_v2 fails
// Knobs that reproduce a real GPU (the H200 measured in BENCHMARKING.md):
//   FAKE_NVML_POWER_W=200     a constant true power; with FAKE_NVML_PERIOD_MS the counter publishes
//   FAKE_NVML_PERIOD_MS=100   the true energy every that many ms (value constant in between)
//   FAKE_NVML_READ_MS=4       each counter read blocks that long (sleeping: no CPU)
//   FAKE_NVML_POWER_READ_US=11 each power read blocks that long
// The true energy at CLOCK_MONOTONIC time t is POWER_W x (t - t_init), t_init = nvmlInit_v2's time,
// exported as fake_nvml_true_mj(t) for the tests.
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#define OK 0
#define ERROR_UNINITIALIZED 1
#define ERROR_INVALID_ARGUMENT 2
#define ERROR_NOT_SUPPORTED 3

static int initialised;
static unsigned long long energy_mj = 1000000ULL;
static int device_tag;
static double t_init;

static double knob(const char *name) {
    const char *v = getenv(name);
    return v && *v ? atof(v) : 0.0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void block_s(double sec) {
    if (sec <= 0) return;
    struct timespec ts = {(time_t)sec, (long)((sec - floor(sec)) * 1e9)};
    nanosleep(&ts, NULL);
}

// The true energy (mJ since init) at monotonic time t, for a test to compare windows with.
double fake_nvml_true_mj(double t) { return knob("FAKE_NVML_POWER_W") * (t - t_init) * 1e3; }

static const char *mode(void) {
    const char *m = getenv("FAKE_NVML_MODE");
    return m ? m : "counter";
}

int nvmlInit_v2(void) {
    if (!strcmp(mode(), "initfail")) return ERROR_UNINITIALIZED;
    initialised = 1;
    t_init = now_s();
    return OK;
}

int nvmlShutdown(void) {
    initialised = 0;
    return OK;
}

const char *nvmlErrorString(int r) {
    switch (r) {
    case OK: return "Success";
    case ERROR_UNINITIALIZED: return "Uninitialized";
    case ERROR_NOT_SUPPORTED: return "Not Supported";
    default: return "Invalid Argument";
    }
}

int nvmlDeviceGetCount_v2(unsigned *count) {
    if (!initialised) return ERROR_UNINITIALIZED;
    *count = 1;
    return OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned index, void **dev) {
    if (!initialised) return ERROR_UNINITIALIZED;
    if (index != 0) return ERROR_INVALID_ARGUMENT;
    *dev = &device_tag;
    return OK;
}

int nvmlDeviceGetName(void *dev, char *name, unsigned len) {
    if (dev != &device_tag || len < 2) return ERROR_INVALID_ARGUMENT;
    strncpy(name, "Fake GPU 80GB", len - 1);
    name[len - 1] = '\0';
    return OK;
}

int nvmlSystemGetDriverVersion(char *buf, unsigned len) {
    if (len < 2) return ERROR_INVALID_ARGUMENT;
    strncpy(buf, "999.99", len - 1);
    buf[len - 1] = '\0';
    return OK;
}

int nvmlDeviceGetTotalEnergyConsumption(void *dev, unsigned long long *mj) {
    if (dev != &device_tag) return ERROR_INVALID_ARGUMENT;
    if (strcmp(mode(), "counter") != 0) return ERROR_NOT_SUPPORTED;
    double period = 1e-3 * knob("FAKE_NVML_PERIOD_MS");
    block_s(1e-3 * knob("FAKE_NVML_READ_MS") / 2);
    if (period > 0) { // published at t_init + k * period: the true energy at that instant
        double t = now_s();
        *mj = 1000000ULL + (unsigned long long)llround(fake_nvml_true_mj(t_init + floor((t - t_init) / period) * period));
    } else {
        *mj = energy_mj;
        energy_mj += 250;
    }
    block_s(1e-3 * knob("FAKE_NVML_READ_MS") / 2);
    return OK;
}

int nvmlDeviceGetPowerUsage(void *dev, unsigned *mw) {
    if (dev != &device_tag) return ERROR_INVALID_ARGUMENT;
    block_s(1e-6 * knob("FAKE_NVML_POWER_READ_US"));
    // FAKE_NVML_OPEN_FILE: once that file exists (a test creates it when "the device opens"), the power is
    // FAKE_NVML_OPEN_POWER_W instead (access() is safe while the test's main thread runs).
    const char *open_file = getenv("FAKE_NVML_OPEN_FILE");
    if (open_file && *open_file && access(open_file, F_OK) == 0) {
        *mw = (unsigned)llround(1e3 * knob("FAKE_NVML_OPEN_POWER_W"));
        return OK;
    }
    *mw = knob("FAKE_NVML_POWER_W") > 0 ? (unsigned)llround(1e3 * knob("FAKE_NVML_POWER_W")) : 150000;
    return OK;
}
