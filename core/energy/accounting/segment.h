// One segment of a checkpointed and resumed run, as plain data (a checkpoint
// carries these as is; energy.h exports the type).
#ifndef CNN_ENERGY_SEGMENT_H
#define CNN_ENERGY_SEGMENT_H

#ifdef __cplusplus
extern "C" {
#endif

// One segment of a run that was checkpointed and resumed (docs/checkpoints.md, "Segments"): its training
// window in wall-clock time, its training seconds and its energy, as measured by the session that ran it.
// A checkpoint carries the earlier segments and the current one so far (plain data, written as is).
#define CNN_ENERGY_MAX_SEGMENTS 32
#define CNN_ENERGY_SEGMENT_METERS 16 // CNN_ENERGY_MAX_METERS (checked where both are seen: segments.c)
typedef enum {
    CNN_SEGMENT_KILLED = 0,      // its last checkpoint is all that is left: the process died without its record
    CNN_SEGMENT_INTERRUPTED = 1, // stopped by a signal (signal says which); its record was written
    CNN_SEGMENT_FINISHED = 2,    // ended normally and wrote its record (then resumed to extend it)
} cnn_energy_segment_end;
typedef struct {
    char run_id[40];            // the session's run_id (run.json), to tell whether it wrote its record
    double start_unix;          // the training window's start, CLOCK_REALTIME seconds
    double end_unix;            // the last instant its energy covers (the checkpoint), CLOCK_REALTIME seconds
    double train_s;             // training seconds in this segment
    int n_meters;
    char meter[CNN_ENERGY_SEGMENT_METERS][32]; // the meters' names
    double j[CNN_ENERGY_SEGMENT_METERS], u[CNN_ENERGY_SEGMENT_METERS]; // energy per meter over the window and its
                                                                       // half-width (joules; u may be inf)
    int prov[CNN_ENERGY_SEGMENT_METERS]; // each meter's provenance (cnn_provenance)
    double total_j, total_u;
    int total_prov;             // the weakest of the meters'
    int ended;                  // cnn_energy_segment_end
    int signal;                 // CNN_SEGMENT_INTERRUPTED: the signal number
} cnn_energy_segment;

#ifdef __cplusplus
}
#endif
#endif
