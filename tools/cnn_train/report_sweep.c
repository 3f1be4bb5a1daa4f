// `cnn-train report DIR` on a sweep directory (sweep.json, from sweep.c):
// three SVG plots of the trade-off, from each configuration's run.json.
//   sweep_energy_target.svg  energy to target against the accuracy target,
//                            one curve per configuration (its accuracy-step
//                            crossings: the cumulative energy at the first
//                            evaluation reaching each step);
//   sweep_pareto.svg         energy and time to the sweep's target, one point
//                            per configuration that reached it, the Pareto
//                            front (no other point is both faster and cheaper)
//                            drawn as a line;
//   sweep_budget.svg         accuracy reached against energy spent for a fixed
//                            budget of epochs (the fewest epochs every
//                            configuration ran), with each configuration's
//                            epoch-by-epoch path behind it.
// Files are written to a temporary name and renamed.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/energy/common/json.h"
#include "report_sweep.h"

enum { W = 720, H = 460, ML = 80, MR = 200, MT = 40, MB = 56, MAX_CFG = 64, MAX_PTS = 256 };
static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

typedef struct {
    char name[96];
    int n;
    double x[MAX_PTS], y[MAX_PTS];
} curve;

typedef struct {
    double x0, x1, y0, y1;
} frame;

static double px(const frame *f, double x) { return ML + (x - f->x0) / (f->x1 - f->x0) * (W - ML - MR); }
static double py(const frame *f, double y) { return H - MB - (y - f->y0) / (f->y1 - f->y0) * (H - MT - MB); }

static void text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

// The frame around every point of the curves, with a margin; empty ranges widened.
static frame fit(const curve *c, int n) {
    frame fr = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (int i = 0; i < n; i++)
        for (int k = 0; k < c[i].n; k++) {
            if (c[i].x[k] < fr.x0) fr.x0 = c[i].x[k];
            if (c[i].x[k] > fr.x1) fr.x1 = c[i].x[k];
            if (c[i].y[k] < fr.y0) fr.y0 = c[i].y[k];
            if (c[i].y[k] > fr.y1) fr.y1 = c[i].y[k];
        }
    if (!isfinite(fr.x0)) fr = (frame){0, 1, 0, 1};
    double dx = fr.x1 - fr.x0, dy = fr.y1 - fr.y0;
    if (dx <= 0) dx = fabs(fr.x0) > 0 ? fabs(fr.x0) * 0.2 : 1;
    if (dy <= 0) dy = fabs(fr.y0) > 0 ? fabs(fr.y0) * 0.2 : 1;
    fr.x0 -= 0.05 * dx, fr.x1 += 0.05 * dx, fr.y0 -= 0.05 * dy, fr.y1 += 0.05 * dy;
    return fr;
}

static void begin(FILE *f, const char *title, const frame *fr, const char *xl, const char *yl) {
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%d\" y=\"22\" "
               "font-size=\"15\">",
            W, H, ML);
    text(f, title);
    fprintf(f, "</text>\n<g stroke=\"#333\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><line x1=\"%d\" y1=\"%d\" "
               "x2=\"%d\" y2=\"%d\"/></g>\n",
            ML, H - MB, W - MR, H - MB, ML, MT, ML, H - MB);
    for (int t = 0; t <= 4; t++) { // five ticks per axis
        double x = fr->x0 + (fr->x1 - fr->x0) * t / 4, y = fr->y0 + (fr->y1 - fr->y0) * t / 4;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.4g</text>\n", px(fr, x), H - MB + 18, x);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", ML - 6, py(fr, y) + 4, y);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (ML + W - MR) / 2, H - 14);
    text(f, xl);
    fprintf(f, "</text>\n<text transform=\"translate(18,%d) rotate(-90)\" text-anchor=\"middle\">", (MT + H - MB) / 2);
    text(f, yl);
    fputs("</text>\n", f);
}

static void legend(FILE *f, int i, const char *color, const char *label) {
    const int y = MT + 8 + 18 * i;
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/><text x=\"%d\" "
               "y=\"%d\">",
            W - MR + 12, y, W - MR + 32, y, color, W - MR + 38, y + 4);
    text(f, label);
    fputs("</text>\n", f);
}

