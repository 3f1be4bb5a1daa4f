// A rank's share of a data-parallel run's energy: packing, unpacking, re-timing (rank_part.h).
#include "core/energy/accounting/rank_part.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char part_magic[8] = {'C', 'N', 'N', 'P', 'A', 'R', 'T', '1'};

// The fixed part of a packed share: everything but the series' samples and the events.
typedef struct {
    char magic[8];
    uint32_t sizeof_info, sizeof_sample, sizeof_event, pad;
    int rank, local_rank, node, n_meters, n_events, logical_cpus;
    char host[64];
    double train_s, allreduce_s, comm_s;
    cnn_meter_info info[CNN_ENERGY_MAX_METERS];
    double idle_w[CNN_ENERGY_MAX_METERS], idle_u_w[CNN_ENERGY_MAX_METERS];
    uint64_t n_samples[CNN_ENERGY_MAX_METERS];
} part_head;

cnn_status cnn_energy_part_pack(const cnn_energy_rank_part *p, void **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    if (p->n_meters < 0 || p->n_meters > CNN_ENERGY_MAX_METERS || p->n_events < 0)
        return cnn_error(CNN_ERR_INVALID_ARG, "energy share of rank %d: %d meters, %d events", p->rank, p->n_meters,
                         p->n_events);
    part_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, part_magic, sizeof h.magic);
    h.sizeof_info = sizeof(cnn_meter_info), h.sizeof_sample = sizeof(cnn_energy_sample);
    h.sizeof_event = sizeof(cnn_energy_event);
    h.rank = p->rank, h.local_rank = p->local_rank, h.node = p->node, h.n_meters = p->n_meters;
    h.n_events = p->n_events;
    memcpy(h.host, p->host, sizeof h.host);
    h.host[sizeof h.host - 1] = '\0';
    h.train_s = p->train_s, h.allreduce_s = p->allreduce_s, h.comm_s = p->comm_s, h.logical_cpus = p->logical_cpus;
    size_t total = sizeof h + (size_t)p->n_events * sizeof(cnn_energy_event);
    for (int i = 0; i < p->n_meters; i++) {
        h.info[i] = p->info[i];
        h.idle_w[i] = p->idle_w[i], h.idle_u_w[i] = p->idle_u_w[i];
        h.n_samples[i] = p->series[i].n;
        total += p->series[i].n * sizeof(cnn_energy_sample);
    }
    char *b = malloc(total);
    if (!b) return cnn_error(CNN_ERR_NOMEM, "out of memory packing rank %d's energy share (%zu bytes)", p->rank, total);
    char *w = b;
    memcpy(w, &h, sizeof h), w += sizeof h;
    for (int i = 0; i < p->n_meters; i++) {
        if (p->series[i].n) memcpy(w, p->series[i].s, p->series[i].n * sizeof(cnn_energy_sample));
        w += p->series[i].n * sizeof(cnn_energy_sample);
    }
    if (p->n_events) memcpy(w, p->events, (size_t)p->n_events * sizeof(cnn_energy_event));
    *buf = b;
    *len = total;
    return CNN_OK;
}

