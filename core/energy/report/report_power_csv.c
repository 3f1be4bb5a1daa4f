// Reading the run record for `cnn-train report`: run.json whole (it is
// small), power.csv line by line. Both are refused over 1 GiB before a byte
// is read (a record of a day sampled every 100 ms is under 100 MB), and
// power.csv's numbers must be finite: a nan or inf names the file and line.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/energy/report/report_svg.h"

#define MAX_BYTES ((long long)1 << 30)

static cnn_status check_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return cnn_error(CNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if ((long long)st.st_size > MAX_BYTES)
        return cnn_error(CNN_ERR_FORMAT, "%s is %.2f GiB, over the report's 1 GiB limit: not a run record of "
                         "cnn-train (or one to thin out first)", path, (double)st.st_size / (double)MAX_BYTES);
    return CNN_OK;
}

cnn_status cnn_report_read_small_file(const char *path, char **out, size_t *len) {
    CNN_TRY(check_size(path));
    FILE *f = fopen(path, "rb");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *p = cap <= (size_t)MAX_BYTES ? realloc(buf, cap * 2) : NULL;
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
    if (err || n + 1 >= cap) {
        free(buf);
        return cnn_error(CNN_ERR_IO, "error reading %s", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CNN_OK;
}

static int push2(cnn_power_series *s, double t, double w) {
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

// A finite number filling the whole field; empty fields are allowed where `empty_ok` (watts of a first sample).
static int parse_finite(const char *field, int empty_ok, double *v) {
    if (!*field) {
        *v = NAN;
        return empty_ok;
    }
    char *end;
    errno = 0;
    *v = strtod(field, &end);
    return end != field && *end == '\0' && isfinite(*v);
}

static cnn_power_series *series_for(cnn_power_series *ser, int *n_ser, const char *name, const char *prov) {
    for (int k = 0; k < *n_ser; k++)
        if (!strcmp(ser[k].name, name)) return &ser[k];
    if (*n_ser == CNN_SVG_MAX_SERIES) return NULL;
    cnn_power_series *s = &ser[(*n_ser)++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->prov, sizeof s->prov, "%s", prov);
    return s;
}

// One data line: timestamp,meter,watts,joules[,provenance].
static cnn_status parse_line(const char *path, long line_no, char *line, cnn_power_series *ser, int *n_ser) {
    char *fields[5] = {0};
    int nf = 0;
    for (char *p = line; nf < 5;) {
        fields[nf++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    double t, w, j;
    if (nf < 4) return cnn_error(CNN_ERR_FORMAT, "%s line %ld: expected timestamp,meter,watts,joules", path, line_no);
    if (!parse_finite(fields[0], 0, &t) || !parse_finite(fields[2], 1, &w) || !parse_finite(fields[3], 0, &j))
        return cnn_error(CNN_ERR_FORMAT, "%s line %ld: timestamp, watts and joules must be finite numbers, got "
                         "'%s', '%s', '%s'", path, line_no, fields[0], fields[2], fields[3]);
    cnn_power_series *s = series_for(ser, n_ser, fields[1], nf >= 5 ? fields[4] : "");
    if (s && !push2(s, t, w)) return cnn_error(CNN_ERR_NOMEM, "out of memory reading %s", path);
    return CNN_OK;
}

cnn_status cnn_report_read_power_csv(const char *path, cnn_power_series *ser, int *n_ser) {
    *n_ser = 0;
    CNN_TRY(check_size(path));
    FILE *f = fopen(path, "r");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long line_no = 0;
    cnn_status st = CNN_OK;
    while (st == CNN_OK && getline(&line, &cap, f) >= 0) {
        line_no++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line_no == 1) {
            if (strncmp(line, "timestamp,meter,watts,joules", 28) != 0)
                st = cnn_error(CNN_ERR_FORMAT, "%s: the header is not 'timestamp,meter,watts,joules,...': not a "
                               "power record written by cnn-train", path);
        } else if (*line) {
            st = parse_line(path, line_no, line, ser, n_ser);
        }
    }
    if (st == CNN_OK && ferror(f)) st = cnn_error(CNN_ERR_IO, "error reading %s", path);
    free(line);
    fclose(f);
    return st;
}

void cnn_report_free_power(cnn_power_series *ser, int n) {
    for (int i = 0; i < n; i++) {
        free(ser[i].t);
        free(ser[i].w);
    }
}
