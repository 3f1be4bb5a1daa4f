// The plots of cnn-train --repeat N, from run.json's "repeats" section:
//   repeats_accuracy_energy.svg  test accuracy against cumulative energy, one faint line per run and the mean
//   repeats_step_energy.svg      each step's mean marginal energy as a bar, the 95% CI and the bound as error bars
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/energy/report/report_svg.h"

#define W CNN_SVG_W
#define H CNN_SVG_H
#define ML CNN_SVG_ML
#define MR CNN_SVG_MR
#define MB CNN_SVG_MB

static void acc_frame(const cnn_json *runs, cnn_svg_frame *fr, int *max_evals) {
    *fr = (cnn_svg_frame){0, 0, 1, 1};
    double amin = 1;
    *max_evals = 0;
    for (int r = 0; r < cnn_json_len(runs); r++) {
        const cnn_json *ev = cnn_json_get(cnn_json_at(runs, r), "evaluations");
        if (cnn_json_len(ev) > *max_evals) *max_evals = cnn_json_len(ev);
        for (int i = 0; i < cnn_json_len(ev); i++) {
            double x = cnn_json_num(cnn_json_get(cnn_json_at(ev, i), "cumulative_total_j"));
            double y = cnn_json_num(cnn_json_get(cnn_json_at(ev, i), "test_acc"));
            if (isfinite(x)) fr->x1 = fmax(fr->x1, x);
            if (isfinite(y)) amin = fmin(amin, y);
        }
    }
    fr->x1 = fr->x1 > 0 ? fr->x1 * 1.05 : 1.0;
    fr->y0 = floor(fmax(0.0, amin - 0.02) * 20.0) / 20.0;
    if (fr->y0 >= 1.0) fr->y0 = 0.9;
}

// The mean curve: at the i-th evaluation, the mean energy and accuracy of the runs that had one.
static void acc_mean_line(FILE *f, const cnn_json *runs, const cnn_svg_frame *fr, int max_evals) {
    fprintf(f, "<polyline class=\"series mean\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2.5\" points=\"");
    for (int i = 0; i < max_evals; i++) {
        double sx = 0, sy = 0;
        int k = 0;
        for (int r = 0; r < cnn_json_len(runs); r++) {
            const cnn_json *e = cnn_json_at(cnn_json_get(cnn_json_at(runs, r), "evaluations"), i);
            double x = cnn_json_num(cnn_json_get(e, "cumulative_total_j")), y = cnn_json_num(cnn_json_get(e, "test_acc"));
            if (isfinite(x) && isfinite(y)) sx += x, sy += y, k++;
        }
        if (k) fprintf(f, "%.1f,%.1f ", cnn_svg_px(fr, sx / k), cnn_svg_py(fr, fmax(sy / k, fr->y0)));
    }
    fprintf(f, "\"/>\n");
}

void cnn_report_fill_repeats_acc_svg(FILE *f, const void *vctx) {
    const cnn_report_ctx *c = vctx;
    const cnn_json *runs = cnn_json_get(cnn_json_get(c->run, "repeats"), "runs");
    int n = cnn_json_len(runs), max_evals;
    char title[160], xlabel[96], note[160];
    snprintf(title, sizeof title, "Test accuracy against cumulative energy, %d runs (%s)", n, c->prov);
    cnn_svg_frame fr;
    acc_frame(runs, &fr, &max_evals);
    snprintf(note, sizeof note, "faint: each run (seeds in run.json); red: the mean over the runs at each evaluation");
    cnn_svg_begin(f, title, c, note);
    snprintf(xlabel, sizeof xlabel, "cumulative energy since the run's start (J, %s)", c->prov);
    cnn_svg_axes(f, &fr, xlabel, "test accuracy");
    for (int r = 0; r < n; r++) {
        const cnn_json *run = cnn_json_at(runs, r), *ev = cnn_json_get(run, "evaluations");
        fprintf(f, "<polyline class=\"series run\" data-run=\"%d\" data-seed=\"%.0f\" fill=\"none\" stroke=\"%s\" "
                   "stroke-opacity=\"0.35\" stroke-width=\"1\" points=\"", r + 1,
                cnn_json_num(cnn_json_get(run, "seed")), cnn_svg_palette[0]);
        for (int i = 0; i < cnn_json_len(ev); i++) {
            double x = cnn_json_num(cnn_json_get(cnn_json_at(ev, i), "cumulative_total_j"));
            double y = cnn_json_num(cnn_json_get(cnn_json_at(ev, i), "test_acc"));
            if (isfinite(x) && isfinite(y)) fprintf(f, "%.1f,%.1f ", cnn_svg_px(&fr, x), cnn_svg_py(&fr, fmax(y, fr.y0)));
        }
        fprintf(f, "\"/>\n");
    }
    acc_mean_line(f, runs, &fr, max_evals);
    cnn_svg_legend_box(f, 2, 220);
    cnn_svg_legend_entry(f, 0, cnn_svg_palette[0], "one run", 0);
    cnn_svg_legend_entry(f, 1, "#d62728", "mean over the runs", 0);
    fprintf(f, "</svg>\n");
}

