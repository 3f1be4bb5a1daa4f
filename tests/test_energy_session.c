// A whole energy session on this machine with the cpu-model meter and a
// training loop played through the observer (busy loops stand in for the
// epochs): idle baseline, sampler, windows, summary, the four files, the
// accounting identities read back from run.json, every figure's
// provenance, and the report (three SVGs; clear errors for bad run
// directories). With an argument, the run directory is kept there (the
// SVG test parses it).
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/energy/energy.h"
#include "core/energy/common/json.h"
#include "models/train.h"
#include "test_util.h"

static volatile double sink;

static void busy(double sec) {
    double t0 = cnn_now_s(), x = 0;
    while (cnn_now_s() - t0 < sec)
        for (int i = 0; i < 10000; i++) x += sqrt((double)i);
    sink = x;
}

static int file_exists(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static char *slurp(const char *dir, const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static double num(const cnn_json *v, const char *key) { return cnn_json_num(cnn_json_get(v, key)); }

static void check_run_json(const char *dir) {
    size_t len;
    char *text = slurp(dir, "run.json", &len);
    CHECK(text != NULL);
    if (!text) return;
    cnn_json *j = NULL;
    CHECK_OK(cnn_json_parse(text, len, &j));
    free(text);
    if (!j) return;
    CHECK(!strcmp(cnn_json_str(cnn_json_get(j, "format"), ""), "cnn-train run record"));
    const cnn_json *meters = cnn_json_get(j, "meters");
    CHECK(cnn_json_len(meters) == 1);
    const cnn_json *m0 = cnn_json_at(meters, 0);
    CHECK(!strcmp(cnn_json_str(cnn_json_get(m0, "name"), ""), "cpu-model"));
    CHECK(!strcmp(cnn_json_str(cnn_json_get(m0, "provenance"), ""), "estimated"));
    CHECK(!strcmp(cnn_json_str(cnn_json_get(j, "total_provenance"), ""), "estimated"));

    // Idle: the cpu-model at rest draws its idle power (2 W here) plus what the process still burns
    // (the sampler, and OpenBLAS's worker threads spinning for a moment after they start): within the model's range.
    const cnn_json *idle = cnn_json_get(j, "idle");
    double idle_w = num(cnn_json_get(idle, "power_w"), "cpu-model");
    CHECK(idle_w >= 2.0 && idle_w <= 10.0);
    double idle_s = cnn_json_num(cnn_json_get(idle, "duration_s"));
    CHECK(idle_s >= 0.299 && idle_s < 0.5); // --idle-seconds 0.3 (a loaded machine may oversleep a little)

    // Epochs + outside = total; each epoch between idle and TDP power.
    const cnn_json *energy = cnn_json_get(j, "energy");
    double total = num(energy, "total_j");
    CHECK(!strcmp(cnn_json_str(cnn_json_get(energy, "provenance"), ""), "estimated"));
    double sum = num(energy, "outside_epochs_total_j");
    const cnn_json *epochs = cnn_json_get(j, "epochs");
    CHECK(cnn_json_len(epochs) == 2);
    for (int i = 0; i < cnn_json_len(epochs); i++) {
        const cnn_json *e = cnn_json_at(epochs, i);
        double ej = num(e, "total_j"), d = num(e, "duration_s");
        sum += ej;
        CHECK(ej >= 2.0 * d * 0.999 && ej <= 10.0 * d * 1.001);
        CHECK(ej > idle_w * d); // a busy loop costs more than idling
        CHECK(fabs(num(cnn_json_get(e, "energy_j"), "cpu-model") - ej) < 1e-9 * ej);
        CHECK(!strcmp(cnn_json_str(cnn_json_get(e, "provenance"), ""), "estimated"));
    }
    CHECK(fabs(sum - total) <= 1e-6 * total);
    double above = num(energy, "above_idle_total_j");
    double dur = num(cnn_json_get(j, "training"), "duration_s");
    CHECK(fabs(above - (total - idle_w * dur)) <= 1e-6 * total);

    // Steps: default ladder for target 0.9 → 0.5, 0.8, 0.9; 0.5 and 0.8 at the first evaluation (0.85).
    const cnn_json *steps = cnn_json_get(j, "accuracy_steps");
    CHECK(cnn_json_len(steps) == 3);
    const cnn_json *s1 = cnn_json_at(steps, 1), *s2 = cnn_json_at(steps, 2);
    CHECK(num(s1, "marginal_total_j") == 0.0 && cnn_json_get(s1, "same_evaluation_as_previous")->number == 1);
    double cum0 = num(cnn_json_at(steps, 0), "cumulative_total_j"), cum2 = num(s2, "cumulative_total_j");
    CHECK(fabs(num(s2, "marginal_total_j") - (cum2 - cum0)) < 1e-9 * cum2);
    CHECK(fabs(num(cnn_json_get(j, "last_step"), "share_of_energy") - (cum2 - cum0) / cum2) < 1e-9);
    const cnn_json *fu = cnn_json_get(j, "functional_unit");
    CHECK(cnn_json_get(fu, "reached")->number == 1 && fabs(num(fu, "total_j") - cum2) < 1e-9 * cum2);
    CHECK(!strcmp(cnn_json_str(cnn_json_get(fu, "provenance"), ""), "estimated"));
    const cnn_json *imp = cnn_json_get(j, "impacts");
    CHECK(!strcmp(cnn_json_str(cnn_json_get(imp, "provenance"), ""), "estimated"));
    double kwh = num(imp, "energy_kwh");
    CHECK(fabs(kwh - cum2 / 3.6e6) < 1e-9 * kwh);
    CHECK(fabs(num(cnn_json_get(imp, "operational"), "gwp_kgco2eq") - kwh * 0.39) < 1e-9 * kwh);
    CHECK(num(cnn_json_get(imp, "embodied"), "gwp_kgco2eq") > 0);
    const cnn_json *sampler = cnn_json_get(j, "sampler");
    CHECK(num(sampler, "reads") >= 5 && num(sampler, "marks") >= 10);
    CHECK(num(sampler, "mark_max_us") >= 0 && num(sampler, "mark_max_us") < 1e6);
    CHECK(num(sampler, "overhead_pct") >= 0 && num(sampler, "overhead_pct") < 50);
    cnn_json_free(j);

    // epochs.csv: one provenance column per meter and for the total.
    char *csv = slurp(dir, "epochs.csv", &len);
    CHECK(csv && strstr(csv, "cpu-model_j,cpu-model_uncertainty_j,cpu-model_provenance") &&
          strstr(csv, "total_j,total_uncertainty_j,total_provenance"));
    CHECK(csv && !strncmp(csv, "run,epoch,", 10)); // the run column (cnn-train --repeat), then the epoch
    CHECK(csv && strstr(csv, "\n1,1,") && strstr(csv, "\n1,2,") && strstr(csv, ",estimated,"));
    free(csv);
    csv = slurp(dir, "power.csv", &len);
    CHECK(csv && !strncmp(csv, "timestamp,meter,watts,joules,provenance\n", 40) && strstr(csv, ",cpu-model,"));
    free(csv);
    csv = slurp(dir, "emissions.csv", &len);
    const char *cc_head = "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power";
    CHECK(csv && !strncmp(csv, cc_head, strlen(cc_head)));
    CHECK(csv && strstr(csv, ",cnn-train,") && !strstr(csv, "WOR") && strstr(csv, ",N,1.0,0.0\n")); // on_cloud,pue,wue
    free(csv);
}

static void check_report_errors(const char *tmp) {
    CHECK(cnn_report_render("/nonexistent/run", NULL) == CNN_ERR_IO && strstr(cnn_last_error(), "does not exist"));
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/not_a_run", tmp);
    mkdir(dir, 0755);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_IO && strstr(cnn_last_error(), "no run.json"));
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\n  \"format\": \"cnn-train run record\",\n  \"epochs\": [1, 2\n}\n", f);
    fclose(f);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_FORMAT && strstr(cnn_last_error(), "line 4"));
    f = fopen(path, "w");
    fputs("{\"format\": \"something else\"}\n", f);
    fclose(f);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_FORMAT && strstr(cnn_last_error(), "not a cnn-train run record"));
    f = fopen(path, "w");
    fputs("{\"format\": \"cnn-train run record\"}\n", f);
    fclose(f);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_IO && strstr(cnn_last_error(), "power.csv"));
    snprintf(path, sizeof path, "%s/power.csv", dir);
    f = fopen(path, "w");
    fputs("time,watts\n1,2\n", f);
    fclose(f);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_FORMAT && strstr(cnn_last_error(), "header"));
    // A non-finite value is refused with the file and line (it used to reach the SVG as x="-nan").
    f = fopen(path, "w");
    fputs("timestamp,meter,watts,joules,provenance\n0.1,cpu-model,2.5,0.25,estimated\n"
          "nan,cpu-model,2.5,0.5,estimated\n", f);
    fclose(f);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_FORMAT && strstr(cnn_last_error(), "power.csv line 3") &&
          strstr(cnn_last_error(), "finite"));
    f = fopen(path, "w");
    fputs("timestamp,meter,watts,joules,provenance\n0.1,cpu-model,inf,0.25,estimated\n", f);
    fclose(f);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_FORMAT && strstr(cnn_last_error(), "power.csv line 2"));
    // Over 1 GiB: refused before it is read (a sparse file: no disk, no time).
    CHECK(truncate(path, (off_t)1200 * 1024 * 1024) == 0);
    CHECK(cnn_report_render(dir, NULL) == CNN_ERR_FORMAT && strstr(cnn_last_error(), "1 GiB"));
    unlink(path);
    snprintf(path, sizeof path, "%s/power.svg", dir);
    CHECK(access(path, F_OK) != 0); // nothing written on failure
}

