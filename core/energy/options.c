// The energy options of cnn-train: defaults, parsing, --help lines.
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/energy/energy.h"
#include "core/energy/accounting/impacts.h"

void cnn_energy_options_default(cnn_energy_options *o) {
    memset(o, 0, sizeof *o);
    o->enabled = 1;
    o->power_interval_ms = 100;
    o->idle_seconds = 2.0;
    snprintf(o->meters, sizeof o->meters, "auto");
    o->pue = 1.0;
    o->grid_gco2 = -1;
    o->grid_pe_mj = -1;
    o->grid_adp = -1;
    o->cpu_tdp_w = -1;
    o->cpu_idle_w = -1;
    o->aur = 0.5;
    o->lifetime_years = 4.0;
    o->host_share = -1;
}

static int parse_num(const char *s, double *out) {
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(d)) return 0;
    *out = d;
    return 1;
}

static int bad(const char *fmt, const char *name, const char *value) {
    cnn_error(CNN_ERR_INVALID_ARG, fmt, name, value ? value : "(nothing)");
    return -1;
}

// Parses "a,b,c" into up to max numbers; returns the count or -1.
static int parse_list(const char *s, double *out, int max) {
    if (!s || !*s) return -1;
    int n = 0;
    const char *p = s;
    while (1) {
        char item[64];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item || n == max) return -1;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!parse_num(item, &out[n++])) return -1;
        if (p[len] == '\0') break;
        p += len + 1;
    }
    return n;
}

static int parse_impact3(const char *name, const char *value, cnn_impact3 *out) {
    double v[3];
    if (parse_list(value, v, 3) != 3 || v[0] < 0 || v[1] < 0 || v[2] < 0)
        return bad("--%s needs three non-negative numbers GWP,PE,ADP (kgCO2eq, MJ, kgSbeq for the whole device, "
                   "e.g. 970,13000,0.15), got '%s'",
                   name, value);
    *out = (cnn_impact3){v[0], v[1], v[2]};
    return 1;
}

static int valid_meter_list(const char *s) {
    if (!strcmp(s, "auto")) return 1;
    char buf[128];
    if (strlen(s) >= sizeof buf || !*s) return 0;
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "nvml") && strcmp(tok, "rapl") && strcmp(tok, "cpu-model")) return 0;
        n++;
    }
    return n > 0 && s[strlen(s) - 1] != ',' && s[0] != ',';
}

int cnn_energy_option_is_flag(const char *name) { return name && !strcmp(name, "no-energy"); }

// The options that take one number in a range into a double field.
typedef struct {
    const char *name;
    double lo, hi;
    int lo_open;       // the range excludes lo
    size_t offset;     // of the double in cnn_energy_options
    const char *rule;  // "--NAME RULE, got 'VALUE'"
} num_option;

static const num_option num_options[] = {
    {"pue", 1.0, 5.0, 0, offsetof(cnn_energy_options, pue),
     "(power usage effectiveness) must be in [1, 5] (default 1.0)"},
    {"grid-gco2", 0, 2000, 0, offsetof(cnn_energy_options, grid_gco2),
     "must be in [0, 2000] gCO2eq/kWh (e.g. 56 for France)"},
    {"grid-pe", 0, 100, 0, offsetof(cnn_energy_options, grid_pe_mj),
     "must be in [0, 100] MJ of primary energy per kWh"},
    {"grid-adp", 0, 1e-3, 0, offsetof(cnn_energy_options, grid_adp),
     "must be in [0, 0.001] kgSbeq per kWh (typically around 7e-8)"},
    {"cpu-tdp", 0, 10000, 1, offsetof(cnn_energy_options, cpu_tdp_w),
     "must be in (0, 10000] W (the TDP share of the CPUs this machine has)"},
    {"cpu-idle-w", 0, 10000, 0, offsetof(cnn_energy_options, cpu_idle_w), "must be in [0, 10000] W"},
    {"aur", 0, 1, 1, offsetof(cnn_energy_options, aur),
     "(average utilisation rate over the hardware's life) must be in (0, 1] (default 0.5)"},
    {"lifetime-years", 0, 50, 1, offsetof(cnn_energy_options, lifetime_years),
     "must be in (0, 50] years (default 4)"},
    {"host-share", 0, 1, 1, offsetof(cnn_energy_options, host_share),
     "(this machine's share of the host server) must be in (0, 1]"},
};

