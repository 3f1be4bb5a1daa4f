// emissions.csv against CodeCarbon 3.x's schema (tests/codecarbon_schema_3.x.csv,
// path in $CNN_CODECARBON_SCHEMA): the header, column by column, and the type
// of every value of a row; the append to the parent's emissions.csv by two
// concurrent writers; a foreign header left untouched.
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/energy/record/codecarbon.h"
#include "test_util.h"

#define MAX_COLS 64

static char schema_name[MAX_COLS][64], schema_type[MAX_COLS][16];
static int schema_n;

static void load_schema(void) {
    const char *path = getenv("CNN_CODECARBON_SCHEMA");
    FILE *f = path ? fopen(path, "r") : NULL;
    CHECK(f != NULL);
    if (!f) return;
    char line[256];
    int seen_header = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || !line[0]) continue;
        if (!seen_header) {
            CHECK(!strcmp(line, "column,type"));
            seen_header = 1;
            continue;
        }
        char *comma = strchr(line, ',');
        CHECK(comma != NULL && schema_n < MAX_COLS);
        if (!comma || schema_n >= MAX_COLS) break;
        *comma = '\0';
        snprintf(schema_name[schema_n], sizeof schema_name[0], "%.63s", line);
        snprintf(schema_type[schema_n], sizeof schema_type[0], "%.15s", comma + 1);
        schema_n++;
    }
    fclose(f);
}

// Splits one CSV line (RFC 4180 quoting) into fields; returns the count.
static int split_csv(const char *line, char fields[][256], int max) {
    int n = 0;
    const char *p = line;
    while (n < max) {
        char *out = fields[n];
        size_t k = 0;
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"') p++;
                if (k + 1 < 256) out[k++] = *p;
                p++;
            }
            if (*p == '"') p++;
        } else {
            while (*p && *p != ',' && *p != '\n') {
                if (k + 1 < 256) out[k++] = *p;
                p++;
            }
        }
        out[k] = '\0';
        n++;
        if (*p != ',') break;
        p++;
    }
    return n;
}

// A float as pandas reads one into a float column and CodeCarbon writes one: empty (NaN) or a number with a point or an exponent.
static int is_float_text(const char *s) {
    if (!*s) return 1;
    char *end;
    strtod(s, &end);
    return *end == '\0' && strpbrk(s, ".eE") != NULL;
}

static cnn_codecarbon_row sample_row(const char *run_id) {
    cnn_codecarbon_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.timestamp, sizeof r.timestamp, "2025-01-02T03:04:05");
    r.project_name = "cnn-train";
    r.run_id = run_id;
    r.experiment_id = "mnist";
    r.duration = 12;
    r.cpu_power = 8;
    r.ram_power = 3;
    r.cpu_energy = 8 * 12 / 3.6e6;
    r.ram_energy = 3 * 12 / 3.6e6;
    r.energy_consumed = r.cpu_energy + r.ram_energy;
    r.emissions = r.energy_consumed * 0.056;
    r.emissions_rate = r.emissions / 12;
    r.country_name = "France";
    r.country_iso_code = "FRA";
    r.region = r.cloud_provider = r.cloud_region = "";
    r.os = "Linux-6.1.0-x86_64";
    r.python_version = "C11, compiler 12.2.0";
    r.codecarbon_version = "cnn-train 0.1.0";
    r.cpu_count = 2;
    r.cpu_model = "Intel(R) Xeon(R), \"quoted\"";
    r.gpu_model = "";
    r.longitude = r.latitude = NAN;
    r.ram_total_size = 16;
    r.tracking_mode = "process";
    r.cpu_utilization_percent = 50;
    r.ram_used_gb = 4.5;
    r.ram_utilization_percent = 28.125;
    r.pue = 1;
    return r;
}