void cnn_report_fill_repeats_steps_svg(FILE *f, const void *vctx) {
    const cnn_report_ctx *c = vctx;
    const cnn_json *steps = cnn_json_get(cnn_json_get(cnn_json_get(c->run, "repeats"), "summary"), "accuracy_steps");
    int n = cnn_json_len(steps);
    char title[160], ylabel[96], b[64];
    snprintf(title, sizeof title, "Mean energy per accuracy step over the runs (%s)", c->prov);
    cnn_svg_frame fr = {0, n > 0 ? n : 1, 0, 0};
    for (int k = 0; k < n; k++) {
        const cnn_json *st = cnn_json_get(cnn_json_at(steps, k), "marginal_total_j");
        double hi = cnn_json_num(cnn_json_get(st, "ci95_high")), m = cnn_json_num(cnn_json_get(st, "mean"));
        fr.y1 = fmax(fr.y1, isfinite(hi) ? hi : isfinite(m) ? m : 0);
    }
    fr.y1 = fr.y1 > 0 ? fr.y1 * 1.15 : 1.0;
    cnn_svg_begin(f, title, c, "error bars: 95% confidence interval of the mean over the runs (Student t); pale bars: "
                  "each run's window below the meter's resolution");
    snprintf(ylabel, sizeof ylabel, "mean marginal energy (J, %s)", c->prov);
    cnn_svg_bar_axes(f, &fr, "accuracy step (from the previous step)", ylabel);
    double slot = (double)(W - ML - MR) / (n > 0 ? n : 1), prev = 0;
    for (int k = 0; k < n; k++) {
        const cnn_json *s = cnn_json_at(steps, k), *st = cnn_json_get(s, "marginal_total_j");
        double th = cnn_json_num(cnn_json_get(s, "threshold")), m = cnn_json_num(cnn_json_get(st, "mean"));
        double med = cnn_json_num(cnn_json_get(st, "median"));
        double u = cnn_json_num(cnn_json_get(s, "marginal_total_mean_uncertainty_j"));
        double hw = cnn_json_num(cnn_json_get(st, "ci95_high")) - m;
        double X = ML + slot * k + slot * 0.15, bw = slot * 0.7;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g-%g</text>\n", X + bw / 2, H - MB + 16, prev, th);
        prev = th;
        if (!isfinite(m)) continue;
        int res = isfinite(u) && u < 0.1 * fabs(med);
        double Y = cnn_svg_py(&fr, fmax(m, 0.0));
        fprintf(f, "<rect class=\"bar step%s\" data-threshold=\"%g\" data-joules=\"%.6g\" x=\"%.1f\" y=\"%.1f\" "
                   "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s/>\n", res ? "" : " below-resolution", th, m, X, Y, bw,
                cnn_svg_py(&fr, 0) - Y, cnn_svg_palette[0], res ? "" : " fill-opacity=\"0.3\"");
        cnn_svg_error_bar(f, &fr, X + bw / 2, m, hw);
        if (res)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4g J (n %d)</text>\n", X + bw / 2,
                    cnn_svg_py(&fr, m + (isfinite(hw) ? hw : 0)) - 6, m, (int)cnn_json_num(cnn_json_get(st, "n")));
        else
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">%s (below resolution)</text>\n",
                    X + bw / 2, cnn_svg_py(&fr, m) - 6, cnn_svg_fmt_ju(b, sizeof b, m, u));
    }
    fprintf(f, "</svg>\n");
}
