// cnn-train report DIR: reads DIR/run.json and DIR/power.csv and writes
// three SVG plots into DIR, with no dependencies:
//   power.svg            power of each meter over time, epoch ends and evaluations marked
//   accuracy_energy.svg  test accuracy against cumulative energy, accuracy steps as thresholds
//   step_energy.svg      marginal energy of each accuracy step, as bars
// Every series is labelled with its meter's provenance.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/energy/energy.h"
#include "core/energy/json.h"
#include "core/energy/session.h"

#define W 900
#define H 500
#define ML 80  // margins: left, right, top, bottom
#define MR 200
#define MT 50
#define MB 60
#define MAX_SERIES 9

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                      "#8c564b", "#e377c2", "#17becf", "#333333"};

typedef struct {
    char name[40], prov[24];
    double *t, *w;
    size_t n, cap;
} pseries;

typedef struct {
    double x0, x1, y0, y1; // data ranges
} frame;

static double px(const frame *fr, double x) { return ML + (x - fr->x0) / (fr->x1 - fr->x0) * (W - ML - MR); }
static double py(const frame *fr, double y) { return H - MB - (y - fr->y0) / (fr->y1 - fr->y0) * (H - MT - MB); }

static void xml_text(FILE *f, const char *s) {
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
static double tick_step(double lo, double hi) {
    double range = hi - lo;
    if (!(range > 0)) return 1.0;
    double raw = range / 6.0, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

static void svg_begin(FILE *f, const char *title) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    fprintf(f, "<title>");
    xml_text(f, title);
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%d\" y=\"28\" font-size=\"15\" font-weight=\"bold\">", ML);
    xml_text(f, title);
    fprintf(f, "</text>\n");
}

static void svg_axes(FILE *f, const frame *fr, const char *xlabel, const char *ylabel) {
    fprintf(f, "<g class=\"axes\" stroke=\"#444\" fill=\"none\">\n");
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", ML, MT, W - ML - MR, H - MT - MB);
    fprintf(f, "</g>\n<g class=\"ticks\" fill=\"#222\">\n");
    double sx = tick_step(fr->x0, fr->x1), sy = tick_step(fr->y0, fr->y1);
    for (double x = ceil(fr->x0 / sx) * sx; x <= fr->x1 + 1e-9 * sx; x += sx) {
        double X = px(fr, x);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", X, MT, X, H - MB);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", X, H - MB + 16,
                fabs(x) < 1e-12 * sx ? 0.0 : x);
    }
    for (double y = ceil(fr->y0 / sy) * sy; y <= fr->y1 + 1e-9 * sy; y += sy) {
        double Y = py(fr, y);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, Y, W - MR, Y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, Y + 4,
                fabs(y) < 1e-12 * sy ? 0.0 : y);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (ML + W - MR) / 2, H - 18);
    xml_text(f, xlabel);
    fprintf(f, "</text>\n<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    xml_text(f, ylabel);
    fprintf(f, "</text>\n</g>\n");
}

static void legend_entry(FILE *f, int i, const char *color, const char *label, int dashed) {
    int y = MT + 10 + 20 * i;
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", W - MR + 12, y,
            W - MR + 36, y, color, dashed ? " stroke-dasharray=\"4 3\"" : "");
    fprintf(f, "<text x=\"%d\" y=\"%d\">", W - MR + 42, y + 4);
    xml_text(f, label);
    fprintf(f, "</text>\n");
}

// ---- reading the run directory ----

static cnn_status read_file(const char *path, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap > ((size_t)1 << 30)) {
                free(buf);
                fclose(f);
                return cnn_error(CNN_ERR_FORMAT, "%s is larger than 1 GiB: not a run record", path);
            }
            char *p = realloc(buf, cap * 2);
            if (!p) break;
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return cnn_error(CNN_ERR_NOMEM, "out of memory reading %s", path);
    if (err) {
        free(buf);
        return cnn_error(CNN_ERR_IO, "error reading %s", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CNN_OK;
}

static int push2(pseries *s, double t, double w) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        double *a = realloc(s->t, cap * sizeof *a);
        if (!a) return 0;
        s->t = a;
        double *b = realloc(s->w, cap * sizeof *b);
        if (!b) return 0;
        s->w = b;
        s->cap = cap;
    }
    s->t[s->n] = t;
    s->w[s->n] = w;
    s->n++;
    return 1;
}

