// SIGINT and SIGTERM during a training run: the handler only sets a flag,
// the training loop stops at the next step boundary, and cnn-train writes
// the record of what was measured and exits 128 + the signal number.
#ifndef CNN_TRAIN_INTERRUPT_H
#define CNN_TRAIN_INTERRUPT_H

#include <signal.h>

// Installs the handlers (SA_RESETHAND: a second Ctrl-C kills the process the
// usual way) and returns the flag they set to the signal number.
const volatile sig_atomic_t *cli_interrupt_install(void);
// Restores the default actions.
void cli_interrupt_restore(void);
// "SIGINT", "SIGTERM" or "signal N".
const char *cli_signal_name(int sig, char *buf, int len);

#endif
