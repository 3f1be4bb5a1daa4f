// A fake libnvidia-ml for test_energy_nvml: the NVML entry points the meter
// loads, with deterministic values. FAKE_NVML_MODE selects the behaviour:
//   counter (default): nvmlDeviceGetTotalEnergyConsumption starts at 1e6 mJ
//                      and grows by 250 mJ per call
//   power:             no energy counter (NOT_SUPPORTED); 150 W from nvmlDeviceGetPowerUsage
//   initfail:          nvmlInit_v2 fails
#include <stdlib.h>
#include <string.h>

#define OK 0
#define ERROR_UNINITIALIZED 1
#define ERROR_INVALID_ARGUMENT 2
#define ERROR_NOT_SUPPORTED 3

static int initialised;
static unsigned long long energy_mj = 1000000ULL;
static int device_tag;

static const char *mode(void) {
    const char *m = getenv("FAKE_NVML_MODE");
    return m ? m : "counter";
}

int nvmlInit_v2(void) {
    if (!strcmp(mode(), "initfail")) return ERROR_UNINITIALIZED;
    initialised = 1;
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
    *mj = energy_mj;
    energy_mj += 250;
    return OK;
}

int nvmlDeviceGetPowerUsage(void *dev, unsigned *mw) {
    if (dev != &device_tag) return ERROR_INVALID_ARGUMENT;
    *mw = 150000;
    return OK;
}