static cnn_status read_power_csv(const char *path, pseries *ser, int *n_ser) {
    char *text;
    size_t len;
    CNN_TRY(read_file(path, &text, &len));
    *n_ser = 0;
    char *save = NULL;
    int line_no = 0;
    cnn_status st = CNN_OK;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        line[strcspn(line, "\r")] = '\0';
        if (line_no == 1) {
            if (strncmp(line, "timestamp,meter,watts,joules", 28) != 0) {
                st = cnn_error(CNN_ERR_FORMAT, "%s: the header is not 'timestamp,meter,watts,joules,...': not a power "
                               "record written by cnn-train", path);
                break;
            }
            continue;
        }
        if (!*line) continue;
        char *fields[5] = {0};
        int nf = 0;
        for (char *p = line; nf < 5;) {
            fields[nf++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = '\0';
            p = c + 1;
        }
        char *end;
        double t = nf >= 4 ? strtod(fields[0], &end) : NAN;
        if (nf < 4 || end == fields[0]) {
            st = cnn_error(CNN_ERR_FORMAT, "%s line %d: expected timestamp,meter,watts,joules", path, line_no);
            break;
        }
        double w = *fields[2] ? strtod(fields[2], NULL) : NAN;
        int k;
        for (k = 0; k < *n_ser; k++)
            if (!strcmp(ser[k].name, fields[1])) break;
        if (k == *n_ser) {
            if (*n_ser == MAX_SERIES) continue;
            memset(&ser[k], 0, sizeof ser[k]);
            snprintf(ser[k].name, sizeof ser[k].name, "%s", fields[1]);
            snprintf(ser[k].prov, sizeof ser[k].prov, "%s", nf >= 5 ? fields[4] : "");
            (*n_ser)++;
        }
        if (!push2(&ser[k], t, w)) {
            st = cnn_error(CNN_ERR_NOMEM, "out of memory reading %s", path);
            break;
        }
    }
    free(text);
    return st;
}

static void free_series(pseries *ser, int n) {
    for (int i = 0; i < n; i++) {
        free(ser[i].t);
        free(ser[i].w);
    }
}

typedef struct {
    const cnn_json *run;
    pseries *ser;
    int n_ser;
    const char *prov; // total provenance
} report_ctx;