static void polyline(FILE *f, const frame *fr, const curve *c, const char *color, const char *extra) {
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" %s points=\"", color, extra);
    for (int k = 0; k < c->n; k++) fprintf(f, "%.1f,%.1f ", px(fr, c->x[k]), py(fr, c->y[k]));
    fputs("\"/>\n", f);
    for (int k = 0; k < c->n; k++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(fr, c->x[k]), py(fr, c->y[k]), color);
}

static cnn_status load(const char *path, cnn_json **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf) return cnn_error(CNN_ERR_NOMEM, "cannot read %s", path);
    cnn_status s = cnn_json_parse(buf, got, out);
    free(buf);
    return s;
}

// Opens DIR/name.tmp for writing; finish() renames it.
static FILE *open_tmp(const char *dir, const char *name, char *tmp, size_t n) {
    snprintf(tmp, n, "%s/%s.tmp", dir, name);
    return fopen(tmp, "w");
}
static cnn_status finish(FILE *f, const char *dir, const char *name, const char *tmp, FILE *log) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    fputs("</svg>\n", f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) return cnn_error(CNN_ERR_IO, "cannot write %s", path);
    if (log) fprintf(log, "wrote %s\n", path);
    return CNN_OK;
}

bool report_sweep_is_sweep(const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    FILE *f = fopen(path, "r");
    if (f) fclose(f);
    return f != NULL;
}

