// A run's notes, in the order they were made.
#include "core/energy/common/notes.h"

#include <stdarg.h>

// Formats the note, prints it to log (unless NULL) and keeps it while there is room.
void cnn_energy_notes_add(cnn_energy_notes *notes, FILE *log, const char *fmt, ...) {
    char buf[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log) fprintf(log, "energy: %s\n", buf);
    if (notes->n < CNN_ENERGY_MAX_NOTES) snprintf(notes->text[notes->n++], sizeof notes->text[0], "%s", buf);
}