// ---- plot 1: power over time ----
static void fill_power_svg(FILE *f, const void *vctx) {
    const report_ctx *c = vctx;
    char title[160];
    snprintf(title, sizeof title, "Power over time (%s)", c->prov);
    frame fr = {INFINITY, -INFINITY, 0, 0};
    for (int i = 0; i < c->n_ser; i++)
        for (size_t k = 0; k < c->ser[i].n; k++) {
            if (c->ser[i].t[k] < fr.x0) fr.x0 = c->ser[i].t[k];
            if (c->ser[i].t[k] > fr.x1) fr.x1 = c->ser[i].t[k];
            if (isfinite(c->ser[i].w[k]) && c->ser[i].w[k] > fr.y1) fr.y1 = c->ser[i].w[k];
        }
    // A total series when several meters were sampled together.
    int total = c->n_ser > 1;
    for (int i = 1; i < c->n_ser && total; i++) total = c->ser[i].n == c->ser[0].n;
    double ymax_total = 0;
    if (total)
        for (size_t k = 0; k < c->ser[0].n; k++) {
            double sum = 0;
            for (int i = 0; i < c->n_ser; i++) sum += isfinite(c->ser[i].w[k]) ? c->ser[i].w[k] : 0;
            if (sum > ymax_total) ymax_total = sum;
        }
    if (ymax_total > fr.y1) fr.y1 = ymax_total;
    if (!(fr.x1 > fr.x0)) { fr.x0 = 0; fr.x1 = 1; }
    fr.y1 = fr.y1 > 0 ? fr.y1 * 1.1 : 1.0;
    svg_begin(f, title);
    if (fr.x0 < 0) {
        double x0 = px(&fr, fr.x0), x1 = px(&fr, 0);
        fprintf(f, "<rect class=\"idle\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f0f0f0\"/>\n", x0, MT,
                x1 - x0, H - MT - MB);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#666\">idle</text>\n", (x0 + x1) / 2,
                H - MB - 8);
    }
    svg_axes(f, &fr, "time since the start of training (s)", "power (W)");
    // Epoch ends and evaluations.
    const cnn_json *epochs = cnn_json_get(c->run, "epochs"), *evals = cnn_json_get(c->run, "evaluations");
    for (int i = 0; i < cnn_json_len(epochs); i++) {
        double t = cnn_json_num(cnn_json_get(cnn_json_at(epochs, i), "t_end_s"));
        if (!isfinite(t)) continue;
        double X = px(&fr, t);
        fprintf(f, "<line class=\"mark epoch\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>\n", X, MT,
                X, H - MB);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">e%d</text>\n", X, MT - 4,
                (int)cnn_json_num(cnn_json_get(cnn_json_at(epochs, i), "epoch")));
    }
    for (int i = 0; i < cnn_json_len(evals); i++) {
        const cnn_json *e = cnn_json_at(evals, i);
        double t0 = cnn_json_num(cnn_json_get(e, "t_start_s")), t1 = cnn_json_num(cnn_json_get(e, "t_end_s"));
        if (!isfinite(t0) || !isfinite(t1)) continue;
        fprintf(f, "<rect class=\"mark eval\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#ffd54f\" "
                   "fill-opacity=\"0.35\"/>\n",
                px(&fr, t0), MT, fmax(px(&fr, t1) - px(&fr, t0), 1.0), H - MT - MB);
    }
    int li = 0;
    for (int i = 0; i < c->n_ser; i++) {
        const pseries *s = &c->ser[i];
        size_t stride = s->n > 3000 ? s->n / 3000 + 1 : 1;
        fprintf(f, "<polyline class=\"series power\" data-meter=\"");
        xml_text(f, s->name);
        fprintf(f, "\" data-provenance=\"");
        xml_text(f, s->prov);
        fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", palette[i % MAX_SERIES]);
        for (size_t k = 0; k < s->n; k += stride)
            if (isfinite(s->w[k])) fprintf(f, "%.1f,%.1f ", px(&fr, s->t[k]), py(&fr, s->w[k]));
        fprintf(f, "\"/>\n");
        char label[96];
        snprintf(label, sizeof label, "%s (%s)", s->name, s->prov);
        legend_entry(f, li++, palette[i % MAX_SERIES], label, 0);
    }
    if (total) {
        size_t stride = c->ser[0].n > 3000 ? c->ser[0].n / 3000 + 1 : 1;
        fprintf(f, "<polyline class=\"series power\" data-meter=\"total\" data-provenance=\"%s\" fill=\"none\" "
                   "stroke=\"#000\" stroke-width=\"1\" stroke-dasharray=\"4 3\" points=\"", c->prov);
        for (size_t k = 0; k < c->ser[0].n; k += stride) {
            double sum = 0;
            for (int i = 0; i < c->n_ser; i++) sum += isfinite(c->ser[i].w[k]) ? c->ser[i].w[k] : 0;
            fprintf(f, "%.1f,%.1f ", px(&fr, c->ser[0].t[k]), py(&fr, sum));
        }
        fprintf(f, "\"/>\n");
        char label[96];
        snprintf(label, sizeof label, "total (%s)", c->prov);
        legend_entry(f, li++, "#000", label, 1);
    }
    legend_entry(f, li++, "#888", "epoch end", 0);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"10\" fill=\"#ffd54f\" fill-opacity=\"0.35\"/>\n",
            W - MR + 12, MT + 5 + 20 * li);
    fprintf(f, "<text x=\"%d\" y=\"%d\">evaluation</text>\n", W - MR + 42, MT + 14 + 20 * li);
    fprintf(f, "</svg>\n");
}

