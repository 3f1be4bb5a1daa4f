// cnn-train report DIR: reads DIR/run.json and DIR/power.csv and writes the
// SVG plots into DIR, with no dependencies:
//   power.svg            power of each meter over time, epoch ends and evaluations marked
//   accuracy_energy.svg  test accuracy against cumulative energy, accuracy steps as thresholds
//   step_energy.svg      marginal energy of each accuracy step, as bars with their bounds
//   epoch_energy.svg     energy of each epoch, as bars with their bounds (report_epoch_svg.c)
//   repeats_accuracy_energy.svg, repeats_step_energy.svg  with --repeat (report_repeats_svg.c)
// Every plot names its run in a caption and labels its series with their
// provenance; windows below the meter's resolution are drawn apart.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/energy/common/files.h"
#include "core/energy/record/record_dir.h"
#include "core/energy/report/render.h"
#include "core/energy/report/report_svg.h"

#define W CNN_SVG_W
#define H CNN_SVG_H
#define ML CNN_SVG_ML
#define MR CNN_SVG_MR
#define MT CNN_SVG_MT
#define MB CNN_SVG_MB
#define px cnn_svg_px
#define py cnn_svg_py

// ---- plot 1: power over time ----
static void power_frame(const cnn_report_ctx *c, cnn_svg_frame *fr, int *total) {
    *fr = (cnn_svg_frame){INFINITY, -INFINITY, 0, 0};
    for (int i = 0; i < c->n_ser; i++)
        for (size_t k = 0; k < c->ser[i].n; k++) {
            double t = c->ser[i].t[k], w = c->ser[i].w[k];
            if (c->hide_idle && t < 0) continue;
            fr->x0 = fmin(fr->x0, t), fr->x1 = fmax(fr->x1, t);
            if (isfinite(w) && w > fr->y1) fr->y1 = w;
        }
    // A total series when several meters were sampled together.
    *total = c->n_ser > 1;
    for (int i = 1; i < c->n_ser && *total; i++) *total = c->ser[i].n == c->ser[0].n;
    for (size_t k = 0; *total && k < c->ser[0].n; k++) {
        double sum = 0;
        for (int i = 0; i < c->n_ser; i++) sum += isfinite(c->ser[i].w[k]) ? c->ser[i].w[k] : 0;
        fr->y1 = fmax(fr->y1, sum);
    }
    if (!(fr->x1 > fr->x0)) fr->x0 = 0, fr->x1 = 1;
    fr->y1 = fr->y1 > 0 ? fr->y1 * 1.25 : 1.0; // headroom for the legend
}

// Epoch ends (labels thinned so that they never overlap) and evaluations.
static void power_marks(FILE *f, const cnn_report_ctx *c, const cnn_svg_frame *fr) {
    const cnn_json *epochs = cnn_json_get(c->run, "epochs"), *evals = cnn_json_get(c->run, "evaluations");
    double last_label = -1e9;
    for (int i = 0; i < cnn_json_len(epochs); i++) {
        double t = cnn_json_num(cnn_json_get(cnn_json_at(epochs, i), "t_end_s"));
        if (!isfinite(t)) continue;
        double X = px(fr, t);
        fprintf(f, "<line class=\"mark epoch\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>\n", X, MT,
                X, H - MB);
        if (X - last_label < 28) continue; // the mark stays, its label would overlap the previous one
        fprintf(f, "<text class=\"epoch-label\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">e%d</text>\n",
                X, MT - 4, (int)cnn_json_num(cnn_json_get(cnn_json_at(epochs, i), "epoch")));
        last_label = X;
    }
    for (int i = 0; i < cnn_json_len(evals); i++) {
        const cnn_json *e = cnn_json_at(evals, i);
        double t0 = cnn_json_num(cnn_json_get(e, "t_start_s")), t1 = cnn_json_num(cnn_json_get(e, "t_end_s"));
        if (!isfinite(t0) || !isfinite(t1)) continue;
        fprintf(f, "<rect class=\"mark eval\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#ffd54f\" "
                   "fill-opacity=\"0.35\"/>\n", px(fr, t0), MT, fmax(px(fr, t1) - px(fr, t0), 1.0), H - MT - MB);
    }
}

