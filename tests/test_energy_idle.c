// The idle baselines: the machine's, measured before the backend opens the
// device, and the device's with its context open; cached per host and
// device, reused without waiting, re-measured with --idle-seconds, and
// recorded in run.json with how they were obtained. A fake NVML plays a GPU
// at 80 W that draws 125 W once its context is open (the H200 measured 80
// and 122-128 W); then the cpu-model.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/energy/energy.h"
#include "core/energy/common/json.h"
#include "models/train.h"
#include "test_util.h"

static char open_file[600];

static void drive(cnn_energy_session *s) {
    const cnn_train_observer *o = cnn_energy_observer(s);
    cnn_train_config cfg = cnn_train_config_default();
    cfg.target_acc = 0.5;
    cnn_train_info info = {&cfg, "mnist", "cuda", "fake", "fake device", "mlp test", 10, 100, 100, "ops", NULL};
    o->on_train_begin(o->user, &info, cnn_now_s());
    o->on_epoch_begin(o->user, 1, cnn_now_s());
    cnn_eval_point p = {.epoch = 1, .step = 10, .epochs_done = 1.0, .train_loss = 0.3, .test_loss = 0.2,
                        .test_acc = 0.6, .test_hits = 60, .n_test = 100};
    o->on_eval_begin(o->user, cnn_now_s());
    o->on_eval(o->user, &p, cnn_now_s());
    o->on_epoch_end(o->user, 1, cnn_now_s());
    cnn_train_result r = {0};
    r.reached = 1;
    o->on_train_end(o->user, &r, cnn_now_s());
}

// One session: idle (per the options), "the device opens", device_ready, a tiny training, the record.
static cnn_json *session(cnn_energy_options *o, const char *backend, const char *dir) {
    snprintf(o->out_dir, sizeof o->out_dir, "%s", dir);
    unlink(open_file);
    cnn_energy_session *s = NULL;
    CHECK_OK(cnn_energy_start(o, backend, stdout, &s));
    FILE *f = fopen(open_file, "w"); // the backend opens the device: the fake GPU now draws more
    if (f) fclose(f);
    CHECK_OK(cnn_energy_device_ready(s, stdout));
    drive(s);
    FILE *devnull = fopen("/dev/null", "w");
    CHECK_OK(cnn_energy_finish(s, devnull, NULL));
    fclose(devnull);
    cnn_energy_free(s);
    return test_load_run_json(dir);
}

static const cnn_json *idle_of(const cnn_json *j) { return cnn_json_get(j, "idle"); }
static const char *source(const cnn_json *j) { return cnn_json_str(cnn_json_get(idle_of(j), "source"), "?"); }

