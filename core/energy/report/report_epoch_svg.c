// epoch_energy.svg: the energy of each epoch as a bar with the interval the
// meter allows as an error bar; epochs below the meter's resolution pale.
#include <math.h>
#include <string.h>

#include "core/energy/report/report_svg.h"

#define W CNN_SVG_W
#define H CNN_SVG_H
#define ML CNN_SVG_ML
#define MR CNN_SVG_MR
#define MB CNN_SVG_MB

void cnn_report_fill_epoch_svg(FILE *f, const void *vctx) {
    const cnn_report_ctx *c = vctx;
    const cnn_json *epochs = cnn_json_get(c->run, "epochs");
    int n = cnn_json_len(epochs), n_unres = 0;
    char title[160], ylabel[96], note[200], b[64];
    snprintf(title, sizeof title, "Energy per epoch (%s)", c->prov);
    cnn_svg_frame fr = {0, n > 0 ? n : 1, 0, 0};
    for (int k = 0; k < n; k++) {
        const cnn_json *e = cnn_json_at(epochs, k);
        double j = cnn_json_num(cnn_json_get(e, "total_j")), u = cnn_json_num(cnn_json_get(e, "total_uncertainty_j"));
        if (isfinite(j)) fr.y1 = fmax(fr.y1, j + (isfinite(u) ? u : 0));
        n_unres += !(isfinite(u) && u < 0.1 * j);
    }
    fr.y1 = fr.y1 > 0 ? fr.y1 * 1.15 : 1.0;
    snprintf(note, sizeof note, "error bars: the interval the meter allows; pale bars (%d of %d): below the meter's "
             "resolution, an interval rather than a value", n_unres, n);
    cnn_svg_begin(f, title, c, note);
    snprintf(ylabel, sizeof ylabel, "energy (J, %s)", c->prov);
    cnn_svg_bar_axes(f, &fr, "epoch", ylabel);
    double slot = (double)(W - ML - MR) / (n > 0 ? n : 1);
    int label_every = slot >= 24 ? 1 : (int)ceil(24 / slot);
    for (int k = 0; k < n; k++) {
        const cnn_json *e = cnn_json_at(epochs, k);
        double j = cnn_json_num(cnn_json_get(e, "total_j")), u = cnn_json_num(cnn_json_get(e, "total_uncertainty_j"));
        int ep = (int)cnn_json_num(cnn_json_get(e, "epoch"));
        double X = ML + slot * k + slot * 0.15, bw = slot * 0.7;
        if (k % label_every == 0)
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", X + bw / 2, H - MB + 16, ep);
        if (!isfinite(j)) continue;
        int res = isfinite(u) && u < 0.1 * j;
        double Y = cnn_svg_py(&fr, fmax(j, 0.0));
        fprintf(f, "<rect class=\"bar epoch%s\" data-epoch=\"%d\" data-joules=\"%.6g\" data-uncertainty=\"%.6g\" "
                   "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s/>\n",
                res ? "" : " below-resolution", ep, j, isfinite(u) ? u : 0.0, X, Y, bw, cnn_svg_py(&fr, 0) - Y,
                cnn_svg_palette[0], res ? "" : " fill-opacity=\"0.3\"");
        cnn_svg_error_bar(f, &fr, X + bw / 2, j, u);
        if (n <= 12)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\"%s>%s</text>\n", X + bw / 2,
                    cnn_svg_py(&fr, j + (isfinite(u) ? u : 0)) - 6, res ? "" : " fill=\"#888\"",
                    cnn_svg_fmt_ju(b, sizeof b, j, u));
    }
    fprintf(f, "</svg>\n");
}