static void check_line_against_schema(const char *line) {
    static char fields[MAX_COLS][256];
    int n = split_csv(line, fields, MAX_COLS);
    CHECK(n == schema_n);
    for (int i = 0; i < n && i < schema_n; i++) {
        if (!strcmp(schema_type[i], "float")) {
            if (!is_float_text(fields[i]))
                fprintf(stderr, "  column %s: '%s' is not a float as CodeCarbon writes one\n", schema_name[i], fields[i]);
            CHECK(is_float_text(fields[i]));
        } else {
            CHECK(!strcmp(schema_type[i], "str"));
        }
        if (!strcmp(schema_name[i], "on_cloud")) CHECK(!strcmp(fields[i], "N") || !strcmp(fields[i], "Y"));
        if (!strcmp(schema_name[i], "country_iso_code"))
            CHECK(!fields[i][0] || (strlen(fields[i]) == 3 && isupper((unsigned char)fields[i][0])));
        if (!strcmp(schema_name[i], "cpu_model")) CHECK(!strcmp(fields[i], "Intel(R) Xeon(R), \"quoted\""));
        if (!strcmp(schema_name[i], "cpu_count")) CHECK(!strcmp(fields[i], "2.0"));
    }
}

static void test_header_and_types(void) {
    CHECK(schema_n == CNN_CODECARBON_COLUMNS);
    char want[2048] = "";
    for (int i = 0; i < schema_n; i++) {
        if (i) strcat(want, ",");
        strcat(want, schema_name[i]);
    }
    CHECK(!strcmp(cnn_codecarbon_header(), want));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cnn_codecarbon_row r = sample_row("run-1");
    cnn_codecarbon_write(f, &r);
    fclose(f);
    char *nl = strchr(buf, '\n');
    CHECK(nl != NULL);
    if (nl) {
        *nl = '\0';
        CHECK(!strcmp(buf, want));
        check_line_against_schema(nl + 1);
    }
    free(buf);
}

static int count_lines(const char *path, char *first, size_t first_len, int check_rows) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (n == 0 && first) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(first, first_len, "%s", line);
        } else if (n > 0 && check_rows) {
            check_line_against_schema(line);
        }
        n++;
    }
    fclose(f);
    return n;
}

static void test_concurrent_append(const char *dir) {
    enum { WRITERS = 2, ROWS = 25 };
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            int bad = 0;
            for (int k = 0; k < ROWS; k++) {
                char id[32];
                snprintf(id, sizeof id, "writer%d-%d", w, k);
                cnn_codecarbon_row r = sample_row(id);
                bad |= cnn_codecarbon_append(dir, &r) != CNN_OK;
            }
            _exit(bad);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int st = 0;
        waitpid(pids[w], &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    char path[700], first[4096] = "";
    snprintf(path, sizeof path, "%s/emissions.csv", dir);
    CHECK(count_lines(path, first, sizeof first, 1) == 1 + WRITERS * ROWS);
    CHECK(!strcmp(first, cnn_codecarbon_header()));
}

static void test_foreign_header(const char *dir) {
    char path[700];
    snprintf(path, sizeof path, "%s/emissions.csv", dir);
    FILE *f = fopen(path, "w");
    const char *old = "timestamp,project_name,run_id,duration,emissions\nx,y,z,1.0,2.0\n";
    fputs(old, f);
    fclose(f);
    cnn_codecarbon_row r = sample_row("run-foreign");
    CHECK(cnn_codecarbon_append(dir, &r) == CNN_ERR_FORMAT);
    CHECK(strstr(cnn_last_error(), "another header") && strstr(cnn_last_error(), "left untouched"));
    char first[4096];
    CHECK(count_lines(path, first, sizeof first, 0) == 2 && !strcmp(first, "timestamp,project_name,run_id,duration,emissions"));
}

int main(void) {
    load_schema();
    test_header_and_types();
    char tmpl[] = "/tmp/test_codecarbon_XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (dir) {
        test_concurrent_append(dir);
        char sub[600];
        snprintf(sub, sizeof sub, "%s/foreign", dir);
        mkdir(sub, 0755);
        test_foreign_header(sub);
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", dir);
    }
    return test_finish("test_energy_codecarbon");
}