static void power_series(FILE *f, const cnn_report_ctx *c, const cnn_svg_frame *fr, int i, int total) {
    const cnn_power_series *s = &c->ser[total ? 0 : i];
    size_t stride = s->n > 3000 ? s->n / 3000 + 1 : 1;
    const char *prov = total ? c->prov : s->prov;
    fprintf(f, "<polyline class=\"series power\" data-meter=\"");
    cnn_svg_text(f, total ? "total" : s->name);
    fprintf(f, "\" data-provenance=\"");
    cnn_svg_text(f, prov);
    fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"", total ? "#000" : cnn_svg_palette[i],
            total ? "1" : "1.5", total || !strcmp(prov, "estimated") ? " stroke-dasharray=\"4 3\"" : "");
    for (size_t k = 0; k < s->n; k += stride) {
        if (c->hide_idle && s->t[k] < 0) continue;
        double w = 0;
        for (int m = total ? 0 : i; m < (total ? c->n_ser : i + 1); m++) w += isfinite(c->ser[m].w[k]) ? c->ser[m].w[k] : 0;
        if (total || isfinite(s->w[k])) fprintf(f, "%.1f,%.1f ", px(fr, s->t[k]), py(fr, w));
    }
    fprintf(f, "\"/>\n");
}

static void fill_power_svg(FILE *f, const void *vctx) {
    const cnn_report_ctx *c = vctx;
    char title[160], note[256];
    snprintf(title, sizeof title, "Power over time (%s)", c->prov);
    cnn_svg_frame fr;
    int total;
    power_frame(c, &fr, &total);
    snprintf(note, sizeof note, "%s; a counter's power is its energy differenced over its own update intervals%s",
             c->hide_idle ? "idle baseline hidden (--no-idle)" : "grey: the idle baseline before training",
             !strcmp(c->prov, "estimated") ? "; dashed: estimated" : "");
    cnn_svg_begin(f, title, c, note);
    if (fr.x0 < 0) {
        double x0 = px(&fr, fr.x0), x1 = px(&fr, 0);
        fprintf(f, "<rect class=\"idle\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f0f0f0\"/>\n", x0, MT,
                x1 - x0, H - MT - MB);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#666\">idle</text>\n", (x0 + x1) / 2,
                H - MB - 8);
    }
    cnn_svg_axes(f, &fr, "time since the start of training (s)", "power (W)");
    power_marks(f, c, &fr);
    for (int i = 0; i < c->n_ser; i++) power_series(f, c, &fr, i, 0);
    if (total) power_series(f, c, &fr, 0, 1);
    cnn_svg_legend_box(f, c->n_ser + total + 2, 300);
    int li = 0;
    char label[96];
    for (int i = 0; i < c->n_ser; i++) {
        snprintf(label, sizeof label, "%s (%s)", c->ser[i].name, c->ser[i].prov);
        cnn_svg_legend_entry(f, li++, cnn_svg_palette[i], label, !strcmp(c->ser[i].prov, "estimated"));
    }
    if (total) {
        snprintf(label, sizeof label, "total (%s)", c->prov);
        cnn_svg_legend_entry(f, li++, "#000", label, 1);
    }
    cnn_svg_legend_entry(f, li++, "#888", "epoch end", 0);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"10\" fill=\"#ffd54f\" fill-opacity=\"0.35\"/>\n", ML + 16,
            MT + 16 + 20 * li);
    fprintf(f, "<text class=\"legend-label\" x=\"%d\" y=\"%d\">evaluation</text>\n", ML + 46, MT + 25 + 20 * li);
    fprintf(f, "</svg>\n");
}

