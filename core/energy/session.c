// The energy session: opens the meters for the backend, creates the run
// directory, measures the idle baseline (idle.c), runs the sampler, records
// the training loop's window edges (observer.c), and at the end computes the
// result (accounting, impacts), writes the run record (record/) and prints
// the summary (report/).
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/energy/accounting/overhead.h"
#include "core/energy/record/record.h"
#include "core/energy/record/record_dir.h"
#include "core/energy/session.h"
#include "core/energy/report/summary.h"

static void make_run_id(char *buf, size_t len) {
    unsigned char b[16];
    int ok = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ok = read(fd, b, sizeof b) == (ssize_t)sizeof b;
        close(fd);
    }
    if (!ok) {
        unsigned long long x = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
        for (int i = 0; i < 16; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); // version 4
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); // variant
    snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

// The default run directory: runs/<UTC time>, with -2, -3, ... if it exists.
static cnn_status default_run_dir(char *buf, size_t len) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    struct stat st;
    for (int k = 1; k < 1000; k++) {
        if (k == 1) snprintf(buf, len, "runs/%s", stamp);
        else snprintf(buf, len, "runs/%s-%d", stamp, k);
        if (stat(buf, &st) != 0) return CNN_OK;
    }
    return cnn_error(CNN_ERR_IO, "cannot find a free run directory under runs/: give --out DIR");
}

// The NVML index of CUDA device `ordinal`: the ordinal-th entry of
// CUDA_VISIBLE_DEVICES when that is a list of numbers, else the ordinal.
static int nvml_index_for_cuda(int ordinal) {
    const char *v = getenv("CUDA_VISIBLE_DEVICES");
    if (!v || !*v) return ordinal;
    for (int k = 0;; k++) {
        char *end;
        long i = strtol(v, &end, 10);
        if (end == v || (*end != '\0' && *end != ',') || i < 0 || i >= 64) return ordinal; // UUIDs or MIG names
        if (k == ordinal) return (int)i;
        if (*end == '\0') return ordinal;
        v = end + 1;
    }
}

static int list_has(const char *list, const char *item) {
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, item, n)) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

