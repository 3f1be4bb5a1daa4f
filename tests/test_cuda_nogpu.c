// Without a GPU (or in a build without CUDA), asking for the CUDA backend
// fails cleanly: CNN_ERR_UNSUPPORTED, no backend, and one message that
// says what to do (use --backend=cpu). Skipped on a machine with a GPU.
#include <string.h>

#include "core/backend.h"
#include "test_util.h"

int main(void) {
    cnn_backend *be = (cnn_backend *)&be; // not NULL, so the test sees that creation clears it
    cnn_status s = cnn_backend_create("cuda", NULL, 0, 0, &be);
    if (s == CNN_OK) {
        printf("a CUDA GPU is present: %s\n", be->device_desc);
        cnn_backend_destroy(be);
        test_skip("a GPU is present, so the no-GPU path cannot be checked here");
    }
    printf("cnn_backend_create(\"cuda\") says: %s\n", cnn_last_error());
    CHECK(s == CNN_ERR_UNSUPPORTED);
    CHECK(be == NULL);
    CHECK(strstr(cnn_last_error(), "--backend=cpu") != NULL);
    CHECK(strchr(cnn_last_error(), '\n') == NULL); // one line
    // A second attempt says the same (no state left behind by the first).
    cnn_backend *again = NULL;
    CHECK(cnn_backend_create("cuda", "auto", 0, 0, &again) == CNN_ERR_UNSUPPORTED);
    CHECK(again == NULL);
    return test_finish("test_cuda_nogpu");
}