int main(int argc, char **argv) {
    setenv("CNN_POWERCAP_ROOT", "/nonexistent/powercap", 1);
    setenv("XDG_CACHE_HOME", "/tmp/cnn_energy_session_cache", 1); // the idle cache: never the user's
    char tmp[256];
    snprintf(tmp, sizeof tmp, "/tmp/cnn_energy_session_XXXXXX");
    CHECK(mkdtemp(tmp) != NULL);
    char dir[512];
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else snprintf(dir, sizeof dir, "%s/run/nested", tmp); // created with its parents

    // --no-energy: no session, an observer without callbacks, finish does nothing.
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    CHECK(cnn_energy_parse_option(&o, "no-energy", NULL) == 1);
    cnn_energy_session *s = (cnn_energy_session *)&o; // must be overwritten
    CHECK_OK(cnn_energy_start(&o, "cpu", NULL, &s));
    CHECK(s == NULL);
    const cnn_train_observer *none = cnn_energy_observer(NULL);
    CHECK(none && !none->on_train_begin && !none->on_eval);
    const char *rd = "x";
    CHECK_OK(cnn_energy_finish(NULL, stdout, &rd));
    CHECK(rd == NULL);
    cnn_energy_free(NULL);

    cnn_energy_options_default(&o);
    CHECK(cnn_energy_parse_option(&o, "out", dir) == 1);
    CHECK(cnn_energy_parse_option(&o, "idle-seconds", "0.3") == 1);
    CHECK(cnn_energy_parse_option(&o, "power-interval-ms", "10") == 1);
    CHECK(cnn_energy_parse_option(&o, "cpu-tdp", "10") == 1);
    CHECK(cnn_energy_parse_option(&o, "cpu-idle-w", "2") == 1);
    CHECK_OK(cnn_energy_start(&o, "cpu", stdout, &s));
    if (!s) return test_finish("test_energy_session");

    // A finish before any training is an error that says what to do.
    // (Checked on a second session so that this one stays usable.)
    cnn_energy_options o2 = o;
    o2.idle_seconds = 0;
    char dir2[600];
    snprintf(dir2, sizeof dir2, "%s/empty", tmp);
    snprintf(o2.out_dir, sizeof o2.out_dir, "%s", dir2);
    cnn_energy_session *s2 = NULL;
    CHECK_OK(cnn_energy_start(&o2, "cpu", NULL, &s2));
    CHECK(cnn_energy_finish(s2, NULL, NULL) == CNN_ERR_INVALID_ARG && strstr(cnn_last_error(), "cnn_energy_observer"));
    cnn_energy_free(s2);

    const cnn_train_observer *ob = cnn_energy_observer(s);
    cnn_train_config cfg = cnn_train_config_default();
    cfg.target_acc = 0.9;
    cnn_train_info info = {&cfg, "mnist", "cpu", "openblas", "test device", "mlp test", 10, 100, 100, "ops", NULL};
    double t0 = cnn_now_s();
    ob->on_train_begin(ob->user, &info, t0);
    double accs[2] = {0.85, 0.93};
    for (int e = 1; e <= 2; e++) {
        ob->on_epoch_begin(ob->user, e, cnn_now_s());
        busy(0.25);
        ob->on_eval_begin(ob->user, cnn_now_s());
        busy(0.05);
        cnn_eval_point p = {.epoch = e, .step = 10L * e, .epochs_done = (double)e, .train_loss = 0.5 / e,
                            .test_loss = 0.4 / e, .test_acc = accs[e - 1], .test_hits = lround(accs[e - 1] * 100),
                            .n_test = 100, .elapsed_s = cnn_now_s() - t0};
        ob->on_eval(ob->user, &p, cnn_now_s());
        ob->on_epoch_end(ob->user, e, cnn_now_s());
    }
    cnn_train_result r = {0};
    r.reached = 1;
    r.epochs = 2;
    r.steps = 20;
    ob->on_train_end(ob->user, &r, cnn_now_s());
    const char *run_dir = NULL;
    CHECK_OK(cnn_energy_finish(s, stdout, &run_dir));
    CHECK(run_dir && !strcmp(run_dir, dir));
    CHECK_OK(cnn_energy_finish(s, NULL, NULL)); // a second finish is harmless
    cnn_energy_free(s);

    const char *files[] = {"run.json", "epochs.csv", "power.csv", "emissions.csv"};
    for (int i = 0; i < 4; i++) CHECK(file_exists(dir, files[i]));
    check_run_json(dir);

    int n = 0;
    CHECK_OK(cnn_report_render_count(dir, stdout, &n));
    CHECK(n == 4); // a single run: no repeats plots
    CHECK(file_exists(dir, "power.svg") && file_exists(dir, "accuracy_energy.svg") && file_exists(dir, "step_energy.svg"));
    CHECK(file_exists(dir, "epoch_energy.svg") && !file_exists(dir, "repeats_accuracy_energy.svg"));
    check_report_errors(tmp);

    char cmd[600];
    CHECK(system("rm -rf /tmp/cnn_energy_session_cache") == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    return test_finish("test_energy_session");
}