static cnn_status open_meters(cnn_energy_session *s, FILE *log) {
    const cnn_energy_options *o = &s->res.opt;
    int is_auto = !strcmp(o->meters, "auto");
    int want_nvml = is_auto ? !strcmp(s->res.backend, "cuda") : list_has(o->meters, "nvml");
    int want_rapl = is_auto || list_has(o->meters, "rapl");
    int want_model = !is_auto && list_has(o->meters, "cpu-model");
    if (!is_auto && want_rapl && want_model)
        return cnn_error(CNN_ERR_INVALID_ARG,
                         "--meters: rapl and cpu-model both cover the CPU, so the total would count it twice; choose one");
    char note[512];
    if (want_nvml) {
        int idx = nvml_index_for_cuda(o->gpu_index);
        cnn_status st = cnn_meter_nvml_open(idx, &s->meters[s->res.n_meters], note, sizeof note);
        if (st == CNN_OK) {
            cnn_meter *m = &s->meters[s->res.n_meters++];
            s->res.hw.n_gpus = 1;
            snprintf(s->res.hw.gpu_name, sizeof s->res.hw.gpu_name, "%s", m->info.device);
            cnn_nvml_driver_version(s->res.hw.gpu_driver, sizeof s->res.hw.gpu_driver);
            if (m->info.prov == CNN_PROV_MEASURED_POWER)
                cnn_energy_notes_add(&s->res.notes, log, "NVML: GPU %d has no energy counter; integrating its power readings "
                                "(measured-power, less accurate on short windows)", idx);
        } else if (!is_auto) {
            return cnn_error(CNN_ERR_UNSUPPORTED, "--meters nvml: %s", note);
        } else {
            cnn_energy_notes_add(&s->res.notes, log, "%s; the run continues without GPU energy", note);
        }
    }
    // A data-parallel run: the node's host meters belong to its first rank; the others read only their GPU
    // and, where the CPU is estimated, their own process's share above idle (docs/distributed.md, "Energy").
    const cnn_energy_world *w = o->world;
    const int host_leader = !w || w->size <= 1 || w->local_rank == 0;
    if (want_rapl) {
        const char *root = cnn_rapl_default_root();
        int n = cnn_meter_rapl_open(root, &s->meters[s->res.n_meters], CNN_ENERGY_MAX_METERS - 1 - s->res.n_meters, note,
                                    sizeof note);
        if (n > 0 && !host_leader) { // the package counters cover every rank: the node's first rank reads them
            for (int i = 0; i < n; i++) cnn_meter_close(&s->meters[s->res.n_meters + i]);
            n = 0;
            want_rapl = 0, want_model = 0;
        }
        for (int i = 0; i < n; i++)
            snprintf(s->meters[s->res.n_meters + i].info.device, sizeof s->meters[0].info.device, "%s (%s)",
                     s->meters[s->res.n_meters + i].info.component[0] == 'c' ? s->res.hw.cpu_model : "DRAM",
                     s->meters[s->res.n_meters + i].info.name + 5);
        s->res.n_meters += n;
        if (n == 0 && !is_auto && want_rapl) return cnn_error(CNN_ERR_UNSUPPORTED, "--meters rapl: %s", note);
        if (n == 0 && want_rapl) {
            cnn_energy_notes_add(&s->res.notes, log, "%s; falling back to the estimated cpu-model", note);
            want_model = 1;
        } else if (note[0]) {
            cnn_energy_notes_add(&s->res.notes, log, "%s", note);
        }
    }
    if (want_model && host_leader) {
        CNN_TRY(cnn_meter_cpu_model_open(s->res.cpu_tdp_w, s->res.cpu_idle_w, s->res.hw.logical_cpus, s->res.hw.cpu_model,
                                         &s->meters[s->res.n_meters]));
        s->res.n_meters++;
    } else if (want_model) { // another rank on the node: its process above idle (the first rank's meter has the idle)
        cnn_meter *m = &s->meters[s->res.n_meters];
        CNN_TRY(cnn_meter_cpu_model_open(s->res.cpu_tdp_w - s->res.cpu_idle_w, 0.0, s->res.hw.logical_cpus,
                                         s->res.hw.cpu_model, m));
        size_t k = strlen(m->info.method);
        snprintf(m->info.method + k, sizeof m->info.method - k, "; this rank's process above idle");
        s->res.n_meters++;
    }
    for (int i = 0; i < s->res.n_meters; i++) s->res.info[i] = s->meters[i].info;
    return CNN_OK;
}

