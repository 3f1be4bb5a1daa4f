// libFuzzer harness for the IDX reader (datasets/idx.c): each input is
// written to a file and read under two names, one ending in .gz (the
// reader detects gzip from the content, and refuses a .gz name on raw
// bytes), as images, labels and either. Built with clang's
// -fsanitize=fuzzer,address,undefined when available (tests/fuzz.cmake);
// ctest runs it over tests/fuzz_corpus/ for a fixed number of inputs.
//
//   build/tests/fuzz_idx -runs=100000 build/tests/fuzz_work tests/fuzz_corpus   # longer, by hand
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/idx.h"

static char dir[] = "/tmp/cnn-fuzz-idx-XXXXXX", raw_path[64], gz_path[64];

static void cleanup(void) {
    unlink(raw_path);
    unlink(gz_path);
    rmdir(dir);
}

// The two names of one scratch file, made once per process.
static int setup(void) {
    if (!mkdtemp(dir)) return 0;
    atexit(cleanup);
    snprintf(gz_path, sizeof gz_path, "%s/in.gz", dir);
    snprintf(raw_path, sizeof raw_path, "%s/in", dir);
    FILE *f = fopen(gz_path, "wb");
    if (!f) return 0;
    fclose(f);
    return link(gz_path, raw_path) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready = -1;
    if (ready < 0) ready = setup();
    if (!ready) abort(); // no scratch file in /tmp: nothing can be tested
    FILE *f = fopen(gz_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
    const int want[3] = {0, 1, 3};
    for (int i = 0; i < 3; i++) {
        cnn_idx idx;
        const char *path = i == 1 ? gz_path : raw_path;
        if (cnn_idx_read(path, want[i], &idx) == CNN_OK) {
            // A success must describe exactly what it holds.
            uint64_t n = 1;
            for (int d = 0; d < idx.ndim; d++) n *= idx.dims[d];
            if (n != idx.size || !idx.data || (idx.ndim != 1 && idx.ndim != 3)) abort();
            volatile uint8_t sum = 0;
            for (size_t k = 0; k < idx.size; k++) sum += idx.data[k]; // every byte readable
            (void)sum;
        } else if (idx.data || idx.size || idx.ndim) {
            abort(); // a failure leaves out zeroed
        }
        cnn_idx_free(&idx);
    }
    return 0;
}
