// The NVML meter: absent library → unavailable with a clear note, and a
// cuda-backend session still runs (without GPU energy); then a fake
// libnvidia-ml (test_energy_fake_nvml.c, path in $CNN_TEST_FAKE_NVML) for
// the counter mode, the power mode (integrated by the sampler) and a
// failing nvmlInit, and a session that records the GPU in run.json.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/energy/energy.h"
#include "core/energy/common/json.h"
#include "core/energy/meters/sampler.h"
#include "models/train.h"
#include "test_util.h"

static char tmp_root[256];

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// A minimal training: one epoch with one evaluation, driven through the observer.
static void drive(cnn_energy_session *s) {
    const cnn_train_observer *o = cnn_energy_observer(s);
    cnn_train_config cfg = cnn_train_config_default();
    cfg.target_acc = 0.9;
    cnn_train_info info = {&cfg, "mnist", "cuda", "fake", "fake device", "mlp test", 10, 100, 100, "ops", NULL};
    o->on_train_begin(o->user, &info, cnn_now_s());
    o->on_epoch_begin(o->user, 1, cnn_now_s());
    sleep_ms(30);
    o->on_eval_begin(o->user, cnn_now_s());
    cnn_eval_point p = {.epoch = 1, .step = 10, .epochs_done = 1.0, .train_loss = 0.3, .test_loss = 0.2,
                        .test_acc = 0.95, .test_hits = 95, .n_test = 100, .elapsed_s = 0.03};
    o->on_eval(o->user, &p, cnn_now_s());
    o->on_epoch_end(o->user, 1, cnn_now_s());
    cnn_train_result r = {0};
    r.reached = 1;
    o->on_train_end(o->user, &r, cnn_now_s());
}

// Plays a training run through the session, finishes it (summary to
// /dev/null), frees it, and returns the parsed run.json of dir.
static cnn_json *run_and_load(cnn_energy_session *s, const char *dir) {
    drive(s);
    FILE *devnull = fopen("/dev/null", "w");
    CHECK_OK(cnn_energy_finish(s, devnull, NULL));
    fclose(devnull);
    cnn_energy_free(s);
    return test_load_run_json(dir);
}

