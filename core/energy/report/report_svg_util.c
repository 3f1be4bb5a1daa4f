// The SVG frame shared by the report's plots: coordinates, axes, an
// in-figure legend, error bars, and the caption that names the run.
#include <math.h>
#include <string.h>

#include "core/energy/report/report_svg.h"

#define W CNN_SVG_W
#define H CNN_SVG_H
#define ML CNN_SVG_ML
#define MR CNN_SVG_MR
#define MT CNN_SVG_MT
#define MB CNN_SVG_MB

const char *const cnn_svg_palette[CNN_SVG_MAX_SERIES] = {
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#333333",
    "#aec7e8", "#ff9896", "#98df8a", "#c5b0d5", "#ffbb78", "#c49c94", "#f7b6d2", "#9edae5"};

double cnn_svg_px(const cnn_svg_frame *fr, double x) { return ML + (x - fr->x0) / (fr->x1 - fr->x0) * (W - ML - MR); }
double cnn_svg_py(const cnn_svg_frame *fr, double y) {
    return H - MB - (y - fr->y0) / (fr->y1 - fr->y0) * (H - MT - MB);
}

int cnn_json_true(const cnn_json *v) { return v && v->type == CNN_JSON_BOOL && v->number != 0; }

void cnn_svg_text(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n') fputc(*s, f);
        }
    }
}

// A tick step of 1, 2 or 5 times a power of ten giving about 6 ticks over [lo, hi].
double cnn_svg_tick_step(double lo, double hi) {
    double range = hi - lo;
    if (!(range > 0)) return 1.0;
    double raw = range / 6.0, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

static void caption_line(FILE *f, int y, const char *cls, const char *text) {
    fprintf(f, "<text class=\"%s\" x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#444\">", cls, ML, y);
    cnn_svg_text(f, text);
    fprintf(f, "</text>\n");
}

void cnn_svg_begin(FILE *f, const char *title, const cnn_report_ctx *c, const char *note) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    fprintf(f, "<title>");
    cnn_svg_text(f, title);
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%d\" y=\"28\" font-size=\"15\" font-weight=\"bold\">", ML);
    cnn_svg_text(f, title);
    fprintf(f, "</text>\n");
    const cnn_json *cfg = cnn_json_get(c->run, "config");
    char line[768];
    snprintf(line, sizeof line, "%s, %s, %s, %s, run %s", cnn_json_str(cnn_json_get(cfg, "dataset"), "?"),
             cnn_json_str(cnn_json_get(cfg, "model"), "?"), cnn_json_str(cnn_json_get(cfg, "device"), "?"),
             cnn_json_str(cnn_json_get(c->run, "created_utc"), "?"), cnn_json_str(cnn_json_get(c->run, "run_id"), "?"));
    caption_line(f, H - 44, "caption run", line);
    if (!strcmp(c->prov, "estimated"))
        snprintf(line, sizeof line, "energies ESTIMATED by a model (not measured): read them as an order of "
                 "magnitude; see the run's meters in run.json");
    else
        snprintf(line, sizeof line, "energies %s (provenance of every series in its label)", c->prov);
    caption_line(f, H - 28, "caption provenance", line);
    if (note && *note) caption_line(f, H - 12, "caption note", note);
}

// The axes' labels, closing the ticks' group.
static void axis_labels(FILE *f, const char *xlabel, const char *ylabel) {
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (ML + W - MR) / 2, H - MB + 36);
    cnn_svg_text(f, xlabel);
    fprintf(f, "</text>\n<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    cnn_svg_text(f, ylabel);
    fprintf(f, "</text>\n</g>\n");
}