cnn_status cnn_energy_start(const cnn_energy_options *o, const char *backend_name, FILE *log,
                            cnn_energy_session **out) {
    *out = NULL;
    if (!o->enabled) return CNN_OK;
    cnn_energy_session *s = calloc(1, sizeof *s);
    if (!s) return cnn_error(CNN_ERR_NOMEM, "out of memory starting the energy session");
    s->res.opt = *o;
    s->lock_fd = -1;
    snprintf(s->res.backend, sizeof s->res.backend, "%s", backend_name ? backend_name : "cpu");
    cnn_hw_info_probe(&s->res.hw);
    make_run_id(s->res.run_id, sizeof s->res.run_id);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(s->res.created_utc, sizeof s->res.created_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    s->wall_minus_mono = (double)wall.tv_sec + 1e-9 * (double)wall.tv_nsec - cnn_now_s();

    s->res.cpu_tdp_w = o->cpu_tdp_w >= 0 ? o->cpu_tdp_w : 4.0 * s->res.hw.logical_cpus;
    s->res.cpu_idle_w = o->cpu_idle_w >= 0 ? o->cpu_idle_w : 0.3 * s->res.cpu_tdp_w;
    cnn_status st = CNN_OK;
    if (s->res.cpu_idle_w > s->res.cpu_tdp_w)
        st = cnn_error(CNN_ERR_INVALID_ARG, "--cpu-idle-w (%g W) must not exceed --cpu-tdp (%g W)", s->res.cpu_idle_w,
                       s->res.cpu_tdp_w);
    if (st == CNN_OK) {
        if (!cnn_energy_session_is_root(s)) s->res.run_dir[0] = '\0'; // rank 0 keeps the record
        else if (o->out_dir[0]) snprintf(s->res.run_dir, sizeof s->res.run_dir, "%s", o->out_dir);
        else st = default_run_dir(s->res.run_dir, sizeof s->res.run_dir);
    }
    if (st == CNN_OK) {
        if (s->res.run_dir[0])
            st = cnn_record_dir_claim(s->res.run_dir, o->resume, &s->lock_fd, s->created_dir, sizeof s->created_dir);
        // this run's alone, writable, locked
    }
    if (st == CNN_OK) st = open_meters(s, log);
    if (st == CNN_OK) {
        cnn_impact_factors f;
        st = cnn_impact_factors_from_options(&s->res.opt, s->res.hw.logical_cpus, s->res.hw.n_gpus, s->res.hw.gpu_name, &f);
    }
    s->res.sampler_t0 = cnn_now_s();
    if (st == CNN_OK) st = cnn_sampler_start(s->meters, s->res.n_meters, o->power_interval_ms / 1000.0, &s->sampler);
    if (st != CNN_OK) {
        cnn_energy_free(s);
        return st;
    }
    if (log) {
        for (int i = 0; i < s->res.n_meters; i++) {
            const cnn_meter_info *m = &s->res.info[i];
            fprintf(log, "energy: meter %s: %s, %s, updates every %g ms\n", m->name, m->device,
                    cnn_provenance_name(m->prov), 1000.0 * m->update_period_s);
        }
        fprintf(log, "energy: sampling every %d ms; run record in %s\n", o->power_interval_ms, s->res.run_dir);
    }
    cnn_energy_idle_begin(s, log); // before the backend opens the device: the machine's idle
    s->observer = cnn_energy_session_observer(s);
    *out = s;
    return CNN_OK;
}

// The accounting, the repeats, the impacts and the functional unit of the recorded run, into s->res.
static cnn_status compute_result(cnn_energy_session *s) {
    cnn_energy_result *r = &s->res;
    double target = r->have_info ? r->cfg.target_acc : 0.0;
    if (r->opt.n_acc_steps > 0) {
        r->n_steps = r->opt.n_acc_steps;
        memcpy(r->steps, r->opt.acc_steps, (size_t)r->n_steps * sizeof r->steps[0]);
    } else {
        r->n_steps = cnn_energy_default_steps(target, r->steps, CNN_ENERGY_MAX_STEPS);
        r->steps_default = 1;
    }
    for (int i = 0; i < r->n_meters; i++) r->series[i] = *cnn_sampler_series(s->sampler, i);
    cnn_energy_input in = {r->info, r->series, r->n_meters, s->events, s->n_events, s->idle_t0, s->idle_t1,
                           r->steps, r->n_steps, target, r->t_stop, NULL, NULL, 0};
    if (r->idle_cached) in.idle_w = r->cached_w, in.idle_u_w = r->cached_u, in.idle_given_s = r->idle_cached_s;
    CNN_TRY(cnn_energy_account(&in, &r->acc));
    if (!r->acc.has_training)
        return cnn_error(CNN_ERR_INVALID_ARG,
                         "cnn_energy_finish: no training was recorded (the loop never called on_train_begin): pass "
                         "cnn_energy_observer(session) to cnn_train");
    cnn_energy_idle_finish(s, &in);
    double idle_w[CNN_ENERGY_MAX_METERS], idle_u[CNN_ENERGY_MAX_METERS]; // a data-parallel run: every rank's
    CNN_TRY(cnn_energy_world_merge(s, &in, idle_w, idle_u));
    CNN_TRY(cnn_energy_repeats_account(&in, s->run_seeds, s->n_runs, &r->rep));
    if (!r->acc.ended) cnn_energy_notes_add(&r->notes, NULL, "training did not finish normally: energies run to the end of the session");

    int cpus = r->hw.logical_cpus; // a data-parallel run's share of servers: every node's logical CPUs
    if (r->world.n_nodes > 1)
        for (int k = 1; k < r->world.n_nodes; k++) cpus += r->world.nodes[k].logical_cpus;
    CNN_TRY(cnn_impact_factors_from_options(&r->opt, cpus, r->hw.n_gpus, r->hw.gpu_name, &r->factors));
    double train_s = r->acc.train.t1 - r->acc.train.t0;
    cnn_impacts_compute(&r->factors, r->acc.train.total_j, train_s, &r->run_impacts);
    // this session's part plus the earlier segments' (cnn-train resume)
    cnn_energy_fu_compute(&r->acc, r->info, r->n_meters, r->prior, r->n_prior, &r->fu);
    cnn_energy_world_totals(r);
    r->impacts_fu = r->acc.target_reached;
    cnn_impacts_compute(&r->factors, r->fu.total_j, r->fu.time_s, &r->impacts);
    cnn_energy_segment_current(&r->acc, r->run_id, s->wall_minus_mono, r->info, r->n_meters,
                               r->have_result ? r->result.interrupted : 0, &r->segment);
    r->training_s = cnn_energy_sampled_training_s(&r->acc, &r->rep);
    r->overhead_pct = cnn_energy_overhead_pct(r->training_s, r->t_stop - r->sampler_t0, r->thread_cpu_s, r->mark_s);
    return CNN_OK;
}

cnn_status cnn_energy_finish(cnn_energy_session *s, FILE *out, const char **run_dir) {
    if (run_dir) *run_dir = s ? s->res.run_dir : NULL;
    if (!s) return CNN_OK;
    if (s->finished) return CNN_OK;
    cnn_energy_result *r = &s->res;
    r->t_stop = cnn_now_s();
    cnn_sampler_stop(s->sampler);
    s->finished = 1;
    cnn_sampler_overhead(s->sampler, &r->thread_cpu_s, &r->reads, &r->wakeups);
    if (cnn_sampler_error(s->sampler)[0]) cnn_energy_notes_add(&r->notes, NULL, "%s", cnn_sampler_error(s->sampler));
    if (s->lost_events) cnn_energy_notes_add(&r->notes, NULL, "%d window edges were lost (out of memory)", s->lost_events);
    CNN_TRY(compute_result(s));
    if (!cnn_energy_session_is_root(s)) return CNN_OK; // its share went to rank 0, which writes the one record
    cnn_energy_notes notes = r->notes; // the record adds its own (emissions.csv's): the summary prints them all
    cnn_status st = cnn_energy_write_record(r, &notes);
    r->notes = notes;
    s->written = st == CNN_OK;
    if (out) cnn_energy_print_summary(r, out);
    return st;
}

// The result's one line, once the session has finished.
void cnn_energy_print_brief(const cnn_energy_session *s, FILE *out) {
    if (!s || !s->finished || !out) return;
    cnn_energy_print_result_brief(&s->res, out);
}

void cnn_energy_free(cnn_energy_session *s) {
    if (!s) return;
    // a run that failed leaves no empty record directory behind (rmdir removes only an empty one)
    cnn_record_dir_release(s->res.run_dir, s->lock_fd, !s->written, s->created_dir);
    cnn_sampler_free(s->sampler); // stops the thread before the meters close
    for (int i = 0; i < s->res.n_meters; i++) cnn_meter_close(&s->meters[i]);
    cnn_energy_accounting_free(&s->res.acc);
    cnn_energy_repeats_free(&s->res.rep);
    free(s->run_seeds);
    free(s->events);
    for (int k = 0; k < s->n_parts; k++) cnn_energy_part_free(&s->parts[k]);
    free(s->parts);
    free(s);
}

const char *cnn_energy_run_dir(const cnn_energy_session *s) { return s ? s->res.run_dir : NULL; }
