// NCCL loaded at run time (backends/cuda/nccl_runtime.h): a library that is not there gives NULL and a reason
// naming what to do (and is not remembered); the real one, found without CNN_NCCL_LIB where this machine has
// NCCL (the CUDA toolkit's), gives every entry point. No GPU is needed: nothing is called but an error string.
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/nccl_runtime.h"
#include "test_util.h"

int main(void) {
    char why[512] = "";
    setenv("CNN_NCCL_LIB", "/nonexistent/libnccl.so.2", 1);
    CHECK(cnn_nccl_api_load(why, sizeof why) == NULL);
    CHECK(strstr(why, "NCCL could not be loaded") && strstr(why, "CNN_NCCL_LIB") && strstr(why, "--backend=cpu"));
    CHECK(cnn_nccl_api_loaded() == NULL);
    unsetenv("CNN_NCCL_LIB");
    const cnn_nccl_api *api = cnn_nccl_api_load(why, sizeof why);
    if (!api) {
        printf("skipped: no NCCL on this machine (%s)\n", why);
        return 77;
    }
    CHECK(api->GetErrorString && api->GetLastError && api->GetUniqueId && api->CommInitRank && api->CommDestroy &&
          api->AllReduce);
    const char *s = api->GetErrorString(ncclSuccess);
    CHECK(s && *s);
    CHECK(cnn_nccl_api_loaded() == api && cnn_nccl_api_load(why, sizeof why) == api); // loaded once
    return test_finish("test_nccl_runtime");
}
