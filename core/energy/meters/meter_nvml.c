// The NVML meter: GPU energy from libnvidia-ml, loaded at run time with
// dlopen so that binaries run on machines without a GPU or driver.
//
// Preferred: nvmlDeviceGetTotalEnergyConsumption, the cumulative energy in
// millijoules since the driver loaded (Volta and newer) — provenance
// measured-counter. Otherwise nvmlDeviceGetPowerUsage (milliwatts), which
// the sampler integrates — provenance measured-power. Both values are
// refreshed by the driver about every 100 ms (docs/ENERGY.md).
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/energy/meters/meter.h"

// The few NVML declarations we use (see NVIDIA's nvml.h; the ABI is stable).
typedef int nvml_return;   // nvmlReturn_t: 0 is NVML_SUCCESS
typedef void *nvml_device; // nvmlDevice_t
#define NVML_OK 0

static struct {
    void *lib;
    int refs;
    nvml_return (*init)(void);
    nvml_return (*shutdown)(void);
    const char *(*error_string)(nvml_return);
    nvml_return (*count)(unsigned *);
    nvml_return (*handle)(unsigned, nvml_device *);
    nvml_return (*name)(nvml_device, char *, unsigned);
    nvml_return (*driver)(char *, unsigned);
    nvml_return (*energy)(nvml_device, unsigned long long *);
    nvml_return (*power)(nvml_device, unsigned *);
} nv;

typedef struct {
    nvml_device dev;
    unsigned long long mj0; // the counter when opened
    int counter;            // 1: energy counter; 0: power
} nvml_ctx;

static const char *nv_err(nvml_return r) {
    const char *s = nv.error_string ? nv.error_string(r) : NULL;
    return s ? s : "unknown NVML error";
}

static void nv_unload(void) {
    if (nv.lib) {
        if (nv.shutdown) nv.shutdown();
        dlclose(nv.lib);
    }
    memset(&nv, 0, sizeof nv);
}

// Loads and initialises NVML (reference counted). Fills note on failure.
static int nv_load(char *note, size_t note_len) {
    if (nv.lib) {
        nv.refs++;
        return 1;
    }
    const char *name = getenv("CNN_NVML_LIB");
    if (!name || !*name) name = "libnvidia-ml.so.1";
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(note, note_len, "NVML: %s could not be loaded (%s): GPU energy is not measured (no NVIDIA driver?)",
                 name, e ? e : "not found");
        return 0;
    }
    nv.lib = lib;
#define NV_SYM(field, sym)                                                                                             \
    do {                                                                                                               \
        void *p_ = dlsym(lib, sym);                                                                                    \
        memcpy(&nv.field, &p_, sizeof p_);                                                                             \
    } while (0)
    NV_SYM(init, "nvmlInit_v2");
    NV_SYM(shutdown, "nvmlShutdown");
    NV_SYM(error_string, "nvmlErrorString");
    NV_SYM(count, "nvmlDeviceGetCount_v2");
    NV_SYM(handle, "nvmlDeviceGetHandleByIndex_v2");
    NV_SYM(name, "nvmlDeviceGetName");
    NV_SYM(driver, "nvmlSystemGetDriverVersion");
    NV_SYM(energy, "nvmlDeviceGetTotalEnergyConsumption");
    NV_SYM(power, "nvmlDeviceGetPowerUsage");
#undef NV_SYM
    if (!nv.init || !nv.shutdown || !nv.count || !nv.handle || !nv.name || (!nv.energy && !nv.power)) {
        snprintf(note, note_len, "NVML: %s lacks the functions we need (nvmlInit_v2, ...): too old a driver?", name);
        nv.shutdown = NULL;
        nv_unload();
        return 0;
    }
    nvml_return r = nv.init();
    if (r != NVML_OK) {
        snprintf(note, note_len, "NVML: nvmlInit failed (%s): GPU energy is not measured", nv_err(r));
        nv.shutdown = NULL;
        nv_unload();
        return 0;
    }
    nv.refs = 1;
    return 1;
}

static void nv_release(void) {
    if (nv.lib && --nv.refs <= 0) nv_unload();
}