// ---- plot 2: accuracy against cumulative energy ----
static void acc_thresholds(FILE *f, const cnn_svg_frame *fr, const cnn_json *steps) {
    double last_label_y = -1e9; // steps ascend, so labels go up the plot: keep them 13 px apart
    for (int k = 0; k < cnn_json_len(steps); k++) {
        const cnn_json *s = cnn_json_at(steps, k);
        double th = cnn_json_num(cnn_json_get(s, "threshold"));
        if (!isfinite(th)) continue;
        double Y = py(fr, th);
        double LY = (last_label_y > -1e8 && Y > last_label_y - 13) ? last_label_y - 13 : Y;
        last_label_y = LY;
        fprintf(f, "<line class=\"threshold\" data-threshold=\"%g\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                   "stroke=\"#d62728\" stroke-dasharray=\"5 4\"/>\n", th, ML, Y, W - MR, Y);
        double cum = cnn_json_num(cnn_json_get(s, "cumulative_total_j"));
        double u = cnn_json_num(cnn_json_get(s, "cumulative_total_uncertainty_j"));
        char b[64];
        if (cnn_json_true(cnn_json_get(s, "reached")) && isfinite(cum)) {
            double X = px(fr, cum);
            fprintf(f, "<line class=\"crossing\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d62728\" "
                       "stroke-dasharray=\"2 3\"/>\n", X, Y, X, H - MB);
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#d62728\">%g: %s</text>\n", W - MR - 4,
                    LY - 3, th, cnn_svg_fmt_ju(b, sizeof b, cum, u));
        } else {
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#d62728\">%g: not reached</text>\n",
                    W - MR - 4, LY - 3, th);
        }
    }
}

static void fill_acc_svg(FILE *f, const void *vctx) {
    const cnn_report_ctx *c = vctx;
    const cnn_json *evals = cnn_json_get(c->run, "evaluations"), *steps = cnn_json_get(c->run, "accuracy_steps");
    char title[160];
    snprintf(title, sizeof title, "Test accuracy against cumulative energy (%s)", c->prov);
    cnn_svg_frame fr = {0, 0, 1, 1};
    double amin = 1;
    for (int i = 0; i < cnn_json_len(evals); i++) {
        const cnn_json *e = cnn_json_at(evals, i);
        double x = cnn_json_num(cnn_json_get(e, "cumulative_total_j")), y = cnn_json_num(cnn_json_get(e, "test_acc"));
        if (isfinite(x) && x > fr.x1) fr.x1 = x;
        if (isfinite(y) && y < amin) amin = y;
    }
    for (int k = 0; k < cnn_json_len(steps); k++) {
        double th = cnn_json_num(cnn_json_get(cnn_json_at(steps, k), "threshold"));
        if (isfinite(th) && th < amin) amin = th;
    }
    fr.x1 = fr.x1 > 0 ? fr.x1 * 1.05 : 1.0;
    fr.y0 = floor(fmax(0.0, amin - 0.02) * 20.0) / 20.0;
    if (fr.y0 >= 1.0) fr.y0 = 0.9;
    cnn_svg_begin(f, title, c, "hollow points: cumulative energy below the meter's resolution (an interval, not a value)");
    char xlabel[96];
    snprintf(xlabel, sizeof xlabel, "cumulative energy since the start of training (J, %s)", c->prov);
    cnn_svg_axes(f, &fr, xlabel, "test accuracy");
    acc_thresholds(f, &fr, steps);
    fprintf(f, "<polyline class=\"series accuracy\" data-provenance=\"%s\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"2\" points=\"", c->prov, cnn_svg_palette[0]);
    for (int i = 0; i < cnn_json_len(evals); i++) {
        const cnn_json *e = cnn_json_at(evals, i);
        double x = cnn_json_num(cnn_json_get(e, "cumulative_total_j")), y = cnn_json_num(cnn_json_get(e, "test_acc"));
        if (isfinite(x) && isfinite(y)) fprintf(f, "%.1f,%.1f ", px(&fr, x), py(&fr, fmax(y, fr.y0)));
    }
    fprintf(f, "\"/>\n");
    for (int i = 0; i < cnn_json_len(evals); i++) {
        const cnn_json *e = cnn_json_at(evals, i);
        double x = cnn_json_num(cnn_json_get(e, "cumulative_total_j")), y = cnn_json_num(cnn_json_get(e, "test_acc"));
        double u = cnn_json_num(cnn_json_get(e, "cumulative_total_uncertainty_j"));
        int res = isfinite(u) && u < 0.1 * x;
        if (isfinite(x) && isfinite(y))
            fprintf(f, "<circle class=\"point eval%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" stroke=\"%s\"/>\n",
                    res ? "" : " below-resolution", px(&fr, x), py(&fr, fmax(y, fr.y0)), res ? cnn_svg_palette[0] : "white",
                    cnn_svg_palette[0]);
    }
    fprintf(f, "</svg>\n");
}

