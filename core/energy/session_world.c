// A data-parallel run's energy (docs/distributed.md, "Energy"): every rank's session measures its own
// meters; at the finish each rank sends its share (accounting/rank_part.h) to rank 0, which re-times the
// shares onto its clock by the window edges (the same steps on every rank), accounts every rank's meters
// as its own and fills the result's ranks and nodes. Rank 0 alone writes the record.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/energy/session.h"

int cnn_energy_session_is_root(const cnn_energy_session *s) {
    const cnn_energy_world *w = s->res.opt.world;
    return !w || w->size <= 1 || w->rank == 0;
}

// This rank's share: its meters and series (borrowed, not copied), their idle powers, its window edges.
static void own_part(const cnn_energy_session *s, const cnn_energy_world *w, cnn_energy_rank_part *p) {
    const cnn_energy_result *r = &s->res;
    memset(p, 0, sizeof *p);
    p->rank = w->rank, p->local_rank = w->local_rank;
    const char *fake = getenv("CNN_TEST_HOSTNAME"); // a test hook: ranks of one machine as nodes of their own
    if (fake && *fake) snprintf(p->host, sizeof p->host, "%s", fake);
    else gethostname(p->host, sizeof p->host - 1);
    p->logical_cpus = r->hw.logical_cpus;
    p->train_s = r->have_result ? r->result.total_s : 0.0;
    p->allreduce_s = r->have_result ? r->result.allreduce_s : -1.0;
    p->comm_s = r->have_result ? r->result.comm_s : 0.0;
    p->n_meters = r->n_meters;
    for (int m = 0; m < r->n_meters; m++) {
        p->info[m] = r->info[m];
        p->series[m] = r->series[m];
        p->idle_w[m] = r->acc.idle_measured ? r->acc.idle_w[m] : NAN;
        p->idle_u_w[m] = r->acc.idle_measured ? r->acc.idle_u_w[m] : NAN;
    }
    p->events = s->events, p->n_events = s->n_events;
}

// "rK:NAME", the name of rank K's meter NAME in rank 0's record (cut to len bytes).
static void rank_meter_name(char *dst, size_t len, int rank, const char *name) {
    char buf[96];
    snprintf(buf, sizeof buf, "r%d:%.64s", rank, name);
    snprintf(dst, len, "%.*s", (int)(len - 1), buf);
}

// The node of host among the rows so far (a new one at the end when it is not there).
static int node_of(cnn_energy_world_result *wr, const char *host, int logical_cpus) {
    for (int k = 0; k < wr->n_nodes; k++)
        if (!strcmp(wr->nodes[k].host, host)) return k;
    cnn_energy_node_row *n = &wr->nodes[wr->n_nodes];
    memset(n, 0, sizeof *n);
    snprintf(n->host, sizeof n->host, "%s", host);
    n->logical_cpus = logical_cpus;
    return wr->n_nodes++;
}

