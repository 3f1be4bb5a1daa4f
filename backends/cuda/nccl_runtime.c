// NCCL loaded at run time with dlopen (nccl_runtime.h).
#include "backends/cuda/nccl_runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cnn_nccl_api api;
static int loaded; // 1: api holds every entry point

// The address of NCCL's function `name` in lib into *slot; 0 with why when it is missing.
static int bind(void *lib, const char *name, void **slot, const char *path, char *why, size_t len) {
    *slot = dlsym(lib, name);
    if (*slot) return 1;
    snprintf(why, len, "%s has no %s: install NCCL 2.x (or point CNN_NCCL_LIB at it)", path, name);
    return 0;
}

// Opens NCCL: $CNN_NCCL_LIB alone when set, else libnccl.so.2 through the loader's path, beside the CUDA
// runtime this process uses, then in the CUDA toolkit's usual folders. *path: the one opened (or tried last).
static void *open_nccl(const char **path, char *err, size_t len) {
    static char beside[4096];
    const char *env = getenv("CNN_NCCL_LIB");
    const char *tries[4] = {env && *env ? env : "libnccl.so.2", NULL, NULL, NULL};
    Dl_info info;
    if (!(env && *env)) {
        if (dladdr((void *)cudaGetDeviceCount, &info) && info.dli_fname) {
            const char *slash = strrchr(info.dli_fname, '/');
            if (slash && (size_t)(slash - info.dli_fname) < sizeof beside - 16) {
                snprintf(beside, sizeof beside, "%.*s/libnccl.so.2", (int)(slash - info.dli_fname), info.dli_fname);
                tries[1] = beside;
            }
        }
        tries[2] = "/usr/local/cuda/lib64/libnccl.so.2";
        tries[3] = "/usr/local/cuda/lib/libnccl.so.2";
    }
    err[0] = '\0';
    for (int k = 0; k < 4; k++) {
        if (!tries[k]) continue;
        *path = tries[k];
        void *lib = dlopen(tries[k], RTLD_NOW | RTLD_LOCAL);
        if (lib) return lib;
        if (!err[0]) snprintf(err, len, "%s", dlerror()); // the first failure names the usual cause
    }
    return NULL;
}

const cnn_nccl_api *cnn_nccl_api_load(char *why, size_t len) {
    if (loaded) return &api;
    const char *path = "libnccl.so.2";
    char err[512];
    void *lib = open_nccl(&path, err, sizeof err);
    if (!lib) {
        snprintf(why, len, "NCCL could not be loaded (%s): install NCCL (Debian: libnccl2; it also comes with the "
                           "CUDA toolkit) or set CNN_NCCL_LIB, or use --backend=cpu",
                 err);
        return NULL;
    }
    cnn_nccl_api a;
    int ok = bind(lib, "ncclGetErrorString", (void **)&a.GetErrorString, path, why, len) &&
             bind(lib, "ncclGetLastError", (void **)&a.GetLastError, path, why, len) &&
             bind(lib, "ncclGetUniqueId", (void **)&a.GetUniqueId, path, why, len) &&
             bind(lib, "ncclCommInitRank", (void **)&a.CommInitRank, path, why, len) &&
             bind(lib, "ncclCommDestroy", (void **)&a.CommDestroy, path, why, len) &&
             bind(lib, "ncclAllReduce", (void **)&a.AllReduce, path, why, len);
    if (!ok) {
        dlclose(lib);
        return NULL;
    }
    api = a; // the library stays loaded for the process's life
    loaded = 1;
    return &api;
}

const cnn_nccl_api *cnn_nccl_api_loaded(void) { return loaded ? &api : NULL; }
