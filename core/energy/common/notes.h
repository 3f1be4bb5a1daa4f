// Notes: one-line remarks about a run (a meter fallen back, a baseline not
// cached, an estimate made), kept in order for the summary and run.json.
#ifndef CNN_ENERGY_NOTES_H
#define CNN_ENERGY_NOTES_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNN_ENERGY_MAX_NOTES 16

typedef struct {
    char text[CNN_ENERGY_MAX_NOTES][384];
    int n;
} cnn_energy_notes;

// Adds a note (dropped beyond CNN_ENERGY_MAX_NOTES); also printed to log as "energy: ..." when log is not NULL.
void cnn_energy_notes_add(cnn_energy_notes *notes, FILE *log, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