void cnn_svg_axes(FILE *f, const cnn_svg_frame *fr, const char *xlabel, const char *ylabel) {
    fprintf(f, "<g class=\"axes\" stroke=\"#444\" fill=\"none\">\n");
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", ML, MT, W - ML - MR, H - MT - MB);
    fprintf(f, "</g>\n<g class=\"ticks\" fill=\"#222\">\n");
    double sx = cnn_svg_tick_step(fr->x0, fr->x1), sy = cnn_svg_tick_step(fr->y0, fr->y1);
    for (double x = ceil(fr->x0 / sx) * sx; x <= fr->x1 + 1e-9 * sx; x += sx) {
        double X = cnn_svg_px(fr, x);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", X, MT, X, H - MB);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", X, H - MB + 16,
                fabs(x) < 1e-12 * sx ? 0.0 : x);
    }
    for (double y = ceil(fr->y0 / sy) * sy; y <= fr->y1 + 1e-9 * sy; y += sy) {
        double Y = cnn_svg_py(fr, y);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, Y, W - MR, Y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, Y + 4,
                fabs(y) < 1e-12 * sy ? 0.0 : y);
    }
    axis_labels(f, xlabel, ylabel);
}

void cnn_svg_bar_axes(FILE *f, const cnn_svg_frame *fr, const char *xlabel, const char *ylabel) {
    fprintf(f, "<g class=\"axes\" stroke=\"#444\" fill=\"none\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
               "</g>\n<g class=\"ticks\" fill=\"#222\">\n", ML, MT, W - ML - MR, H - MT - MB);
    double sy = cnn_svg_tick_step(fr->y0, fr->y1);
    for (double y = 0; y <= fr->y1 + 1e-9 * sy; y += sy) {
        double Y = cnn_svg_py(fr, y);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, Y, W - MR, Y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, Y + 4, y);
    }
    axis_labels(f, xlabel, ylabel);
}

void cnn_svg_legend_box(FILE *f, int n, int width) {
    fprintf(f, "<rect class=\"legend\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" "
               "fill-opacity=\"0.9\" stroke=\"#999\"/>\n", ML + 8, MT + 8, width, 20 * n + 6);
}

void cnn_svg_legend_entry(FILE *f, int i, const char *color, const char *label, int dashed) {
    int y = MT + 21 + 20 * i;
    fprintf(f, "<line class=\"legend-key\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
            ML + 16, y, ML + 40, y, color, dashed ? " stroke-dasharray=\"4 3\"" : "");
    fprintf(f, "<text class=\"legend-label\" x=\"%d\" y=\"%d\">", ML + 46, y + 4);
    cnn_svg_text(f, label);
    fprintf(f, "</text>\n");
}

void cnn_svg_error_bar(FILE *f, const cnn_svg_frame *fr, double X, double y, double u) {
    if (!isfinite(u) || !(u > 0)) return;
    double y0 = cnn_svg_py(fr, fmax(0.0, y - u)), y1 = cnn_svg_py(fr, fmin(fr->y1, y + u));
    fprintf(f, "<g class=\"error-bar\" data-uncertainty=\"%.6g\" stroke=\"#222\"><line x1=\"%.1f\" y1=\"%.1f\" "
               "x2=\"%.1f\" y2=\"%.1f\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/><line x1=\"%.1f\" "
               "y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
            u, X, y0, X, y1, X - 5, y0, X + 5, y0, X - 5, y1, X + 5, y1);
}

// As the terminal prints an energy: "value ± u J" when resolved (u under 10%), else the interval it may lie in.
const char *cnn_svg_fmt_ju(char *buf, size_t len, double j, double u) {
    if (!isfinite(j)) snprintf(buf, len, "-");
    else if (!isfinite(u)) snprintf(buf, len, "not bounded");
    else if (u < 0.1 * fabs(j) && j > 0) snprintf(buf, len, "%.4g ± %.2g J", j, u);
    else if (j - u <= 0) snprintf(buf, len, "≤ %.2g J", fmax(j + u, 0.0)); // no bare "<" in XML text
    else snprintf(buf, len, "%.3g..%.3g J", j - u, j + u);
    return buf;
}