// Adds part p's rank row, and its meters to r (named "rK:NAME", their device naming the rank and host).
static cnn_status add_rank(cnn_energy_result *r, const cnn_energy_rank_part *p, double *idle_w, double *idle_u) {
    cnn_energy_world_result *wr = &r->world;
    if (wr->n_ranks == CNN_ENERGY_MAX_RANKS)
        return cnn_error(CNN_ERR_UNSUPPORTED, "the run record holds the energy of %d ranks at most", CNN_ENERGY_MAX_RANKS);
    const int first = p->rank == 0 ? 0 : r->n_meters;
    if (p->rank != 0 && r->n_meters + p->n_meters > CNN_ENERGY_MAX_METERS)
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "the ranks read %d meters with rank %d's, more than the %d one run record holds: measure "
                         "fewer (--meters nvml, or fewer ranks per record)",
                         r->n_meters + p->n_meters, p->rank, CNN_ENERGY_MAX_METERS);
    cnn_energy_rank_row *row = &wr->ranks[wr->n_ranks++];
    row->rank = p->rank, row->local_rank = p->local_rank, row->node = node_of(wr, p->host, p->logical_cpus);
    snprintf(row->host, sizeof row->host, "%s", p->host);
    row->first_meter = first, row->n_meters = p->n_meters;
    row->train_s = p->train_s, row->allreduce_s = p->allreduce_s, row->comm_s = p->comm_s;
    wr->nodes[row->node].n_ranks++;
    for (int m = 0; m < p->n_meters; m++) {
        const int i = first + m;
        if (p->rank != 0) {
            r->info[i] = p->info[m];
            rank_meter_name(r->info[i].name, sizeof r->info[i].name, p->rank, p->info[m].name);
            snprintf(r->info[i].device, sizeof r->info[i].device, "%.90s (rank %d, %.24s)", p->info[m].device,
                     p->rank, p->host);
            r->series[i] = p->series[m];
            r->cached_w[i] = p->idle_w[m], r->cached_u[i] = p->idle_u_w[m]; // its idle, as the tables show it
        }
        idle_w[i] = p->idle_w[m], idle_u[i] = p->idle_u_w[m];
        if (!strcmp(p->info[m].component, "gpu")) wr->nodes[row->node].n_gpus++;
    }
    if (p->rank != 0) r->n_meters += p->n_meters;
    return CNN_OK;
}

// Rank 0: every other rank's share unpacked from the gathered bytes, re-timed onto this rank's edges, added.
static cnn_status merge_parts(cnn_energy_session *s, const char *all, const size_t *lens, int size, double *idle_w,
                              double *idle_u) {
    s->parts = calloc((size_t)size, sizeof *s->parts);
    if (!s->parts) return cnn_error(CNN_ERR_NOMEM, "out of memory for %d ranks' energy", size);
    size_t off = lens[0];
    for (int k = 1; k < size; k++) {
        cnn_energy_rank_part *p = &s->parts[s->n_parts];
        CNN_TRY(cnn_energy_part_unpack(all + off, lens[k], p));
        s->n_parts++;
        off += lens[k];
        p->rank = k;
        CNN_TRY(cnn_energy_part_retime(p, s->events, s->n_events));
        CNN_TRY(add_rank(&s->res, p, idle_w, idle_u));
    }
    return CNN_OK;
}

cnn_status cnn_energy_world_merge(cnn_energy_session *s, cnn_energy_input *in, double *idle_w, double *idle_u) {
    const cnn_energy_world *w = s->res.opt.world;
    if (!w || w->size <= 1) return CNN_OK;
    cnn_energy_result *r = &s->res;
    cnn_energy_rank_part mine;
    own_part(s, w, &mine);
    void *buf = NULL, *all = NULL;
    size_t len = 0, *lens = calloc((size_t)w->size, sizeof *lens);
    if (!lens) return cnn_error(CNN_ERR_NOMEM, "out of memory for %d ranks' energy", w->size);
    cnn_status st = cnn_energy_part_pack(&mine, &buf, &len);
    // every rank takes part in the gather, even one whose share failed to pack (it sends nothing)
    cnn_status gs = w->gather(w->ctx, buf, st == CNN_OK ? len : 0, &all, lens);
    free(buf);
    if (st == CNN_OK) st = gs;
    if (st == CNN_OK && w->rank == 0) {
        memset(&r->world, 0, sizeof r->world);
        r->world.world_size = w->size;
        st = add_rank(r, &mine, idle_w, idle_u); // rank 0's own meters stay first, under their names
        if (st == CNN_OK) st = merge_parts(s, all, lens, w->size, idle_w, idle_u);
    }
    free(all);
    free(lens);
    if (st != CNN_OK || w->rank != 0) return st;
    // every meter's idle power as each rank measured it (or none at all when any rank has none)
    int idle_known = 1;
    for (int m = 0; m < r->n_meters; m++) idle_known &= isfinite(idle_w[m]) && isfinite(idle_u[m]);
    in->meters = r->info, in->series = r->series, in->n_meters = r->n_meters;
    in->idle_w = idle_known ? idle_w : NULL, in->idle_u_w = idle_known ? idle_u : NULL;
    in->idle_given_s = r->acc.idle_s;
    if (!idle_known) in->idle_t1 = in->idle_t0; // no measured window either: no baseline
    r->ctx_known = 0; // the device-open idle is rank 0's node's alone
    r->hw.n_gpus = 0;
    for (int k = 0; k < r->world.n_nodes; k++) r->hw.n_gpus += r->world.nodes[k].n_gpus;
    cnn_energy_accounting_free(&r->acc);
    return cnn_energy_account(in, &r->acc);
}

