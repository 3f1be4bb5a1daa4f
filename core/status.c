#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local char last_error[2048];

const char *cnn_status_name(cnn_status status) {
    switch (status) {
    case CNN_OK: return "ok";
    case CNN_ERR_INVALID_ARG: return "invalid argument";
    case CNN_ERR_IO: return "I/O error";
    case CNN_ERR_FORMAT: return "bad data format";
    case CNN_ERR_NOMEM: return "out of memory";
    case CNN_ERR_UNSUPPORTED: return "unsupported";
    case CNN_ERR_DEVICE: return "device error";
    case CNN_ERR_NETWORK: return "network error";
    case CNN_ERR_CHECKSUM: return "checksum mismatch";
    case CNN_ERR_INTERNAL: return "internal error";
    case CNN_ERR_DIVERGED: return "training diverged";
    }
    return "unknown status";
}

cnn_status cnn_error(cnn_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *cnn_last_error(void) { return last_error; }

void cnn_clear_error(void) { last_error[0] = '\0'; }

void cnn_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "cnn-train: internal error: assertion '%s' failed at %s:%d; please report this bug\n",
            expr, file, line);
    abort();
}