static void test_absent(void) {
    setenv("CNN_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    cnn_meter m;
    char note[512];
    CHECK(cnn_meter_nvml_open(0, &m, note, sizeof note) == CNN_ERR_UNSUPPORTED);
    CHECK(strstr(note, "could not be loaded") && strstr(note, "not measured"));
    CHECK(strstr(cnn_last_error(), "NVML") != NULL);

    // A cuda run still works: the note is printed and the CPU is still metered.
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    o.idle_seconds = 0;
    snprintf(o.out_dir, sizeof o.out_dir, "%s/absent", tmp_root);
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    cnn_energy_session *s = NULL;
    CHECK_OK(cnn_energy_start(&o, "cuda", log, &s));
    fclose(log);
    CHECK(logbuf && strstr(logbuf, "NVML") && strstr(logbuf, "without GPU energy"));
    free(logbuf);
    if (s) {
        cnn_json *j = run_and_load(s, o.out_dir);
        const cnn_json *meters = cnn_json_get(j, "meters");
        CHECK(cnn_json_len(meters) == 1);
        CHECK(!strcmp(cnn_json_str(cnn_json_get(cnn_json_at(meters, 0), "name"), ""), "cpu-model"));
        CHECK(cnn_json_num(cnn_json_get(cnn_json_get(j, "hardware"), "gpu_count")) == 0);
        const cnn_json *notes = cnn_json_get(j, "notes");
        int found = 0;
        for (int i = 0; i < cnn_json_len(notes); i++) found |= strstr(cnn_json_str(cnn_json_at(notes, i), ""), "NVML") != NULL;
        CHECK(found);
        cnn_json_free(j);
    }
    // Asking for NVML explicitly is an error that says why.
    snprintf(o.meters, sizeof o.meters, "nvml");
    snprintf(o.out_dir, sizeof o.out_dir, "%s/absent-nvml", tmp_root); // a directory of its own: the one above holds a record
    CHECK(cnn_energy_start(&o, "cuda", NULL, &s) == CNN_ERR_UNSUPPORTED && strstr(cnn_last_error(), "--meters nvml"));
}

static void test_fake(const char *lib) {
    setenv("CNN_NVML_LIB", lib, 1);
    char note[512];
    cnn_meter m;
    // Counter mode.
    setenv("FAKE_NVML_MODE", "counter", 1);
    CHECK_OK(cnn_meter_nvml_open(0, &m, note, sizeof note));
    CHECK(m.info.prov == CNN_PROV_MEASURED_COUNTER && !m.reads_power);
    CHECK(!strcmp(m.info.name, "nvml:0") && !strcmp(m.info.device, "Fake GPU 80GB") && !strcmp(m.info.component, "gpu"));
    CHECK(m.info.update_period_s == 0.1);
    char drv[64];
    cnn_nvml_driver_version(drv, sizeof drv);
    CHECK(!strcmp(drv, "999.99"));
    double v;
    CHECK_OK(m.read(&m, &v));
    CHECK(fabs(v - 0.25) < 1e-12); // 250 mJ since open
    CHECK_OK(m.read(&m, &v));
    CHECK(fabs(v - 0.5) < 1e-12);
    cnn_meter m1;
    CHECK(cnn_meter_nvml_open(1, &m1, note, sizeof note) == CNN_ERR_UNSUPPORTED && strstr(note, "no GPU 1"));
    cnn_meter_close(&m);

    // Power mode: 150 W, integrated by the sampler (exact for a constant power).
    setenv("FAKE_NVML_MODE", "power", 1);
    CHECK_OK(cnn_meter_nvml_open(0, &m, note, sizeof note));
    CHECK(m.info.prov == CNN_PROV_MEASURED_POWER && m.reads_power);
    CHECK_OK(m.read(&m, &v));
    CHECK(v == 150.0);
    cnn_sampler *sm = NULL;
    CHECK_OK(cnn_sampler_start(&m, 1, 0.01, &sm));
    if (sm) {
        sleep_ms(200);
        cnn_sampler_stop(sm);
        const cnn_energy_series *se = cnn_sampler_series(sm, 0);
        CHECK(se->n >= 5);
        CHECK(se->s[0].j == 0.0);
        double span = cnn_sample_time(&se->s[se->n - 1]) - cnn_sample_time(&se->s[0]);
        CHECK(fabs(se->s[se->n - 1].j - 150.0 * span) < 1e-9 * 150.0 * span);
        for (size_t i = 0; i < se->n; i++) CHECK(se->s[i].w == 150.0);
        long reads, wakeups;
        cnn_sampler_overhead(sm, NULL, &reads, &wakeups);
        CHECK(reads >= 3 && wakeups >= 1);
        cnn_sampler_free(sm);
    }
    cnn_meter_close(&m);

    // nvmlInit failing: unavailable with the reason.
    setenv("FAKE_NVML_MODE", "initfail", 1);
    CHECK(cnn_meter_nvml_open(0, &m, note, sizeof note) == CNN_ERR_UNSUPPORTED);
    CHECK(strstr(note, "nvmlInit failed") && strstr(note, "Uninitialized"));

    // A cuda session with the (fake) counter: the GPU is in run.json with its provenance.
    setenv("FAKE_NVML_MODE", "counter", 1);
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    o.idle_seconds = 0.05;
    o.power_interval_ms = 10;
    snprintf(o.out_dir, sizeof o.out_dir, "%s/fake", tmp_root);
    cnn_energy_session *s = NULL;
    CHECK_OK(cnn_energy_start(&o, "cuda", NULL, &s));
    if (s) {
        cnn_json *j = run_and_load(s, o.out_dir);
        const cnn_json *meters = cnn_json_get(j, "meters");
        CHECK(cnn_json_len(meters) == 2);
        const cnn_json *g = cnn_json_at(meters, 0);
        CHECK(!strcmp(cnn_json_str(cnn_json_get(g, "name"), ""), "nvml:0"));
        CHECK(!strcmp(cnn_json_str(cnn_json_get(g, "provenance"), ""), "measured-counter"));
        const cnn_json *hw = cnn_json_get(j, "hardware");
        CHECK(!strcmp(cnn_json_str(cnn_json_get(hw, "gpu_name"), ""), "Fake GPU 80GB"));
        CHECK(!strcmp(cnn_json_str(cnn_json_get(hw, "gpu_driver"), ""), "999.99"));
        // GPU (measured) + cpu-model (estimated): the total is estimated.
        CHECK(!strcmp(cnn_json_str(cnn_json_get(j, "total_provenance"), ""), "estimated"));
        CHECK(cnn_json_len(cnn_json_get(cnn_json_get(cnn_json_get(j, "impacts"), "factors"), "embodied")) == 2);
        double gpu_j = cnn_json_num(cnn_json_get(cnn_json_get(cnn_json_get(j, "energy"), "per_meter_j"), "nvml:0"));
        CHECK(gpu_j > 0); // the fake counter grows by 250 mJ per read
        cnn_json_free(j);
    }
}

int main(void) {
    setenv("CNN_POWERCAP_ROOT", "/nonexistent/powercap", 1); // the CPU side is the cpu-model everywhere
    snprintf(tmp_root, sizeof tmp_root, "/tmp/cnn_nvml_test_XXXXXX");
    CHECK(mkdtemp(tmp_root) != NULL);
    test_absent();
    const char *lib = getenv("CNN_TEST_FAKE_NVML");
    if (!lib || access(lib, R_OK) != 0) {
        fprintf(stderr, "CNN_TEST_FAKE_NVML must name the fake NVML library built by tests/energy.cmake (got %s)\n",
                lib ? lib : "nothing");
        test_failures++;
    } else {
        test_fake(lib);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    CHECK(system(cmd) == 0);
    return test_finish("test_energy_nvml");
}