// ---- plot 2: accuracy against cumulative energy ----
static void fill_acc_svg(FILE *f, const void *vctx) {
    const report_ctx *c = vctx;
    const cnn_json *evals = cnn_json_get(c->run, "evaluations"), *steps = cnn_json_get(c->run, "accuracy_steps");
    char title[160];
    snprintf(title, sizeof title, "Test accuracy against cumulative energy (%s)", c->prov);
    frame fr = {0, 0, 1, 1};
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
    svg_begin(f, title);
    char xlabel[96];
    snprintf(xlabel, sizeof xlabel, "cumulative energy since the start of training (J, %s)", c->prov);
    svg_axes(f, &fr, xlabel, "test accuracy");
    double last_label_y = -1e9; // steps ascend, so labels go up the plot: keep them 13 px apart
    for (int k = 0; k < cnn_json_len(steps); k++) {
        const cnn_json *s = cnn_json_at(steps, k);
        double th = cnn_json_num(cnn_json_get(s, "threshold"));
        if (!isfinite(th)) continue;
        double Y = py(&fr, th);
        double LY = (last_label_y > -1e8 && Y > last_label_y - 13) ? last_label_y - 13 : Y;
        last_label_y = LY;
        fprintf(f, "<line class=\"threshold\" data-threshold=\"%g\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                   "stroke=\"#d62728\" stroke-dasharray=\"5 4\"/>\n", th, ML, Y, W - MR, Y);
        const cnn_json *r = cnn_json_get(s, "reached");
        double cum = cnn_json_num(cnn_json_get(s, "cumulative_total_j"));
        if (r && r->type == CNN_JSON_BOOL && r->number && isfinite(cum)) {
            double X = px(&fr, cum);
            fprintf(f, "<line class=\"crossing\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d62728\" "
                       "stroke-dasharray=\"2 3\"/>\n", X, Y, X, H - MB);
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#d62728\">%g: %.4g J</text>\n", W - MR + 6, LY + 4, th, cum);
        } else {
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#d62728\">%g: not reached</text>\n", W - MR + 6, LY + 4, th);
        }
    }
    fprintf(f, "<polyline class=\"series accuracy\" data-provenance=\"%s\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"2\" points=\"", c->prov, palette[0]);
    for (int i = 0; i < cnn_json_len(evals); i++) {
        const cnn_json *e = cnn_json_at(evals, i);
        double x = cnn_json_num(cnn_json_get(e, "cumulative_total_j")), y = cnn_json_num(cnn_json_get(e, "test_acc"));
        if (isfinite(x) && isfinite(y)) fprintf(f, "%.1f,%.1f ", px(&fr, x), py(&fr, fmax(y, fr.y0)));
    }
    fprintf(f, "\"/>\n");
    for (int i = 0; i < cnn_json_len(evals); i++) {
        const cnn_json *e = cnn_json_at(evals, i);
        double x = cnn_json_num(cnn_json_get(e, "cumulative_total_j")), y = cnn_json_num(cnn_json_get(e, "test_acc"));
        if (isfinite(x) && isfinite(y))
            fprintf(f, "<circle class=\"point eval\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(&fr, x),
                    py(&fr, fmax(y, fr.y0)), palette[0]);
    }
    fprintf(f, "</svg>\n");
}

// ---- plot 3: marginal energy per accuracy step ----
static void fill_steps_svg(FILE *f, const void *vctx) {
    const report_ctx *c = vctx;
    const cnn_json *steps = cnn_json_get(c->run, "accuracy_steps");
    int n = cnn_json_len(steps);
    char title[160];
    snprintf(title, sizeof title, "Energy per accuracy step (%s)", c->prov);
    frame fr = {0, n > 0 ? n : 1, 0, 0};
    for (int k = 0; k < n; k++) {
        double m = cnn_json_num(cnn_json_get(cnn_json_at(steps, k), "marginal_total_j"));
        if (isfinite(m) && m > fr.y1) fr.y1 = m;
    }
    fr.y1 = fr.y1 > 0 ? fr.y1 * 1.15 : 1.0;
    svg_begin(f, title);
    // Axes without x ticks: the steps are categories.
    fprintf(f, "<g class=\"axes\" stroke=\"#444\" fill=\"none\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
               "</g>\n<g class=\"ticks\" fill=\"#222\">\n", ML, MT, W - ML - MR, H - MT - MB);
    double sy = tick_step(fr.y0, fr.y1);
    for (double y = 0; y <= fr.y1 + 1e-9 * sy; y += sy) {
        double Y = py(&fr, y);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, Y, W - MR, Y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, Y + 4, y);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">accuracy step (from the previous step)</text>\n",
            (ML + W - MR) / 2, H - 18);
    fprintf(f, "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">marginal energy (J, "
               "%s)</text>\n</g>\n", (MT + H - MB) / 2, (MT + H - MB) / 2, c->prov);
    double slot = (double)(W - ML - MR) / (n > 0 ? n : 1);
    double prev = 0;
    for (int k = 0; k < n; k++) {
        const cnn_json *s = cnn_json_at(steps, k);
        double th = cnn_json_num(cnn_json_get(s, "threshold"));
        double m = cnn_json_num(cnn_json_get(s, "marginal_total_j"));
        double cum = cnn_json_num(cnn_json_get(s, "cumulative_total_j"));
        double X = ML + slot * k + slot * 0.15, bw = slot * 0.7;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g-%g</text>\n", X + bw / 2, H - MB + 16, prev, th);
        prev = th;
        if (!isfinite(m)) {
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#888\">not reached</text>\n", X + bw / 2,
                    H - MB - 6);
            continue;
        }
        double Y = py(&fr, fmax(m, 0.0));
        fprintf(f, "<rect class=\"bar step\" data-threshold=\"%g\" data-joules=\"%.6g\" x=\"%.1f\" y=\"%.1f\" "
                   "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                th, m, X, Y, bw, py(&fr, 0) - Y, palette[0]);
        const cnn_json *same = cnn_json_get(s, "same_evaluation_as_previous");
        if (same && same->type == CNN_JSON_BOOL && same->number)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">same evaluation</text>\n",
                    X + bw / 2, Y - 5);
        else
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4g J (%.0f%%)</text>\n", X + bw / 2, Y - 5,
                    m, cum > 0 ? 100.0 * m / cum : 0.0);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#555\">share: of the cumulative</text>\n", W - MR + 12, MT + 14);
    fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#555\">energy at that step</text>\n", W - MR + 12, MT + 30);
    fprintf(f, "</svg>\n");
}

