// Internals of `cnn-train report` (core/energy/report/report_*.c): the SVG frame,
// axes, an in-figure legend and the caption that names the run, shared by
// every plot; and the power.csv reader.
#ifndef CNN_ENERGY_REPORT_SVG_H
#define CNN_ENERGY_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "core/energy/common/json.h"
#include "core/status.h"

#define CNN_SVG_W 900
#define CNN_SVG_H 560
#define CNN_SVG_ML 80 // margins: left, right, top, bottom (the bottom holds the axis label and the caption)
#define CNN_SVG_MR 30
#define CNN_SVG_MT 50
#define CNN_SVG_MB 110
#define CNN_SVG_MAX_SERIES 17 // every meter a record holds (CNN_ENERGY_MAX_METERS) and one more

extern const char *const cnn_svg_palette[CNN_SVG_MAX_SERIES];

typedef struct {
    char name[40], prov[24];
    double *t, *w;
    size_t n, cap;
} cnn_power_series;

typedef struct {
    double x0, x1, y0, y1; // data ranges
} cnn_svg_frame;

typedef struct {
    const cnn_json *run;
    cnn_power_series *ser;
    int n_ser;
    const char *prov; // total provenance
    int hide_idle;    // power.svg without the idle baseline's segment
} cnn_report_ctx;

double cnn_svg_px(const cnn_svg_frame *fr, double x);
double cnn_svg_py(const cnn_svg_frame *fr, double y);
void cnn_svg_text(FILE *f, const char *s); // XML-escaped
double cnn_svg_tick_step(double lo, double hi);
// The document, its title, and the caption naming the run (dataset, model,
// device, date, run id) and saying what is estimated; `note` (may be NULL) is
// a third caption line, e.g. what is below resolution.
void cnn_svg_begin(FILE *f, const char *title, const cnn_report_ctx *c, const char *note);
void cnn_svg_axes(FILE *f, const cnn_svg_frame *fr, const char *xlabel, const char *ylabel);
// Axes for categories (bars): the y axis with ticks, no x ticks.
void cnn_svg_bar_axes(FILE *f, const cnn_svg_frame *fr, const char *xlabel, const char *ylabel);
// The legend, a framed box inside the plot's top-left corner, for n entries (call before the entries).
void cnn_svg_legend_box(FILE *f, int n, int width);
void cnn_svg_legend_entry(FILE *f, int i, const char *color, const char *label, int dashed);
// An error bar from y - u to y + u (clamped at 0) at x.
void cnn_svg_error_bar(FILE *f, const cnn_svg_frame *fr, double X, double y, double u);
// An energy as "j ± u J" when resolved, else the interval ("≤ b J", "a..b J"), ready for XML text.
const char *cnn_svg_fmt_ju(char *buf, size_t len, double j, double u);
// 1 when the JSON value is true.
int cnn_json_true(const cnn_json *v);

// Reads path whole (at most 1 GiB: the reason is named in the error).
cnn_status cnn_report_read_small_file(const char *path, char **out, size_t *len);
// Reads power.csv line by line into at most CNN_SVG_MAX_SERIES series. Refuses a file over 1 GiB
// (before reading it) and a non-finite timestamp, watts or joules value (with the file and line).
cnn_status cnn_report_read_power_csv(const char *path, cnn_power_series *ser, int *n_ser);
void cnn_report_free_power(cnn_power_series *ser, int n);

// The plots beyond the first three: energy per epoch, and the runs of --repeat.
void cnn_report_fill_epoch_svg(FILE *f, const void *ctx);
void cnn_report_fill_repeats_acc_svg(FILE *f, const void *ctx);
void cnn_report_fill_repeats_steps_svg(FILE *f, const void *ctx);

#endif