void cnn_energy_world_totals(cnn_energy_result *r) {
    cnn_energy_world_result *wr = &r->world;
    if (wr->world_size <= 1) return;
    for (int k = 0; k < wr->n_ranks; k++) {
        cnn_energy_rank_row *row = &wr->ranks[k];
        for (int m = row->first_meter; m < row->first_meter + row->n_meters; m++) {
            row->train_j += r->acc.train.j[m], row->train_u += r->acc.train.u[m];
            row->fu_j += r->fu.j[m], row->fu_u += r->fu.u[m];
        }
        cnn_energy_node_row *n = &wr->nodes[row->node];
        n->train_j += row->train_j, n->train_u += row->train_u, n->fu_j += row->fu_j, n->fu_u += row->fu_u;
    }
}

// Rank 0: rank k's segment g (its own meters) added to out as "rK:NAME"; the totals add, the weakest provenance wins.
static cnn_status add_segment(cnn_energy_segment *out, const cnn_energy_segment *g, int k) {
    if (out->n_meters + g->n_meters > (int)(sizeof out->meter / sizeof out->meter[0]))
        return cnn_error(CNN_ERR_UNSUPPORTED, "the ranks read %d meters with rank %d's, more than the %d a checkpoint "
                                              "holds: measure fewer (--meters nvml)",
                         out->n_meters + g->n_meters, k, (int)(sizeof out->meter / sizeof out->meter[0]));
    for (int m = 0; m < g->n_meters; m++) {
        const int i = out->n_meters++;
        rank_meter_name(out->meter[i], sizeof out->meter[i], k, g->meter[m]);
        out->j[i] = g->j[m], out->u[i] = g->u[m], out->prov[i] = g->prov[m];
    }
    out->total_j += g->total_j, out->total_u += g->total_u;
    out->total_prov = (int)cnn_provenance_weakest((cnn_provenance)out->total_prov, (cnn_provenance)g->total_prov);
    return CNN_OK;
}

cnn_status cnn_energy_world_segment(cnn_energy_session *s, cnn_energy_segment *out) {
    const cnn_energy_world *w = s->res.opt.world;
    if (!w || w->size <= 1) return CNN_OK;
    void *all = NULL;
    size_t *lens = calloc((size_t)w->size, sizeof *lens);
    if (!lens) return cnn_error(CNN_ERR_NOMEM, "out of memory for %d ranks' segments", w->size);
    cnn_status st = w->gather(w->ctx, out, sizeof *out, &all, lens);
    for (int k = 1; st == CNN_OK && w->rank == 0 && k < w->size; k++) {
        if (lens[k] != sizeof *out) {
            st = cnn_error(CNN_ERR_FORMAT, "rank %d's segment has %zu bytes, %zu expected: run the same binary on "
                                           "every rank", k, lens[k], sizeof *out);
            break;
        }
        cnn_energy_segment g;
        memcpy(&g, (const char *)all + (size_t)k * sizeof g, sizeof g);
        st = add_segment(out, &g, k);
    }
    free(all);
    free(lens);
    return st;
}