cnn_status cnn_report_render_count(const char *run_dir, FILE *log, int *n_plots) {
    if (n_plots) *n_plots = 0;
    struct stat st;
    if (!run_dir || !*run_dir) return cnn_error(CNN_ERR_INVALID_ARG, "report: give a run directory written by --out");
    if (stat(run_dir, &st) != 0)
        return cnn_error(CNN_ERR_IO, "report: %s does not exist (give a directory written by cnn-train --out)", run_dir);
    if (!S_ISDIR(st.st_mode))
        return cnn_error(CNN_ERR_INVALID_ARG, "report: %s is not a directory (give a directory written by --out)",
                         run_dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/run.json", run_dir);
    if (stat(path, &st) != 0)
        return cnn_error(CNN_ERR_IO, "report: %s has no run.json: not a run directory written by cnn-train --out, or "
                         "the run did not finish", run_dir);
    char *text;
    size_t len;
    CNN_TRY(read_file(path, &text, &len));
    cnn_json *run = NULL;
    cnn_status s = cnn_json_parse(text, len, &run);
    free(text);
    if (s != CNN_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", cnn_last_error()); // cnn_error overwrites the buffer it formats from
        return cnn_error(s, "report: %s: %s", path, msg);
    }
    if (strcmp(cnn_json_str(cnn_json_get(run, "format"), ""), "cnn-train run record") != 0) {
        cnn_json_free(run);
        return cnn_error(CNN_ERR_FORMAT, "report: %s is not a cnn-train run record (no \"format\" member)", path);
    }
    if ((s = cnn_record_verify(run_dir, run)) != CNN_OK) { // one consistent record, not a mix of writes
        cnn_json_free(run);
        return s;
    }
    pseries ser[MAX_SERIES];
    int n_ser = 0;
    snprintf(path, sizeof path, "%s/power.csv", run_dir);
    s = read_power_csv(path, ser, &n_ser);
    if (s == CNN_OK) {
        report_ctx c = {run, ser, n_ser, cnn_json_str(cnn_json_get(run, "total_provenance"), "estimated")};
        static const char *const names[3] = {"power.svg", "accuracy_energy.svg", "step_energy.svg"};
        void (*fills[3])(FILE *, const void *) = {fill_power_svg, fill_acc_svg, fill_steps_svg};
        for (int i = 0; i < 3 && s == CNN_OK; i++) {
            s = cnn_energy_write_file(run_dir, names[i], fills[i], &c);
            if (s == CNN_OK) {
                if (n_plots) (*n_plots)++;
                if (log) fprintf(log, "wrote %s/%s\n", run_dir, names[i]);
            }
        }
    }
    free_series(ser, n_ser);
    cnn_json_free(run);
    return s;
}

cnn_status cnn_report_render(const char *run_dir, FILE *log) { return cnn_report_render_count(run_dir, log, NULL); }