void cnn_nvml_driver_version(char *buf, size_t len) {
    buf[0] = '\0';
    if (nv.lib && nv.driver && nv.driver(buf, (unsigned)len) != NVML_OK) buf[0] = '\0';
}

static cnn_status nvml_read(cnn_meter *m, double *value) {
    nvml_ctx *c = m->ctx;
    if (c->counter) {
        unsigned long long mj;
        nvml_return r = nv.energy(c->dev, &mj);
        if (r != NVML_OK) return cnn_error(CNN_ERR_DEVICE, "NVML: reading the energy counter failed: %s", nv_err(r));
        *value = 1e-3 * (double)(mj - c->mj0);
    } else {
        unsigned mw;
        nvml_return r = nv.power(c->dev, &mw);
        if (r != NVML_OK) return cnn_error(CNN_ERR_DEVICE, "NVML: reading the power failed: %s", nv_err(r));
        *value = 1e-3 * (double)mw;
    }
    return CNN_OK;
}

static void nvml_close(cnn_meter *m) {
    free(m->ctx);
    nv_release();
}

cnn_status cnn_meter_nvml_open(int index, cnn_meter *out, char *note, size_t note_len) {
    note[0] = '\0';
    if (!nv_load(note, note_len)) return cnn_error(CNN_ERR_UNSUPPORTED, "%s", note);
    unsigned count = 0;
    nvml_return r = nv.count(&count);
    nvml_device dev = NULL;
    if (r == NVML_OK && (index < 0 || (unsigned)index >= count)) {
        snprintf(note, note_len, "NVML: no GPU %d (NVML sees %u): GPU energy is not measured", index, count);
        nv_release();
        return cnn_error(CNN_ERR_UNSUPPORTED, "%s", note);
    }
    if (r == NVML_OK) r = nv.handle((unsigned)index, &dev);
    if (r != NVML_OK) {
        snprintf(note, note_len, "NVML: cannot open GPU %d (%s): GPU energy is not measured", index, nv_err(r));
        nv_release();
        return cnn_error(CNN_ERR_UNSUPPORTED, "%s", note);
    }
    nvml_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        nv_release();
        return cnn_error(CNN_ERR_NOMEM, "out of memory opening the NVML meter");
    }
    c->dev = dev;
    if (nv.energy && nv.energy(dev, &c->mj0) == NVML_OK) c->counter = 1;
    else {
        unsigned mw;
        if (!nv.power || (r = nv.power(dev, &mw)) != NVML_OK) {
            snprintf(note, note_len, "NVML: GPU %d reports neither its energy nor its power (%s)", index,
                     nv.power ? nv_err(r) : "no nvmlDeviceGetPowerUsage");
            free(c);
            nv_release();
            return cnn_error(CNN_ERR_UNSUPPORTED, "%s", note);
        }
    }
    cnn_meter m;
    memset(&m, 0, sizeof m);
    snprintf(m.info.name, sizeof m.info.name, "nvml:%d", index);
    snprintf(m.info.component, sizeof m.info.component, "gpu");
    char gname[96] = "";
    if (nv.name(dev, gname, sizeof gname) != NVML_OK) snprintf(gname, sizeof gname, "NVIDIA GPU %d", index);
    snprintf(m.info.device, sizeof m.info.device, "%s", gname);
    if (c->counter) {
        snprintf(m.info.method, sizeof m.info.method,
                 "NVML nvmlDeviceGetTotalEnergyConsumption (cumulative mJ counter)");
        m.info.prov = CNN_PROV_MEASURED_COUNTER;
        m.info.resolution_j = 1e-3;
        m.reads_power = 0;
    } else {
        snprintf(m.info.method, sizeof m.info.method,
                 "NVML nvmlDeviceGetPowerUsage (mW, averaged by the driver) integrated over the samples (trapezoid)");
        m.info.prov = CNN_PROV_MEASURED_POWER;
        m.info.resolution_j = 0.0;
        m.reads_power = 1;
    }
    m.info.update_period_s = 0.1; // the driver refreshes both values about every 100 ms
    m.info.published = c->counter; // the counter is read stale between updates: the sampler polls for them
    m.read = nvml_read;
    m.close = nvml_close;
    m.ctx = c;
    *out = m;
    return CNN_OK;
}
