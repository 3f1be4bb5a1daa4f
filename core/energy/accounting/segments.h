// Segments of a run that was checkpointed and resumed (docs/checkpoints.md,
// "Segments"), as plain data, and what the accounting makes of them: the
// functional unit with the earlier segments added, this session's own
// segment, and the unmeasured gaps between them.
#ifndef CNN_ENERGY_SEGMENTS_H
#define CNN_ENERGY_SEGMENTS_H

#include "core/energy/accounting/accounting.h"
#include "core/energy/accounting/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

// The functional unit's time and energy: this session's part (to the target, or the whole training window when
// it was not reached) plus the earlier segments' (cnn-train resume); bounds add, the weakest provenance wins.
typedef struct {
    double time_s;
    double j[CNN_ENERGY_MAX_METERS], u[CNN_ENERGY_MAX_METERS]; // this session's meters (earlier segments' meters
                                                               // of the same name added)
    double total_j, total_u;
    cnn_provenance prov;
} cnn_energy_fu;

// The functional unit: a's part (to the target, or the whole training window when it was not reached) plus
// the n_prior earlier segments'; each earlier meter is added to the one of the same name among info[n_meters].
void cnn_energy_fu_compute(const cnn_energy_accounting *a, const cnn_meter_info *info, int n_meters,
                           const cnn_energy_segment *prior, int n_prior, cnn_energy_fu *out);

// This session's segment, as the earlier ones are recorded: a's training window, in wall-clock time
// (wall_minus_mono: the wall clock minus cnn_now_s()); signal: the one that stopped it (0: it finished).
void cnn_energy_segment_current(const cnn_energy_accounting *a, const char *run_id, double wall_minus_mono,
                                const cnn_meter_info *info, int n_meters, int signal, cnn_energy_segment *out);

// Seconds between each segment's last measurement and the next one's start (cur after the earlier ones), summed.
double cnn_energy_segments_gap_s(const cnn_energy_segment *prior, int n_prior, const cnn_energy_segment *cur);

// "interrupted", "finished" or "killed" (cnn_energy_segment_end).
const char *cnn_energy_segment_end_name(int ended);

#ifdef __cplusplus
}
#endif
#endif