cnn_status report_sweep_render(const char *dir, FILE *log) {
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    cnn_json *sw = NULL;
    CNN_TRY(load(path, &sw));
    const cnn_json *rows = cnn_json_get(sw, "rows");
    const double target = cnn_json_num(cnn_json_get(sw, "target_acc"));
    static curve steps[MAX_CFG], paths[MAX_CFG];
    curve points = {"", 0, {0}, {0}};
    char point_names[MAX_CFG][96];
    int n = 0, budget = 1 << 30;
    for (int i = 0; i < cnn_json_len(rows) && n < MAX_CFG; i++) {
        const cnn_json *r = cnn_json_at(rows, i);
        if (strcmp(cnn_json_str(cnn_json_get(r, "status"), ""), "failed") == 0) continue;
        snprintf(path, sizeof path, "%s/run.json", cnn_json_str(cnn_json_get(r, "dir"), ""));
        cnn_json *run = NULL;
        if (load(path, &run) != CNN_OK) continue; // reported in the table; nothing to draw
        curve *c = &steps[n], *p = &paths[n];
        snprintf(c->name, sizeof c->name, "%s", cnn_json_str(cnn_json_get(r, "config"), "?"));
        snprintf(p->name, sizeof p->name, "%s", c->name);
        c->n = p->n = 0;
        const cnn_json *acc = cnn_json_get(run, "accuracy_steps");
        for (int k = 0; k < cnn_json_len(acc) && c->n < MAX_PTS; k++) {
            const cnn_json *s = cnn_json_at(acc, k), *reached = cnn_json_get(s, "reached");
            if (!reached || reached->number != 1.0) continue;
            c->x[c->n] = cnn_json_num(cnn_json_get(s, "threshold"));
            c->y[c->n] = cnn_json_num(cnn_json_get(s, "cumulative_total_j"));
            if (isfinite(c->x[c->n]) && isfinite(c->y[c->n])) c->n++;
        }
        const cnn_json *ep = cnn_json_get(run, "epochs");
        double cum = 0;
        for (int k = 0; k < cnn_json_len(ep) && p->n < MAX_PTS; k++) {
            const cnn_json *e = cnn_json_at(ep, k);
            cum += cnn_json_num(cnn_json_get(e, "total_j"));
            p->x[p->n] = cum;
            p->y[p->n] = cnn_json_num(cnn_json_get(e, "test_acc"));
            if (isfinite(p->x[p->n]) && isfinite(p->y[p->n])) p->n++;
        }
        if (p->n < budget) budget = p->n;
        const double e = cnn_json_num(cnn_json_get(r, "energy_to_target_j")),
                     t = cnn_json_num(cnn_json_get(r, "time_to_target_s"));
        if (isfinite(e) && isfinite(t)) {
            snprintf(point_names[points.n], sizeof point_names[0], "%s", c->name);
            points.x[points.n] = t, points.y[points.n] = e, points.n++;
        }
        cnn_json_free(run);
        n++;
    }
    cnn_json_free(sw);
    if (n == 0) return cnn_error(CNN_ERR_FORMAT, "%s: no configuration of this sweep has a run record to draw", dir);

    // 1. energy to target against the target
    FILE *f = open_tmp(dir, "sweep_energy_target.svg", tmp, sizeof tmp);
    if (!f) return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    frame fr = fit(steps, n);
    begin(f, "energy to target against the accuracy target (accuracy-step crossings)", &fr, "test accuracy target",
          "energy to target (J)");
    for (int i = 0; i < n; i++) {
        polyline(f, &fr, &steps[i], colors[i % 10], "");
        legend(f, i, colors[i % 10], steps[i].name);
    }
    CNN_TRY(finish(f, dir, "sweep_energy_target.svg", tmp, log));

    // 2. the Pareto front of (time, energy) at the target
    if (!(f = open_tmp(dir, "sweep_pareto.svg", tmp, sizeof tmp)))
        return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    fr = fit(&points, 1);
    char title[160];
    snprintf(title, sizeof title, "energy and time to test accuracy %.4g: the Pareto front", target);
    begin(f, title, &fr, "time to target (s)", "energy to target (J)");
    curve front = {"Pareto front", 0, {0}, {0}};
    for (int i = 0; i < points.n; i++) { // on the front: no other point at most as slow and as costly, and better in one
        bool dominated = false;
        for (int j = 0; j < points.n && !dominated; j++)
            dominated = j != i && points.x[j] <= points.x[i] && points.y[j] <= points.y[i] &&
                        (points.x[j] < points.x[i] || points.y[j] < points.y[i]);
        if (!dominated) front.x[front.n] = points.x[i], front.y[front.n++] = points.y[i];
    }
    for (int i = 1; i < front.n; i++) // by time
        for (int j = i; j > 0 && front.x[j] < front.x[j - 1]; j--) {
            double tx = front.x[j], ty = front.y[j];
            front.x[j] = front.x[j - 1], front.y[j] = front.y[j - 1], front.x[j - 1] = tx, front.y[j - 1] = ty;
        }
    polyline(f, &fr, &front, "#000", "stroke-dasharray=\"5,3\"");
    legend(f, 0, "#000", "Pareto front");
    for (int i = 0; i < points.n; i++) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n", px(&fr, points.x[i]),
                py(&fr, points.y[i]), colors[(i + 1) % 10]);
        legend(f, i + 1, colors[(i + 1) % 10], point_names[i]);
    }
    if (points.n == 0)
        fprintf(f, "<text x=\"%d\" y=\"%d\">no configuration reached the target</text>\n", ML + 20, MT + 40);
    CNN_TRY(finish(f, dir, "sweep_pareto.svg", tmp, log));

    // 3. accuracy against energy for a fixed budget of epochs
    if (!(f = open_tmp(dir, "sweep_budget.svg", tmp, sizeof tmp)))
        return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    fr = fit(paths, n);
    snprintf(title, sizeof title, "test accuracy against energy after %d epoch%s (dots; lines: each epoch)", budget,
             budget == 1 ? "" : "s");
    begin(f, title, &fr, "energy spent (J)", "test accuracy");
    for (int i = 0; i < n; i++) {
        curve p = paths[i];
        fprintf(f, "<g opacity=\"0.35\">\n");
        polyline(f, &fr, &p, colors[i % 10], "");
        fputs("</g>\n", f);
        if (budget >= 1 && budget <= p.n)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\"/>\n", px(&fr, p.x[budget - 1]),
                    py(&fr, p.y[budget - 1]), colors[i % 10]);
        legend(f, i, colors[i % 10], p.name);
    }
    return finish(f, dir, "sweep_budget.svg", tmp, log);
}
