// The result's figures as one CodeCarbon 3.x row (docs/ENERGY.md, emissions.csv).
#include "core/energy/record/emissions_csv.h"

#include <libgen.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "core/energy/record/codecarbon.h"

#ifdef __VERSION__
#define CNN_COMPILER "C11, compiler " __VERSION__
#else
#define CNN_COMPILER "C11"
#endif

// The process's CPU time as a share of the run's duration on all logical CPUs, in %.
static double process_cpu_percent(double duration, int cpus) {
    struct rusage ru;
    if (duration <= 0 || cpus < 1 || getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
    double cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    return fmin(100.0, 100.0 * cpu_s / (duration * cpus));
}

static void fill_row(const cnn_energy_result *res, cnn_codecarbon_row *r, int *ram_estimated) {
    const cnn_energy_accounting *a = &res->acc;
    const double dur = a->train.t1 - a->train.t0, pue = res->factors.pue;
    double kwh[3] = {0, 0, 0}; // cpu, gpu, ram, before PUE
    int has_dram = 0, process_scope = 0;
    for (int m = 0; m < res->n_meters; m++) {
        const char *c = res->info[m].component;
        int k = !strcmp(c, "gpu") ? 1 : !strcmp(c, "dram") ? 2 : 0;
        has_dram |= k == 2;
        kwh[k] += a->train.j[m] / 3.6e6;
        if (res->info[m].prov == CNN_PROV_ESTIMATED && k == 0) process_scope = 1; // the cpu-model counts this process
    }
    *ram_estimated = !has_dram && res->hw.ram_gb > 0;
    if (*ram_estimated) kwh[2] = CNN_RAM_W_PER_GB * res->hw.ram_gb * dur / 3.6e6;

    memset(r, 0, sizeof *r);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(r->timestamp, sizeof r->timestamp, "%Y-%m-%dT%H:%M:%S", &tm);
    r->project_name = "cnn-train";
    r->run_id = res->run_id;
    r->experiment_id = res->dataset;
    r->duration = dur;
    r->cpu_energy = kwh[0] * pue;
    r->gpu_energy = kwh[1] * pue;
    r->ram_energy = kwh[2] * pue;
    r->energy_consumed = r->cpu_energy + r->gpu_energy + r->ram_energy;
    r->cpu_power = dur > 0 ? r->cpu_energy * 3.6e6 / dur : NAN;
    r->gpu_power = dur > 0 ? r->gpu_energy * 3.6e6 / dur : NAN;
    r->ram_power = dur > 0 ? r->ram_energy * 3.6e6 / dur : NAN;
    r->emissions = r->energy_consumed * res->factors.grid.gwp;
    r->emissions_rate = dur > 0 ? r->emissions / dur : NAN;
    r->water_consumed = 0.0; // no WUE option: CodeCarbon's default WUE is 0
    // a country only when one was given: the world and EU averages are no country
    const cnn_grid_entry *g = res->opt.grid_country[0] ? cnn_grid_lookup(res->opt.grid_country) : NULL;
    int country = g && strcmp(g->a3, "WOR") && strcmp(g->a3, "EEE");
    r->country_name = country ? g->name : "";
    r->country_iso_code = country ? g->a3 : "";
    r->region = r->cloud_provider = r->cloud_region = "";
    r->os = res->hw.os;
    r->python_version = CNN_COMPILER;
    r->codecarbon_version = "cnn-train " CNN_VERSION;
    r->cpu_count = res->hw.logical_cpus;
    r->cpu_model = res->hw.cpu_model;
    r->gpu_count = res->hw.n_gpus;
    r->gpu_model = res->hw.n_gpus ? res->hw.gpu_name : "";
    r->longitude = r->latitude = NAN;
    r->ram_total_size = res->hw.ram_gb;
    r->tracking_mode = process_scope ? "process" : "machine";
    r->cpu_utilization_percent = process_cpu_percent(dur, res->hw.logical_cpus);
    r->gpu_utilization_percent = res->hw.n_gpus ? NAN : 0.0; // not sampled: unknown with a GPU
    struct sysinfo si;
    if (sysinfo(&si) == 0 && si.totalram > 0) {
        double used = (double)(si.totalram - si.freeram - si.bufferram) * si.mem_unit;
        r->ram_used_gb = used / (1024.0 * 1024.0 * 1024.0);
        r->ram_utilization_percent = 100.0 * used / ((double)si.totalram * si.mem_unit);
    } else {
        r->ram_used_gb = r->ram_utilization_percent = NAN;
    }
    r->on_cloud = 0;
    r->pue = pue;
    r->wue = 0.0;
}

// This run's row: written to f, appended to the parent directory's file; notes say what was estimated or failed.
void cnn_energy_emissions_csv(FILE *f, const cnn_energy_result *res, cnn_energy_notes *notes) {
    cnn_codecarbon_row r;
    int ram_estimated;
    fill_row(res, &r, &ram_estimated);
    cnn_codecarbon_write(f, &r);
    if (ram_estimated)
        cnn_energy_notes_add(notes, NULL,
                        "emissions.csv: RAM power estimated (no RAPL dram domain): %.3g W = %g W/GB x %.3g GB "
                        "installed",
                        r.ram_power / r.pue, CNN_RAM_W_PER_GB, res->hw.ram_gb);
    char parent[1100];
    snprintf(parent, sizeof parent, "%s", res->run_dir);
    const char *dir = dirname(parent);
    if (cnn_codecarbon_append(dir, &r) != CNN_OK) cnn_energy_notes_add(notes, NULL, "emissions.csv: %s", cnn_last_error());
}
