// test_load_run_json (test_util.h), apart from test_util.c: it needs the
// energy hook's JSON reader, which the sanitized dataset tests do not link.
#include <stdio.h>

#include "core/energy/common/json.h"
#include "test_util.h"

struct cnn_json *test_load_run_json(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return NULL;
    static char buf[1 << 20];
    const size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cnn_json *j = NULL;
    CHECK_OK(cnn_json_parse(buf, n, &j));
    return j;
}