cnn_status cnn_energy_part_unpack(const void *buf, size_t len, cnn_energy_rank_part *out) {
    memset(out, 0, sizeof *out);
    part_head h;
    if (len < sizeof h) return cnn_error(CNN_ERR_FORMAT, "an energy share of %zu bytes is truncated", len);
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, part_magic, sizeof h.magic) || h.sizeof_info != sizeof(cnn_meter_info) ||
        h.sizeof_sample != sizeof(cnn_energy_sample) || h.sizeof_event != sizeof(cnn_energy_event))
        return cnn_error(CNN_ERR_FORMAT, "an energy share comes from another build of cnn-train: run the same binary "
                                         "on every rank");
    if (h.n_meters < 0 || h.n_meters > CNN_ENERGY_MAX_METERS || h.n_events < 0)
        return cnn_error(CNN_ERR_FORMAT, "an energy share names %d meters and %d events", h.n_meters, h.n_events);
    size_t need = sizeof h + (size_t)h.n_events * sizeof(cnn_energy_event);
    for (int i = 0; i < h.n_meters; i++) {
        if (h.n_samples[i] > (len - sizeof h) / sizeof(cnn_energy_sample))
            return cnn_error(CNN_ERR_FORMAT, "an energy share of %zu bytes is truncated", len);
        need += h.n_samples[i] * sizeof(cnn_energy_sample);
    }
    if (need != len) return cnn_error(CNN_ERR_FORMAT, "an energy share holds %zu bytes, %zu expected", len, need);
    out->rank = h.rank, out->local_rank = h.local_rank, out->node = h.node, out->n_meters = h.n_meters;
    memcpy(out->host, h.host, sizeof out->host);
    out->host[sizeof out->host - 1] = '\0';
    out->train_s = h.train_s, out->allreduce_s = h.allreduce_s, out->comm_s = h.comm_s;
    out->logical_cpus = h.logical_cpus;
    const char *r = (const char *)buf + sizeof h;
    for (int i = 0; i < h.n_meters; i++) {
        out->info[i] = h.info[i];
        out->idle_w[i] = h.idle_w[i], out->idle_u_w[i] = h.idle_u_w[i];
        size_t n = h.n_samples[i];
        cnn_energy_series *se = &out->series[i];
        se->s = n ? malloc(n * sizeof *se->s) : NULL;
        if (n && !se->s) {
            cnn_energy_part_free(out);
            return cnn_error(CNN_ERR_NOMEM, "out of memory unpacking an energy share");
        }
        memcpy(se->s, r, n * sizeof *se->s);
        se->n = se->cap = n;
        r += n * sizeof *se->s;
    }
    out->n_events = h.n_events;
    out->events = h.n_events ? malloc((size_t)h.n_events * sizeof *out->events) : NULL;
    if (h.n_events && !out->events) {
        cnn_energy_part_free(out);
        return cnn_error(CNN_ERR_NOMEM, "out of memory unpacking an energy share");
    }
    if (h.n_events) memcpy(out->events, r, (size_t)h.n_events * sizeof *out->events);
    return CNN_OK;
}

void cnn_energy_part_free(cnn_energy_rank_part *p) {
    for (int i = 0; i < CNN_ENERGY_MAX_METERS; i++) cnn_series_free(&p->series[i]);
    free(p->events);
    p->events = NULL;
    p->n_events = 0;
}

// t on the rank's clock -> the reference clock: linear between the edges around it (r, l: the rank's and the
// reference's edge times, n >= 1), the nearest edge's offset outside them.
static double map_time(double t, const double *r, const double *l, int n) {
    if (!isfinite(t)) return t;
    if (t <= r[0]) return l[0] + (t - r[0]);
    if (t >= r[n - 1]) return l[n - 1] + (t - r[n - 1]);
    int lo = 0, hi = n - 1; // r[lo] <= t < r[hi]
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (r[mid] <= t) lo = mid;
        else hi = mid;
    }
    double span = r[hi] - r[lo];
    return span > 0 ? l[lo] + (t - r[lo]) * (l[hi] - l[lo]) / span : l[lo];
}

cnn_status cnn_energy_part_retime(cnn_energy_rank_part *p, const cnn_energy_event *ref, int n_ref) {
    if (p->n_events != n_ref || n_ref < 1)
        return cnn_error(CNN_ERR_INVALID_ARG, "rank %d marked %d window edges, rank 0 %d: the ranks did not run the "
                                              "same steps",
                         p->rank, p->n_events, n_ref);
    double *r = malloc(2 * (size_t)n_ref * sizeof *r);
    if (!r) return cnn_error(CNN_ERR_NOMEM, "out of memory re-timing rank %d's energy", p->rank);
    double *l = r + n_ref;
    for (int k = 0; k < n_ref; k++) {
        const cnn_energy_event *a = &p->events[k], *b = &ref[k];
        if (a->kind != b->kind || a->epoch != b->epoch || (a->kind == CNN_EV_EVAL && a->eval.step != b->eval.step)) {
            free(r);
            return cnn_error(CNN_ERR_INVALID_ARG, "rank %d's window edge %d is not rank 0's (another kind or step): "
                                                  "the ranks did not run the same steps",
                             p->rank, k);
        }
        r[k] = a->t, l[k] = b->t;
        if (k > 0 && r[k] < r[k - 1]) r[k] = r[k - 1]; // edges are in time order; guard the search against ties
    }
    for (int i = 0; i < p->n_meters; i++)
        for (size_t k = 0; k < p->series[i].n; k++) {
            cnn_energy_sample *s = &p->series[i].s[k];
            s->t0 = map_time(s->t0, r, l, n_ref);
            s->t = map_time(s->t, r, l, n_ref);
        }
    for (int k = 0; k < n_ref; k++) p->events[k].t = l[k];
    free(r);
    return CNN_OK;
}