// A numeric option of the table: 1 stored, -1 out of range (said), 0 not one of them.
static int parse_num_option(cnn_energy_options *o, const char *name, const char *value) {
    for (size_t i = 0; i < sizeof num_options / sizeof num_options[0]; i++) {
        const num_option *n = &num_options[i];
        if (strcmp(name, n->name) != 0) continue;
        double d;
        if (!parse_num(value, &d) || (n->lo_open ? d <= n->lo : d < n->lo) || d > n->hi) {
            cnn_error(CNN_ERR_INVALID_ARG, "--%s %s, got '%s'", name, n->rule, value);
            return -1;
        }
        *(double *)((char *)o + n->offset) = d;
        return 1;
    }
    return 0;
}

// --acc-steps: up to CNN_ENERGY_MAX_STEPS increasing fractions in (0, 1].
static int parse_acc_steps(cnn_energy_options *o, const char *name, const char *value) {
    double v[CNN_ENERGY_MAX_STEPS];
    int n = parse_list(value, v, CNN_ENERGY_MAX_STEPS);
    if (n < 1)
        return bad("--%s needs up to 16 comma-separated accuracies, e.g. 0.90,0.95,0.96,0.97, got '%s'", name, value);
    for (int i = 0; i < n; i++) {
        if (!(v[i] > 0 && v[i] <= 1)) return bad("--%s takes fractions in (0, 1] (0.97 for 97%%), got '%s'", name, value);
        if (i && !(v[i] > v[i - 1])) return bad("--%s must be in increasing order, got '%s'", name, value);
    }
    memcpy(o->acc_steps, v, (size_t)n * sizeof v[0]);
    o->n_acc_steps = n;
    return 1;
}

// The options that are not a plain number in a range.
static int parse_other_option(cnn_energy_options *o, const char *name, const char *value) {
    double d;
    if (!strcmp(name, "out")) {
        if (!*value || strlen(value) >= sizeof o->out_dir)
            return bad("--%s needs a directory path (shorter than 1024 bytes), got '%s'", name, value);
        snprintf(o->out_dir, sizeof o->out_dir, "%s", value);
    } else if (!strcmp(name, "power-interval-ms")) {
        if (!parse_num(value, &d) || d != floor(d) || d < 1 || d > 60000)
            return bad("--%s must be a whole number of milliseconds in [1, 60000] (default 100), got '%s'", name, value);
        o->power_interval_ms = (int)d;
    } else if (!strcmp(name, "idle-seconds")) {
        if (!parse_num(value, &d) || d < 0 || d > 600)
            return bad("--%s must be in [0, 600] seconds (0 skips the idle baseline), got '%s'", name, value);
        o->idle_seconds = d;
        o->idle_forced = 1;
    } else if (!strcmp(name, "acc-steps")) {
        return parse_acc_steps(o, name, value);
    } else if (!strcmp(name, "meters")) {
        if (!valid_meter_list(value))
            return bad("--%s takes auto or a comma-separated list of nvml, rapl, cpu-model, got '%s'", name, value);
        snprintf(o->meters, sizeof o->meters, "%s", value);
    } else if (!strcmp(name, "grid-country")) {
        if (!cnn_grid_lookup(value))
            return bad("--%s: '%s' is not in the built-in table; use an ISO code such as FR, DE, US, GB, CN, IN, SE "
                       "(docs/ENERGY.md lists them) or give --grid-gco2",
                       name, value);
        snprintf(o->grid_country, sizeof o->grid_country, "%s", value);
    } else if (!strcmp(name, "embodied-host")) {
        if (parse_impact3(name, value, &o->embodied_host) < 0) return -1;
        o->have_embodied_host = 1;
    } else if (!strcmp(name, "embodied-gpu")) {
        if (parse_impact3(name, value, &o->embodied_gpu) < 0) return -1;
        o->have_embodied_gpu = 1;
    }
    return 1;
}

