// A rank's energy share (core/energy/accounting/rank_part.h): packed and unpacked unchanged, refused when truncated or
// from another build, and re-timed onto rank 0's clock by the window edges both ranks marked (windows by
// steps, not by clocks): an energy over a window on the rank's clock is the same over the re-timed window.
#include <math.h>
#include <string.h>

#include "core/energy/accounting/rank_part.h"
#include "test_util.h"

// A rank whose clock reads 1000 s ahead of rank 0's and runs 0.5% fast, with one meter of 7 W and four edges.
static void make_part(cnn_energy_rank_part *p) {
    memset(p, 0, sizeof *p);
    p->rank = 1, p->local_rank = 1, p->node = 0, p->train_s = 3.0, p->comm_s = 0.25;
    snprintf(p->host, sizeof p->host, "node-a");
    p->n_meters = 1;
    snprintf(p->info[0].name, sizeof p->info[0].name, "cpu-model");
    p->info[0].prov = CNN_PROV_ESTIMATED;
    p->idle_w[0] = 2.0, p->idle_u_w[0] = 0.1;
    for (int k = 0; k <= 40; k++) { // a knot every 0.1 s of rank 0's time, from 0 to 4 s
        double t0 = 0.1 * k, t = 1000.0 + 1.005 * t0;
        CHECK_OK(cnn_series_push(&p->series[0], t, 7.0 * t0, 7.0));
    }
    static const cnn_energy_event_kind kinds[4] = {CNN_EV_TRAIN_BEGIN, CNN_EV_EPOCH_BEGIN, CNN_EV_EPOCH_END,
                                                    CNN_EV_TRAIN_END};
    p->events = calloc(4, sizeof *p->events);
    p->n_events = 4;
    for (int k = 0; k < 4; k++) {
        p->events[k].kind = kinds[k];
        p->events[k].epoch = k == 1 || k == 2 ? 1 : 0;
        p->events[k].t = 1000.0 + 1.005 * (0.5 + k); // at 0.5, 1.5, 2.5, 3.5 s of rank 0's time
    }
}

int main(void) {
    cnn_energy_rank_part p, q;
    make_part(&p);
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(cnn_energy_part_pack(&p, &buf, &len));
    CHECK_OK(cnn_energy_part_unpack(buf, len, &q));
    CHECK(q.rank == 1 && q.node == 0 && !strcmp(q.host, "node-a") && q.n_meters == 1 && q.n_events == 4);
    CHECK(q.series[0].n == 41 && q.series[0].s[40].j == p.series[0].s[40].j && q.events[3].t == p.events[3].t);
    CHECK(q.idle_w[0] == 2.0 && q.comm_s == 0.25 && !strcmp(q.info[0].name, "cpu-model"));
    cnn_energy_rank_part bad;
    CHECK(cnn_energy_part_unpack(buf, len - 1, &bad) == CNN_ERR_FORMAT); // truncated
    ((char *)buf)[7] = 'X';
    CHECK(cnn_energy_part_unpack(buf, len, &bad) == CNN_ERR_FORMAT); // another build's
    free(buf);

    // rank 0 marked the same edges at 0.5, 1.5, 2.5, 3.5 s (its own clock)
    cnn_energy_event ref[4];
    memcpy(ref, q.events, sizeof ref);
    for (int k = 0; k < 4; k++) ref[k].t = 0.5 + k;
    CHECK_OK(cnn_energy_part_retime(&q, ref, 4));
    for (int k = 0; k < 4; k++) CHECK(q.events[k].t == ref[k].t);
    // inside the edges the mapping is exact for a clock that differs by an offset and a rate
    double e = cnn_series_energy_at(&q.series[0], 2.5) - cnn_series_energy_at(&q.series[0], 1.5);
    CHECK(fabs(e - 7.0) < 1e-9);
    CHECK(fabs(q.series[0].s[20].t - 2.0) < 1e-9);
    // outside them, by the nearest edge's offset (the rate error of 0.5% over 0.5 s)
    CHECK(fabs(q.series[0].s[0].t - (0.5 - 1.005 * 0.5)) < 1e-9);

    // edges of another kind or step: refused
    ref[1].kind = CNN_EV_EVAL_BEGIN;
    CHECK(cnn_energy_part_retime(&q, ref, 4) == CNN_ERR_INVALID_ARG);
    CHECK(cnn_energy_part_retime(&q, ref, 3) == CNN_ERR_INVALID_ARG);
    cnn_energy_part_free(&p);
    cnn_energy_part_free(&q);
    return test_finish("test_energy_rank_part");
}