static void test_gpu(const char *root) {
    char dir[600];
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    snprintf(o.meters, sizeof o.meters, "nvml");
    o.power_interval_ms = 10;
    o.idle_seconds = 0.4; // the default's behaviour (not forced), shorter
    snprintf(dir, sizeof dir, "%s/gpu1", root);
    cnn_json *j = session(&o, "cuda", dir);
    CHECK(j && !strcmp(source(j), "measured now"));
    double machine = cnn_json_num(cnn_json_get(idle_of(j), "total_power_w"));
    double open = cnn_json_num(cnn_json_get(idle_of(j), "device_open_total_power_w"));
    printf("fake GPU: machine idle %.2f W, device open %.2f W\n", machine, open);
    CHECK(fabs(machine - 80) < 4 && fabs(open - 125) < 4);
    CHECK(!strcmp(cnn_json_str(cnn_json_get(idle_of(j), "above_idle_subtracts"), ""),
                  "the machine's idle (before the device was opened)"));
    const cnn_json *e = cnn_json_get(j, "energy");
    double dur = cnn_json_num(cnn_json_get(cnn_json_get(j, "training"), "duration_s"));
    CHECK(fabs(cnn_json_num(cnn_json_get(e, "above_idle_total_j")) -
               (cnn_json_num(cnn_json_get(e, "total_j")) - machine * dur)) < 1e-6 + 1e-9 * machine);
    cnn_json_free(j);

    // The second run reads the cache: no waiting, the same powers, the date they were measured.
    snprintf(dir, sizeof dir, "%s/gpu2", root);
    j = session(&o, "cuda", dir);
    CHECK(j && !strcmp(source(j), "cached"));
    CHECK(fabs(cnn_json_num(cnn_json_get(idle_of(j), "total_power_w")) - machine) < 1e-9);
    CHECK(fabs(cnn_json_num(cnn_json_get(idle_of(j), "device_open_total_power_w")) - open) < 1e-9);
    CHECK(cnn_json_str(cnn_json_get(idle_of(j), "cached_from_utc"), NULL) != NULL);
    CHECK(cnn_json_num(cnn_json_get(idle_of(j), "cache_age_s")) >= 0);
    cnn_json_free(j);

    // --idle-seconds forces a fresh measurement; 0 takes none.
    CHECK(cnn_energy_parse_option(&o, "idle-seconds", "0.3") == 1);
    snprintf(dir, sizeof dir, "%s/gpu3", root);
    j = session(&o, "cuda", dir);
    CHECK(j && !strcmp(source(j), "measured now"));
    cnn_json_free(j);
    CHECK(cnn_energy_parse_option(&o, "idle-seconds", "0") == 1);
    snprintf(dir, sizeof dir, "%s/gpu4", root);
    j = session(&o, "cuda", dir);
    CHECK(j && !strcmp(source(j), "none"));
    const cnn_json *m = cnn_json_get(idle_of(j), "measured");
    CHECK(m && m->type == CNN_JSON_BOOL && m->number == 0);
    cnn_json_free(j);
}

static void test_cpu(const char *root) {
    char dir[600], cache[700];
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    snprintf(o.meters, sizeof o.meters, "cpu-model");
    o.idle_seconds = 0.3;
    snprintf(dir, sizeof dir, "%s/cpu1", root);
    cnn_json *j = session(&o, "cpu", dir);
    CHECK(j && !strcmp(source(j), "measured now"));
    snprintf(cache, sizeof cache, "%s", cnn_json_str(cnn_json_get(idle_of(j), "cache_file"), ""));
    CHECK(strstr(cache, "/cache/cnn-train/idle-") && access(cache, R_OK) == 0);
    cnn_json_free(j);
    snprintf(dir, sizeof dir, "%s/cpu2", root);
    j = session(&o, "cpu", dir);
    CHECK(j && !strcmp(source(j), "cached"));
    cnn_json_free(j);
    // Another meter set does not reuse this cache: its key names the meters.
    CHECK(cnn_energy_parse_option(&o, "cpu-tdp", "16") == 1);
    snprintf(dir, sizeof dir, "%s/cpu3", root);
    j = session(&o, "cpu", dir);
    CHECK(j && !strcmp(source(j), "measured now"));
    cnn_json_free(j);
}

int main(void) {
    setenv("CNN_POWERCAP_ROOT", "/nonexistent/powercap", 1);
    const char *lib = getenv("CNN_TEST_FAKE_NVML");
    if (!lib || access(lib, R_OK) != 0) {
        fprintf(stderr, "CNN_TEST_FAKE_NVML must name the fake NVML library built by tests/energy.cmake\n");
        return 1;
    }
    char root[] = "/tmp/cnn_idle_test_XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char cache[600];
    snprintf(cache, sizeof cache, "%s/cache", root);
    setenv("XDG_CACHE_HOME", cache, 1); // never the user's cache
    snprintf(open_file, sizeof open_file, "%s/device-open", root);
    setenv("CNN_NVML_LIB", lib, 1);
    setenv("FAKE_NVML_MODE", "power", 1);
    setenv("FAKE_NVML_POWER_W", "80", 1);
    setenv("FAKE_NVML_OPEN_POWER_W", "125", 1);
    setenv("FAKE_NVML_OPEN_FILE", open_file, 1);
    test_gpu(root);
    test_cpu(root);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
    return test_finish("test_energy_idle");
}