int cnn_energy_parse_option(cnn_energy_options *o, const char *name, const char *value) {
    if (!name) return 0;
    if (!strcmp(name, "no-energy")) {
        if (value) return bad("--%s takes no value, got '%s'", name, value);
        o->enabled = 0;
        return 1;
    }
    static const char *const with_value[] = {"out", "power-interval-ms", "idle-seconds", "acc-steps", "meters", "pue",
                                             "grid-gco2", "grid-country", "grid-pe", "grid-adp", "cpu-tdp",
                                             "cpu-idle-w", "aur", "lifetime-years", "embodied-host", "embodied-gpu",
                                             "host-share"};
    int known = 0;
    for (size_t i = 0; i < sizeof with_value / sizeof with_value[0]; i++) known |= !strcmp(name, with_value[i]);
    if (!known) return 0;
    if (!value) return bad("--%s needs a value%s", name, "");
    const int r = parse_num_option(o, name, value);
    return r != 0 ? r : parse_other_option(o, name, value);
}

void cnn_energy_print_usage(FILE *f) {
    fprintf(f,
            "  --out DIR               run record directory (default: a new runs/<UTC time>): run.json,\n"
            "                          epochs.csv, power.csv, emissions.csv; `cnn-train report DIR` plots it\n"
            "  --no-energy             measure nothing and write no run record\n"
            "  --meters LIST           auto (default), or a list of nvml, rapl, cpu-model; auto uses NVML for\n"
            "                          --backend cuda and RAPL, else the estimated cpu-model, for the CPU\n"
            "  --power-interval-ms N   sampling interval of the meters (default 100)\n"
            "  --idle-seconds S        measure the idle baselines now for S s each (default: the cached ones,\n"
            "                          measured for 2 s when there is no cache or it is a week old; 0 skips)\n"
            "  --acc-steps LIST        accuracy steps, e.g. 0.90,0.95,0.96,0.97 (default: 0.5, 0.8, 0.9, 0.95,\n"
            "                          0.97, ... below --target-acc, then the target)\n"
            "  --pue X                 data-centre power usage effectiveness (default 1.0)\n"
            "  --grid-country CODE     electricity mix by ISO code (FR, DE, US, ...; default: world average)\n"
            "  --grid-gco2 G           climate factor of the electricity, gCO2eq/kWh (overrides the country's)\n"
            "  --grid-pe MJ            primary energy per kWh (overrides the country's)\n"
            "  --grid-adp KG           abiotic depletion per kWh, kgSbeq (overrides the country's)\n"
            "  --cpu-tdp W             cpu-model: TDP share of this machine's CPUs (default 4 W per logical CPU)\n"
            "  --cpu-idle-w W          cpu-model: idle power (default 30%% of --cpu-tdp)\n"
            "  --aur X                 average utilisation rate of the hardware over its life (default 0.5)\n"
            "  --lifetime-years Y      hardware lifetime for the embodied share (default 4)\n"
            "  --embodied-host G,P,A   embodied impact of the whole host server: kgCO2eq,MJ,kgSbeq\n"
            "                          (default 970,13000,0.15: Boavizta reference server)\n"
            "  --host-share X          this machine's share of that server (default logical CPUs / 96)\n"
            "  --embodied-gpu G,P,A    embodied impact of one GPU (default 181,2445,0.0069)\n");
}