// ---- plot 3: marginal energy per accuracy step ----
static void fill_steps_svg(FILE *f, const void *vctx) {
    const cnn_report_ctx *c = vctx;
    const cnn_json *steps = cnn_json_get(c->run, "accuracy_steps");
    int n = cnn_json_len(steps);
    char title[160], ylabel[96], b[64];
    snprintf(title, sizeof title, "Energy per accuracy step (%s)", c->prov);
    cnn_svg_frame fr = {0, n > 0 ? n : 1, 0, 0};
    for (int k = 0; k < n; k++) {
        const cnn_json *s = cnn_json_at(steps, k);
        double m = cnn_json_num(cnn_json_get(s, "marginal_total_j"));
        double u = cnn_json_num(cnn_json_get(s, "marginal_total_uncertainty_j"));
        if (isfinite(m)) fr.y1 = fmax(fr.y1, m + (isfinite(u) ? u : 0));
    }
    fr.y1 = fr.y1 > 0 ? fr.y1 * 1.15 : 1.0;
    cnn_svg_begin(f, title, c, "error bars: the interval the meter allows; pale bars: below the meter's resolution; "
                  "share: of the cumulative energy at that step");
    snprintf(ylabel, sizeof ylabel, "marginal energy (J, %s)", c->prov);
    cnn_svg_bar_axes(f, &fr, "accuracy step (from the previous step)", ylabel);
    double slot = (double)(W - ML - MR) / (n > 0 ? n : 1), prev = 0;
    for (int k = 0; k < n; k++) {
        const cnn_json *s = cnn_json_at(steps, k);
        double th = cnn_json_num(cnn_json_get(s, "threshold")), m = cnn_json_num(cnn_json_get(s, "marginal_total_j"));
        double u = cnn_json_num(cnn_json_get(s, "marginal_total_uncertainty_j"));
        double cum = cnn_json_num(cnn_json_get(s, "cumulative_total_j"));
        double X = ML + slot * k + slot * 0.15, bw = slot * 0.7;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g-%g</text>\n", X + bw / 2, H - MB + 16, prev, th);
        prev = th;
        if (!isfinite(m)) {
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#888\">not reached</text>\n", X + bw / 2,
                    H - MB - 6);
            continue;
        }
        int res = isfinite(u) && u < 0.1 * m;
        double Y = py(&fr, fmax(m, 0.0));
        fprintf(f, "<rect class=\"bar step%s\" data-threshold=\"%g\" data-joules=\"%.6g\" x=\"%.1f\" y=\"%.1f\" "
                   "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s/>\n", res ? "" : " below-resolution", th, m, X, Y, bw,
                py(&fr, 0) - Y, cnn_svg_palette[0], res ? "" : " fill-opacity=\"0.3\"");
        cnn_svg_error_bar(f, &fr, X + bw / 2, m, u);
        double LY = py(&fr, m + (isfinite(u) ? u : 0)) - 6;
        if (cnn_json_true(cnn_json_get(s, "same_evaluation_as_previous")))
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">same evaluation</text>\n",
                    X + bw / 2, LY);
        else if (res)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s (%.0f%%)</text>\n", X + bw / 2, LY,
                    cnn_svg_fmt_ju(b, sizeof b, m, u), cum > 0 ? 100.0 * m / cum : 0.0);
        else
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">%s (below resolution)</text>\n",
                    X + bw / 2, LY, cnn_svg_fmt_ju(b, sizeof b, m, u));
    }
    fprintf(f, "</svg>\n");
}

