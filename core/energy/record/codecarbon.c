// emissions.csv as CodeCarbon 3.x writes it: column names and order from its
// EmissionsData (codecarbon/output_methods/emissions_data.py, version
// CNN_CODECARBON_SCHEMA_VERSION); tests/codecarbon_schema_3.x.csv keeps a copy.
#include "core/energy/record/codecarbon.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

const char *const cnn_codecarbon_columns[CNN_CODECARBON_COLUMNS] = {
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
    "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed",
    "water_consumed", "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os",
    "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude",
    "latitude", "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue"};

const char *cnn_codecarbon_header(void) {
    static char header[1024];
    if (!header[0]) {
        size_t n = 0;
        for (int i = 0; i < CNN_CODECARBON_COLUMNS; i++)
            n += (size_t)snprintf(header + n, sizeof header - n, "%s%s", i ? "," : "", cnn_codecarbon_columns[i]);
    }
    return header;
}

// A string field, quoted when it holds a comma, a quote or a line break.
static void put_str(FILE *f, const char *s) {
    fputc(',', f);
    if (!s) return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

// A float field as pandas writes one: always with a decimal point or an
// exponent (2.0, not 2), the shortest form that reads back the same; NaN empty.
static void put_float(FILE *f, double v) {
    fputc(',', f);
    if (!isfinite(v)) return;
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
    if (!strpbrk(buf, ".e")) strcat(buf, ".0");
    fputs(buf, f);
}

void cnn_codecarbon_write_row(FILE *f, const cnn_codecarbon_row *r) {
    fputs(r->timestamp, f); // the first field: no separator before it
    put_str(f, r->project_name);
    put_str(f, r->run_id);
    put_str(f, r->experiment_id);
    const double head[] = {r->duration,   r->emissions,  r->emissions_rate, r->cpu_power,      r->gpu_power,
                           r->ram_power,  r->cpu_energy, r->gpu_energy,     r->ram_energy,     r->energy_consumed,
                           r->water_consumed};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) put_float(f, head[i]);
    const char *mid[] = {r->country_name, r->country_iso_code, r->region,         r->cloud_provider,
                         r->cloud_region, r->os,               r->python_version, r->codecarbon_version};
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) put_str(f, mid[i]);
    put_float(f, r->cpu_count);
    put_str(f, r->cpu_model);
    put_float(f, r->gpu_count);
    put_str(f, r->gpu_model);
    put_float(f, r->longitude);
    put_float(f, r->latitude);
    put_float(f, r->ram_total_size);
    put_str(f, r->tracking_mode);
    put_float(f, r->cpu_utilization_percent);
    put_float(f, r->gpu_utilization_percent);
    put_float(f, r->ram_utilization_percent);
    put_float(f, r->ram_used_gb);
    put_str(f, r->on_cloud ? "Y" : "N");
    put_float(f, r->pue);
    put_float(f, r->wue);
    fputc('\n', f);
}

void cnn_codecarbon_write(FILE *f, const cnn_codecarbon_row *r) {
    fprintf(f, "%s\n", cnn_codecarbon_header());
    cnn_codecarbon_write_row(f, r);
}

// Reads the whole file (NULL with *len 0 when it does not exist).
static cnn_status read_all(const char *path, char **text, size_t *len) {
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? CNN_OK : cnn_error(CNN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 0;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (*len + n + 1 > cap) {
            cap = (*len + n + 1) * 2;
            char *t = realloc(*text, cap);
            if (!t) {
                free(*text);
                fclose(f);
                return cnn_error(CNN_ERR_NOMEM, "out of memory reading %s", path);
            }
            *text = t;
        }
        memcpy(*text + *len, buf, n);
        *len += n;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(*text);
        return cnn_error(CNN_ERR_IO, "cannot read %s", path);
    }
    if (*text) (*text)[*len] = '\0';
    return CNN_OK;
}

// Under the lock: the file's content, checked, then content + row to a temporary file renamed over it.
static cnn_status append_locked(const char *path, const char *tmp, const cnn_codecarbon_row *r) {
    char *old = NULL;
    size_t len = 0;
    CNN_TRY(read_all(path, &old, &len));
    const char *header = cnn_codecarbon_header();
    size_t hlen = strlen(header);
    if (len > 0 && !(len > hlen && !strncmp(old, header, hlen) && (old[hlen] == '\n' || old[hlen] == '\r'))) {
        free(old);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s has another header than CodeCarbon %s's columns in their order (an older CodeCarbon or "
                         "another tool wrote it): left untouched and this run's row not appended; move it aside to "
                         "start a new one",
                         path, CNN_CODECARBON_SCHEMA_VERSION);
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(old);
        return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    }
    if (len > 0) {
        fwrite(old, 1, len, f);
        if (old[len - 1] != '\n') fputc('\n', f);
    } else {
        fprintf(f, "%s\n", header);
    }
    free(old);
    cnn_codecarbon_write_row(f, r);
    int bad = ferror(f) | fflush(f) | fsync(fileno(f));
    bad |= fclose(f);
    if (bad || rename(tmp, path) != 0) {
        cnn_status s = cnn_error(CNN_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return s;
    }
    return CNN_OK;
}

cnn_status cnn_codecarbon_append(const char *dir, const cnn_codecarbon_row *r) {
    char path[4096], tmp[4200], lock[4200];
    snprintf(path, sizeof path, "%s/emissions.csv", dir);
    snprintf(tmp, sizeof tmp, "%s/.emissions.csv.%ld.tmp", dir, (long)getpid());
    snprintf(lock, sizeof lock, "%s/.emissions.csv.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return cnn_error(CNN_ERR_IO, "cannot open the lock file %s: %s", lock, strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            cnn_status s = cnn_error(CNN_ERR_IO, "cannot lock %s: %s", lock, strerror(errno));
            close(fd);
            return s;
        }
    }
    cnn_status s = append_locked(path, tmp, r);
    flock(fd, LOCK_UN);
    close(fd);
    return s;
}
