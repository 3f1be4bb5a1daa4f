// Reads and writes explain's cached roofline (explain_roof_cache.h).
#include "explain_roof_cache.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/energy/common/json.h"

#define MAX_AGE_S (7 * 24 * 3600.0)

// This host's name with '/' replaced, for a file name.
static void host_name(char *host, size_t len) {
    snprintf(host, len, "unknown");
    gethostname(host, len - 1);
    host[len - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == '/') *p = '_';
}

bool explain_roof_cache_path(const char *gemm, int threads, char *path, size_t len) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char host[64];
    host_name(host, sizeof host);
    int n;
    if (xdg && *xdg) n = snprintf(path, len, "%s/cnn-train/roofline-%s-cpu-%s-t%d.json", xdg, host, gemm, threads);
    else if (home && *home)
        n = snprintf(path, len, "%s/.cache/cnn-train/roofline-%s-cpu-%s-t%d.json", home, host, gemm, threads);
    else return false;
    return n > 0 && (size_t)n < len;
}

// The CPU's model name from /proc/cpuinfo ("unknown" when not there).
static void cpu_model(char *out, size_t len) {
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            snprintf(out, len, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

void explain_roof_cache_key(const char *gemm, const char *kernel, int threads, const explain_roof *r, char *key,
                            size_t len) {
    char host[64], cpu[256];
    host_name(host, sizeof host);
    cpu_model(cpu, sizeof cpu);
    int n = snprintf(key, len, "host=%s;cpu=%s;gemm=%s;kernel=%s;threads=%d;caches=", host, cpu, gemm, kernel, threads);
    for (int i = 0; i + 1 < r->n_levels && n > 0 && (size_t)n < len; i++)
        n += snprintf(key + n, len - (size_t)n, "%s%s:%.0f/%d", i ? "," : "", r->level[i].name, r->level[i].size,
                      r->level[i].shared_by);
}

bool explain_roof_cache_read(const char *path, const char *key, explain_roof *r) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cnn_json *j = NULL;
    if (cnn_json_parse(buf, n, &j) != CNN_OK) return false;
    const double age = (double)time(NULL) - cnn_json_num(cnn_json_get(j, "measured_unix_s"));
    const cnn_json *levels = cnn_json_get(j, "levels");
    const double peak = cnn_json_num(cnn_json_get(j, "peak_gflops"));
    bool ok = !strcmp(cnn_json_str(cnn_json_get(j, "key"), ""), key) && age >= 0 && age < MAX_AGE_S &&
              cnn_json_len(levels) == r->n_levels && isfinite(peak) && peak > 0;
    double gbs[ROOF_MAX_LEVELS];
    for (int i = 0; ok && i < r->n_levels; i++) {
        const cnn_json *l = cnn_json_at(levels, i);
        gbs[i] = cnn_json_num(cnn_json_get(l, "gbs"));
        ok = !strcmp(cnn_json_str(cnn_json_get(l, "name"), ""), r->level[i].name) && isfinite(gbs[i]) && gbs[i] > 0;
    }
    if (ok) {
        r->peak_gflops = peak;
        for (int i = 0; i < r->n_levels; i++) r->level[i].gbs = gbs[i];
        snprintf(r->peak_source, sizeof r->peak_source, "%s", cnn_json_str(cnn_json_get(j, "peak_how"), "?"));
        snprintf(r->bw_source, sizeof r->bw_source, "%s", cnn_json_str(cnn_json_get(j, "bandwidth_how"), "?"));
        snprintf(r->cached_utc, sizeof r->cached_utc, "%s", cnn_json_str(cnn_json_get(j, "measured_utc"), "?"));
        r->cache_age_s = age;
        r->cached = true;
    }
    cnn_json_free(j);
    return ok;
}

// mkdir -p of path's folder.
static cnn_status make_parent(const char *path) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return CNN_OK;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) return cnn_error(CNN_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return cnn_error(CNN_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    return CNN_OK;
}

// "measured_utc" (ISO 8601) and "measured_unix_s": now.
static void json_now(cnn_json_writer *w) {
    char utc[32];
    const time_t now = time(NULL);
    struct tm tm;
    strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cnn_jw_string(w, "measured_utc", utc);
    cnn_jw_int(w, "measured_unix_s", (long long)now);
}

cnn_status explain_roof_cache_write(const char *path, const char *key, const explain_roof *r) {
    CNN_TRY(make_parent(path));
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return cnn_error(CNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    cnn_json_writer w;
    cnn_jw_init(&w, f);
    cnn_jw_object(&w, NULL);
    cnn_jw_string(&w, "format", "cnn-train explain roofline");
    cnn_jw_string(&w, "key", key);
    json_now(&w);
    cnn_jw_number(&w, "peak_gflops", r->peak_gflops);
    cnn_jw_string(&w, "peak_how", r->peak_source);
    cnn_jw_string(&w, "bandwidth_how", r->bw_source);
    cnn_jw_array(&w, "levels");
    for (int i = 0; i < r->n_levels; i++) {
        cnn_jw_object(&w, NULL);
        cnn_jw_string(&w, "name", r->level[i].name);
        cnn_jw_number(&w, "size_bytes", r->level[i].size);
        cnn_jw_number(&w, "gbs", r->level[i].gbs);
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);
    cnn_jw_end_object(&w);
    fputc('\n', f);
    const bool ok = !ferror(f);
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
        cnn_status s = cnn_error(CNN_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return s;
    }
    return CNN_OK;
}