// ---- the driver ----
static cnn_status load_run(const char *run_dir, cnn_json **run) {
    struct stat st;
    char path[4096];
    if (!run_dir || !*run_dir) return cnn_error(CNN_ERR_INVALID_ARG, "report: give a run directory written by --out");
    if (stat(run_dir, &st) != 0)
        return cnn_error(CNN_ERR_IO, "report: %s does not exist (give a directory written by cnn-train --out)", run_dir);
    if (!S_ISDIR(st.st_mode))
        return cnn_error(CNN_ERR_INVALID_ARG, "report: %s is not a directory (give a directory written by --out)",
                         run_dir);
    snprintf(path, sizeof path, "%s/run.json", run_dir);
    if (stat(path, &st) != 0)
        return cnn_error(CNN_ERR_IO, "report: %s has no run.json: not a run directory written by cnn-train --out, or "
                         "the run did not finish", run_dir);
    char *text;
    size_t len;
    CNN_TRY(cnn_report_read_small_file(path, &text, &len));
    cnn_status s = cnn_json_parse(text, len, run);
    free(text);
    if (s != CNN_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", cnn_last_error()); // cnn_error overwrites the buffer it formats from
        return cnn_error(s, "report: %s: %s", path, msg);
    }
    if (strcmp(cnn_json_str(cnn_json_get(*run, "format"), ""), "cnn-train run record") != 0) {
        cnn_json_free(*run);
        *run = NULL;
        return cnn_error(CNN_ERR_FORMAT, "report: %s is not a cnn-train run record (no \"format\" member)", path);
    }
    return CNN_OK;
}

static cnn_status write_plots(const char *run_dir, const cnn_report_ctx *c, FILE *log, int *n_plots) {
    static const char *const names[] = {"power.svg", "accuracy_energy.svg", "step_energy.svg", "epoch_energy.svg",
                                        "repeats_accuracy_energy.svg", "repeats_step_energy.svg"};
    void (*fills[])(FILE *, const void *) = {fill_power_svg, fill_acc_svg, fill_steps_svg, cnn_report_fill_epoch_svg,
                                             cnn_report_fill_repeats_acc_svg, cnn_report_fill_repeats_steps_svg};
    int n = cnn_json_len(cnn_json_get(cnn_json_get(c->run, "repeats"), "runs")) > 1 ? 6 : 4;
    for (int i = 0; i < n; i++) {
        CNN_TRY(cnn_energy_write_file(run_dir, names[i], fills[i], c));
        if (n_plots) (*n_plots)++;
        if (log) fprintf(log, "wrote %s/%s\n", run_dir, names[i]);
    }
    return CNN_OK;
}

cnn_status cnn_report_render_opts(const char *run_dir, int hide_idle, FILE *log, int *n_plots) {
    if (n_plots) *n_plots = 0;
    cnn_json *run = NULL;
    CNN_TRY(load_run(run_dir, &run));
    cnn_status v = cnn_record_verify(run_dir, run); // one consistent record, not a mix of writes
    if (v != CNN_OK) {
        cnn_json_free(run);
        return v;
    }
    cnn_power_series ser[CNN_SVG_MAX_SERIES];
    int n_ser = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/power.csv", run_dir);
    cnn_status s = cnn_report_read_power_csv(path, ser, &n_ser);
    if (s == CNN_OK) {
        cnn_report_ctx c = {run, ser, n_ser, cnn_json_str(cnn_json_get(run, "total_provenance"), "estimated"),
                            hide_idle};
        s = write_plots(run_dir, &c, log, n_plots);
    }
    cnn_report_free_power(ser, n_ser);
    cnn_json_free(run);
    return s;
}

cnn_status cnn_report_render_count(const char *run_dir, FILE *log, int *n_plots) {
    return cnn_report_render_opts(run_dir, 0, log, n_plots);
}

cnn_status cnn_report_render(const char *run_dir, FILE *log) { return cnn_report_render_opts(run_dir, 0, log, NULL); }
