// The idle baselines. Two powers at rest, per meter:
//   - the machine's idle, before the backend opens the device (on an H200:
//     ~80 W): what "above idle" subtracts;
//   - the device's idle with the backend's context open (on an H200:
//     122-128 W), reported beside it.
// Measuring them costs 2 x --idle-seconds of waiting, so they are cached per
// host, backend, GPU and meter set in $XDG_CACHE_HOME/cnn-train (or
// ~/.cache/cnn-train), written atomically, and reused for a week;
// --idle-seconds S measures them now (and refreshes the cache), 0 skips them.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/energy/common/files.h"
#include "core/energy/common/json.h"
#include "core/energy/session.h"

#define MAX_AGE_S (7 * 24 * 3600.0)

static void sleep_s(double sec) {
    struct timespec ts = {(time_t)sec, (long)((sec - floor(sec)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// What the cached powers depend on: host, backend, GPU, meters and the cpu-model's constants.
static void cache_key(const cnn_energy_session *s, char *key, size_t len) {
    char host[128] = "unknown";
    gethostname(host, sizeof host - 1);
    const cnn_energy_world *w = s->res.opt.world; // another rank of a node reads other meters than its first
    int n = snprintf(key, len, "host=%s;backend=%s;gpu=%d;cpu_tdp_w=%g;cpu_idle_w=%g;%smeters=", host, s->res.backend,
                     s->res.opt.gpu_index, s->res.cpu_tdp_w, s->res.cpu_idle_w,
                     w && w->size > 1 && w->local_rank > 0 ? "node_rank>0;" : "");
    for (int m = 0; m < s->res.n_meters && n > 0 && (size_t)n < len; m++)
        n += snprintf(key + n, len - (size_t)n, "%s%s[%s]", m ? "," : "", s->res.info[m].name, s->res.info[m].device);
}

static int cache_dir(char *dir, size_t len) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) return snprintf(dir, len, "%s/cnn-train", xdg) < (int)len;
    if (home && *home) return snprintf(dir, len, "%s/.cache/cnn-train", home) < (int)len;
    return 0;
}

static void cache_file_name(const cnn_energy_session *s, char *name, size_t len) {
    char host[64] = "unknown";
    gethostname(host, sizeof host - 1);
    for (char *p = host; *p; p++)
        if (*p == '/') *p = '_';
    const cnn_energy_world *w = s->res.opt.world;
    if (w && w->size > 1 && w->local_rank > 0) // another rank of a node: its own meters, its own file
        snprintf(name, len, "idle-%s-%s-gpu%d-local%d.json", host, s->res.backend, s->res.opt.gpu_index, w->local_rank);
    else
        snprintf(name, len, "idle-%s-%s-gpu%d.json", host, s->res.backend, s->res.opt.gpu_index);
}

// Reads the cache into s->cached_* when its key matches and it is under a week old. Returns 1 then.
static int cache_read(cnn_energy_session *s, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cnn_json *j = NULL;
    if (cnn_json_parse(buf, n, &j) != CNN_OK) return 0;
    char key[1024];
    cache_key(s, key, sizeof key);
    const cnn_json *meters = cnn_json_get(j, "meters");
    int ok = !strcmp(cnn_json_str(cnn_json_get(j, "key"), ""), key) && cnn_json_len(meters) == s->res.n_meters;
    double age = (double)time(NULL) - cnn_json_num(cnn_json_get(j, "measured_unix_s"));
    ok = ok && age >= 0 && age < MAX_AGE_S;
    for (int m = 0; ok && m < s->res.n_meters; m++) {
        const cnn_json *e = cnn_json_at(meters, m);
        s->res.cached_w[m] = cnn_json_num(cnn_json_get(e, "machine_idle_w"));
        s->res.cached_u[m] = cnn_json_num(cnn_json_get(e, "machine_idle_uncertainty_w"));
        s->res.ctx_w[m] = cnn_json_num(cnn_json_get(e, "device_open_idle_w"));
        s->res.ctx_u[m] = cnn_json_num(cnn_json_get(e, "device_open_idle_uncertainty_w"));
        ok = isfinite(s->res.cached_w[m]) && isfinite(s->res.cached_u[m]);
        s->res.ctx_known = m == 0 ? isfinite(s->res.ctx_w[m]) : s->res.ctx_known && isfinite(s->res.ctx_w[m]);
    }
    if (ok) {
        snprintf(s->res.idle_cached_utc, sizeof s->res.idle_cached_utc, "%s", cnn_json_str(cnn_json_get(j, "measured_utc"), "?"));
        s->res.idle_cache_age_s = age;
        s->res.idle_cached_s = cnn_json_num(cnn_json_get(j, "idle_seconds"));
    } else {
        s->res.ctx_known = 0;
    }
    cnn_json_free(j);
    return ok;
}

void cnn_energy_idle_begin(cnn_energy_session *s, FILE *log) {
    const cnn_energy_options *o = &s->res.opt;
    char dir[1100], name[128];
    s->res.idle_source = "none";
    if (!(o->idle_seconds > 0) || s->res.n_meters == 0) return;
    cache_file_name(s, name, sizeof name);
    if (cache_dir(dir, sizeof dir)) snprintf(s->res.idle_cache_path, sizeof s->res.idle_cache_path, "%s/%s", dir, name);
    if (!o->idle_forced && s->res.idle_cache_path[0] && cache_read(s, s->res.idle_cache_path)) {
        s->res.idle_cached = 1;
        s->res.idle_source = "cached";
        if (log) fprintf(log, "energy: idle baseline cached from %s (%.1f h old; --idle-seconds S measures it now)\n",
                         s->res.idle_cached_utc, s->res.idle_cache_age_s / 3600.0);
        return;
    }
    if (log) {
        fprintf(log, "energy: measuring the machine's idle baseline for %g s (then the device's, once it is open)%s\n",
                o->idle_seconds, o->idle_forced ? "" : "; cached for later runs");
        fflush(log);
    }
    s->res.idle_source = "measured now";
    s->idle_t0 = cnn_now_s();
    sleep_s(o->idle_seconds);
    s->idle_t1 = cnn_now_s();
}

cnn_status cnn_energy_device_ready(cnn_energy_session *s, FILE *log) {
    if (!s || !(s->idle_t1 > s->idle_t0)) return CNN_OK; // only when the baseline is measured now
    if (log) {
        fprintf(log, "energy: measuring the device's idle with its context open for %g s ...\n", s->res.opt.idle_seconds);
        fflush(log);
    }
    s->ctx_t0 = cnn_now_s();
    sleep_s(s->res.opt.idle_seconds);
    s->ctx_t1 = cnn_now_s();
    return CNN_OK;
}

static void fill_cache(FILE *f, const void *ctx) {
    const cnn_energy_session *s = ctx;
    const cnn_energy_accounting *a = &s->res.acc;
    char key[1024], utc[32];
    cache_key(s, key, sizeof key);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cnn_json_writer w;
    cnn_jw_init(&w, f);
    cnn_jw_object(&w, NULL);
    cnn_jw_string(&w, "format", "cnn-train idle baseline");
    cnn_jw_string(&w, "key", key);
    cnn_jw_string(&w, "measured_utc", utc);
    cnn_jw_int(&w, "measured_unix_s", (long long)now);
    cnn_jw_number(&w, "idle_seconds", a->idle_s);
    cnn_jw_array(&w, "meters");
    for (int m = 0; m < s->res.n_meters; m++) {
        cnn_jw_object(&w, NULL);
        cnn_jw_string(&w, "name", s->res.info[m].name);
        cnn_jw_number(&w, "machine_idle_w", a->idle_w[m]);
        cnn_jw_number(&w, "machine_idle_uncertainty_w", a->idle_u_w[m]);
        cnn_jw_number(&w, "device_open_idle_w", s->res.ctx_known ? s->res.ctx_w[m] : NAN);
        cnn_jw_number(&w, "device_open_idle_uncertainty_w", s->res.ctx_known ? s->res.ctx_u[m] : NAN);
        cnn_jw_end_object(&w);
    }
    cnn_jw_end_array(&w);
    cnn_jw_end_object(&w);
    fputc('\n', f);
}

// After the accounting: the device-open idle from its window, and the cache refreshed when measured now.
void cnn_energy_idle_finish(cnn_energy_session *s, const cnn_energy_input *in) {
    if (s->ctx_t1 > s->ctx_t0) {
        cnn_energy_window_power(in, s->ctx_t0, s->ctx_t1, s->res.ctx_w, s->res.ctx_u);
        s->res.ctx_known = 1;
    }
    if (!(s->idle_t1 > s->idle_t0) || !s->res.acc.idle_measured || !s->res.idle_cache_path[0]) return;
    char dir[1100];
    if (!cache_dir(dir, sizeof dir) || cnn_energy_mkdirs(dir) != CNN_OK ||
        cnn_energy_write_file(dir, strrchr(s->res.idle_cache_path, '/') + 1, fill_cache, s) != CNN_OK)
        cnn_energy_notes_add(&s->res.notes, NULL, "the idle baseline could not be cached in %s (%s); the next run measures it again",
                        dir, cnn_last_error());
}
