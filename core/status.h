// Status codes, error messages and the always-on assertion macro.
//
// Library functions return a cnn_status and, on failure, leave a one-line
// message (what went wrong and what to do) in a thread-local buffer that
// cnn_last_error() returns. Library code never exits on bad input.
#ifndef CNN_STATUS_H
#define CNN_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CNN_OK = 0,
    CNN_ERR_INVALID_ARG, // a bad argument, shape or option value
    CNN_ERR_IO,          // a file that cannot be opened, read or written
    CNN_ERR_FORMAT,      // a data file whose content is corrupt or inconsistent
    CNN_ERR_NOMEM,       // an allocation failed
    CNN_ERR_UNSUPPORTED, // a backend, device or operation that is not available
    CNN_ERR_DEVICE,      // an error reported by a device runtime (CUDA, cuBLAS)
    CNN_ERR_NETWORK,     // a download that failed
    CNN_ERR_CHECKSUM,    // downloaded data whose checksum is wrong
    CNN_ERR_INTERNAL,    // a bug: an invariant that should have held did not
    CNN_ERR_DIVERGED     // training produced a non-finite loss
} cnn_status;

// A short name for a status ("invalid argument", "I/O error", ...).
const char *cnn_status_name(cnn_status status);

// Records a printf-style message for the calling thread and returns status.
cnn_status cnn_error(cnn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// The last message recorded by cnn_error on this thread ("" when none).
const char *cnn_last_error(void);
void cnn_clear_error(void);

// Reports a failed internal invariant with file and line, then aborts.
void cnn_assert_fail(const char *expr, const char *file, int line);

// Always on (not disabled by NDEBUG). For programming errors only: bad
// input from a user or a file must return a cnn_status instead.
#define CNN_ASSERT(cond)                                                       \
    do {                                                                       \
        if (!(cond)) cnn_assert_fail(#cond, __FILE__, __LINE__);               \
    } while (0)

// Returns from the calling function when expr does not give CNN_OK.
#define CNN_TRY(expr)                                                          \
    do {                                                                       \
        cnn_status cnn_try_status_ = (expr);                                   \
        if (cnn_try_status_ != CNN_OK) return cnn_try_status_;                 \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
