// The energy accounting against hand-worked numbers, with two fake meters of
// known power (no threads, no sleeping): window energies, resolution flags,
// idle subtraction, evaluations, accuracy-step crossings and marginal
// energies, the functional unit and its impacts; plus the option parser,
// the default step ladder, the grid table and series interpolation.
#include <math.h>
#include <string.h>

#include "core/energy/accounting/accounting.h"
#include "core/energy/accounting/impacts.h"
#include "core/energy/energy.h"
#include "test_util.h"

static int near(double got, double want, double tol) {
    if (fabs(got - want) <= tol * (1.0 + fabs(want))) return 1;
    fprintf(stderr, "  got %.12g, want %.12g\n", got, want);
    return 0;
}
#define CHECK_NEAR(got, want) CHECK(near((got), (want), 1e-9))

// fake-cpu: 10 W always. fake-gpu: 20 W, 200 W in [102, 112), 20 W after; both sampled every 0.1 s over [100, 115].
static double cpu_energy(double t) { return 10.0 * (t - 100.0); }
static double gpu_energy(double t) {
    if (t <= 102) return 20.0 * (t - 100.0);
    if (t <= 112) return 40.0 + 200.0 * (t - 102.0);
    return 40.0 + 2000.0 + 20.0 * (t - 112.0);
}

static void test_series(void) {
    cnn_energy_series se = {0};
    CHECK_OK(cnn_series_push(&se, 0.0, 0.0, NAN));
    CHECK_OK(cnn_series_push(&se, 1.0, 10.0, 10.0));
    CHECK_OK(cnn_series_push(&se, 3.0, 30.0, 10.0));
    CHECK_OK(cnn_series_push(&se, 4.0, 30.0, 0.0));
    CHECK_NEAR(cnn_series_energy_at(&se, 2.0), 20.0);
    CHECK_NEAR(cnn_series_energy_at(&se, 0.5), 5.0);
    CHECK_NEAR(cnn_series_energy_at(&se, -1.0), 0.0); // clamped before the first sample
    CHECK_NEAR(cnn_series_energy_at(&se, 9.0), 30.0); // and after the last
    CHECK(cnn_series_changes(&se) == 2);
    // Bounds: at 2.0 the energy is between the knots at 1.0 (10 J) and 3.0 (30 J); a window [0.5, 2.0]
    // is estimated 15 J and must lie in [10 - 10, 30 - 0] = [0, 30]: half-width max(15 - 0, 30 - 15) = 15.
    double lo, hi, est, u;
    cnn_series_bounds_at(&se, 2.0, &lo, &hi);
    CHECK(lo == 10.0 && hi == 30.0);
    cnn_series_window(&se, 0.0, 0.5, 2.0, &est, &u);
    CHECK_NEAR(est, 15.0);
    CHECK_NEAR(u, 15.0);
    cnn_series_window(&se, 0.0, 1.0, 3.0, &est, &u); // edges on knots: exact
    CHECK_NEAR(est, 20.0);
    CHECK_NEAR(u, 0.0);
    cnn_series_window(&se, 0.0, 1.0, 9.0, &est, &u); // past the last knot: unbounded
    CHECK(isinf(u));
    // A published counter's knot [t0, t]: the update happened somewhere in there.
    cnn_energy_series pc = {0};
    CHECK_OK(cnn_series_push_knot(&pc, -INFINITY, 0.0, 0.0, NAN));
    CHECK_OK(cnn_series_push_knot(&pc, 0.096, 0.104, 10.0, 100.0)); // updated in [0.096, 0.104]
    CHECK_OK(cnn_series_push_knot(&pc, 0.196, 0.204, 20.0, 100.0));
    CHECK_NEAR(cnn_sample_time(&pc.s[1]), 0.1);
    cnn_series_bounds_at(&pc, 0.1, &lo, &hi); // inside the first update's uncertainty: 0 .. 20 J
    CHECK(lo == 0.0 && hi == 20.0);
    cnn_series_window(&pc, 0.0, 0.12, 0.18, &est, &u); // inside one update interval: [0, 10] J
    CHECK_NEAR(est, 6.0);
    CHECK_NEAR(u, 6.0);
    cnn_series_free(&pc);
    cnn_series_free(&se);
    CHECK(cnn_series_energy_at(&se, 1.0) == 0.0); // empty
}

static void test_accounting(void) {
    cnn_meter_info info[2];
    memset(info, 0, sizeof info);
    snprintf(info[0].name, sizeof info[0].name, "fake-cpu");
    info[0].prov = CNN_PROV_ESTIMATED;
    info[0].update_period_s = 0.01;
    snprintf(info[1].name, sizeof info[1].name, "fake-gpu");
    info[1].prov = CNN_PROV_MEASURED_COUNTER;
    info[1].update_period_s = 0.1;
    cnn_energy_series series[2] = {{0}, {0}};
    for (int i = 0; i <= 150; i++) {
        double t = 100.0 + 0.1 * i;
        CHECK_OK(cnn_series_push(&series[0], t, cpu_energy(t), 10.0));
        CHECK_OK(cnn_series_push(&series[1], t, gpu_energy(t), NAN));
    }
#define EV(k, tt, ep) {k, tt, ep, {0, 0, 0, 0, 0, 0, 0, 0}}
#define EVAL(tt, ep, st, acc) {CNN_EV_EVAL, tt, ep, {ep, st, 0.5, 0.4, acc, (tt) - 102.0, 0, 0}}
    cnn_energy_event ev[] = {
        EV(CNN_EV_TRAIN_BEGIN, 102.0, 0),
        EV(CNN_EV_EPOCH_BEGIN, 102.0, 1), EV(CNN_EV_EVAL_BEGIN, 105.0, 0), EVAL(105.5, 1, 100, 0.80),
        EV(CNN_EV_EPOCH_END, 106.0, 1),
        EV(CNN_EV_EPOCH_BEGIN, 106.0, 2), EV(CNN_EV_EVAL_BEGIN, 109.95, 0), EVAL(110.0, 2, 200, 0.93),
        EV(CNN_EV_EPOCH_END, 110.0, 2),
        EV(CNN_EV_EPOCH_BEGIN, 110.2, 3), EV(CNN_EV_EVAL_BEGIN, 111.0, 0), EVAL(111.5, 3, 300, 0.96),
        EV(CNN_EV_EPOCH_END, 112.0, 3),
        EV(CNN_EV_TRAIN_END, 113.0, 0),
    };
    double steps[] = {0.5, 0.9, 0.92, 0.95, 0.99};
    cnn_energy_input in = {info, series, 2, ev, (int)(sizeof ev / sizeof ev[0]), 100.0, 101.0, steps, 5, 0.95, 0, NULL, NULL, 0};
    cnn_energy_accounting a;
    CHECK_OK(cnn_energy_account(&in, &a));
    CHECK(a.has_training && a.ended);
    CHECK(a.total_prov == CNN_PROV_ESTIMATED); // the weakest of measured-counter and estimated

    // Idle over [100, 101]: 10 W and 20 W.
    CHECK(a.idle_measured);
    CHECK_NEAR(a.idle_w[0], 10.0);
    CHECK_NEAR(a.idle_w[1], 20.0);
    CHECK_NEAR(a.idle_total_w, 30.0);

    // Training [102, 113]: cpu 10 W x 11 s = 110 J; gpu 200 W x 10 s + 20 W x 1 s = 2020 J.
    CHECK_NEAR(a.train.j[0], 110.0);
    CHECK_NEAR(a.train.j[1], 2020.0);
    CHECK_NEAR(a.train.total_j, 2130.0);
    // Above idle: cpu 110 - 10 x 11 = 0; gpu 2020 - 20 x 11 = 1800.
    CHECK_NEAR(a.above_idle_j[0], 0.0);
    CHECK_NEAR(a.above_idle_j[1], 1800.0);
    CHECK_NEAR(a.above_idle_total_j, 1800.0);

    // Epochs: [102,106] and [106,110]: 40 + 800 J each; [110.2,112]: 18 + 360 = 378 J.
    CHECK(a.n_epochs == 3);
    if (a.n_epochs == 3) {
        CHECK_NEAR(a.epochs[0].w.j[0], 40.0);
        CHECK_NEAR(a.epochs[0].w.j[1], 800.0);
        CHECK_NEAR(a.epochs[1].w.total_j, 840.0);
        CHECK_NEAR(a.epochs[2].w.j[0], 18.0);
        CHECK_NEAR(a.epochs[2].w.j[1], 360.0);
        CHECK_NEAR(a.epochs[0].above_idle_total_j, 840.0 - 30.0 * 4.0);
        CHECK_NEAR(a.epochs[2].above_idle_total_j, 378.0 - 30.0 * 1.8);
        CHECK_NEAR(a.epochs[0].eval_s, 0.5);
        CHECK_NEAR(a.epochs[0].eval_total_j, 5.0 + 100.0);
        CHECK(a.epochs[1].has_eval && a.epochs[1].last_eval.test_acc == 0.93);
        CHECK(!a.epochs[0].w.any_below_res);
    }
    // Outside the epochs: [110, 110.2] and [112, 113]: cpu 2 + 10, gpu 40 + 20. Epochs + outside = total.
    CHECK_NEAR(a.outside.j[0], 12.0);
    CHECK_NEAR(a.outside.j[1], 60.0);
    double sum = a.outside.total_j;
    for (int k = 0; k < a.n_epochs; k++) sum += a.epochs[k].w.total_j;
    CHECK_NEAR(sum, a.train.total_j);

    // Evaluations: the second one lasts 0.05 s, shorter than the gpu meter's 0.1 s update period.
    CHECK(a.n_evals == 3);
    if (a.n_evals == 3) {
        CHECK_NEAR(a.evals[0].w.j[1], 100.0);
        CHECK(!a.evals[0].w.any_below_res);
        // [109.95, 110]: both meters are sampled every 0.1 s, so the start lies inside the interval [109.9, 110]:
        // the true energy is anywhere in [0, energy of that interval] (cpu 1 J, gpu 20 J): unresolved.
        CHECK(a.evals[1].w.below_res[1] && a.evals[1].w.below_res[0] && a.evals[1].w.any_below_res);
        CHECK_NEAR(a.evals[1].w.j[0], 0.5);
        CHECK_NEAR(a.evals[1].w.u[0], 0.5);
        CHECK_NEAR(a.evals[1].w.j[1], 10.0);
        CHECK_NEAR(a.evals[1].w.u[1], 10.0);
        CHECK_NEAR(a.evals[0].w.u[0], 0.0); // edges on samples: exact
        CHECK_NEAR(a.evals[1].cum_u[0], 0.0);
        CHECK_NEAR(a.evals[0].cum_total_j, 735.0);   // 35 + 700
        CHECK_NEAR(a.evals[1].cum_total_j, 1680.0);  // 80 + 1600
        CHECK_NEAR(a.evals[2].cum_total_j, 1995.0);  // 95 + 1900
        CHECK_NEAR(a.evals[2].t_end, 9.5);
    }

    // Steps 0.5 (eval 1), 0.9 and 0.92 (both eval 2), 0.95 (eval 3), 0.99 (never).
    CHECK(a.n_steps == 5);
    CHECK(a.steps[0].reached && a.steps[0].eval_index == 0);
    CHECK_NEAR(a.steps[0].marginal_total_j, 735.0);
    CHECK(a.steps[1].reached && a.steps[1].eval_index == 1);
    CHECK_NEAR(a.steps[1].cum_total_j, 1680.0);
    CHECK_NEAR(a.steps[1].marginal_total_j, 945.0);
    CHECK_NEAR(a.steps[1].marginal_j[1], 900.0);
    CHECK(a.steps[2].reached && a.steps[2].same_eval_as_previous);
    CHECK_NEAR(a.steps[2].marginal_total_j, 0.0);
    CHECK(a.steps[3].reached && a.steps[3].eval_index == 2 && !a.steps[3].same_eval_as_previous);
    CHECK_NEAR(a.steps[3].marginal_j[0], 15.0);
    CHECK_NEAR(a.steps[3].marginal_j[1], 300.0);
    CHECK_NEAR(a.steps[3].elapsed_s, 9.5);
    CHECK(!a.steps[4].reached);
    CHECK(a.last_step_index == 3);
    CHECK_NEAR(a.last_step_share, 315.0 / 1995.0);

    // The functional unit: target 0.95 first reached at eval 3, 9.5 s and 1995 J after the start.
    CHECK(a.target_reached && a.target_eval == 2);
    CHECK_NEAR(a.target_time_s, 9.5);
    CHECK_NEAR(a.target_j[0], 95.0);
    CHECK_NEAR(a.target_j[1], 1900.0);
    CHECK_NEAR(a.target_total_j, 1995.0);
    cnn_energy_accounting_free(&a);

    // No idle window, no TRAIN_END: the training runs to end_t and nothing is above idle.
    cnn_energy_input in2 = in;
    in2.idle_t1 = in2.idle_t0;
    in2.n_events = 5; // up to the end of epoch 1
    in2.end_t = 107.0;
    CHECK_OK(cnn_energy_account(&in2, &a));
    CHECK(a.has_training && !a.ended && !a.idle_measured);
    CHECK(isnan(a.above_idle_total_j));
    CHECK_NEAR(a.train.total_j, 10.0 * 5.0 + 200.0 * 5.0);
    CHECK(a.n_epochs == 1 && a.n_evals == 1);
    CHECK(!a.steps[1].reached && a.last_step_index == 0);
    CHECK(!a.target_reached);
    cnn_energy_accounting_free(&a);

    // No training events at all.
    in2.n_events = 0;
    CHECK_OK(cnn_energy_account(&in2, &a));
    CHECK(!a.has_training);
    cnn_energy_accounting_free(&a);
    cnn_series_free(&series[0]);
    cnn_series_free(&series[1]);
}

static void test_impacts(void) {
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    CHECK(cnn_energy_parse_option(&o, "pue", "1.5") == 1);
    CHECK(cnn_energy_parse_option(&o, "grid-country", "FR") == 1);
    CHECK(cnn_energy_parse_option(&o, "host-share", "0.25") == 1);
    cnn_impact_factors f;
    CHECK_OK(cnn_impact_factors_from_options(&o, 2, 1, "NVIDIA H100 80GB HBM3", &f));
    CHECK(!strcmp(f.grid_code, "FRA"));
    CHECK(f.n_devices == 2 && f.devices[0].share == 0.25 && f.devices[1].share == 1.0);
    CHECK(strstr(f.devices[1].name, "H100") != NULL);
    cnn_impacts im;
    cnn_impacts_compute(&f, 1995.0, 9.5, &im);
    // 1995 J = 5.5416667e-4 kWh; x PUE 1.5 = 8.3125e-4 kWh; France 0.098 kgCO2eq, 11.289 MJ, 4.86e-8 kgSbeq per kWh.
    CHECK_NEAR(im.energy_kwh, 5.541666666666667e-4);
    CHECK_NEAR(im.operational.gwp, 8.14625e-05);
    CHECK_NEAR(im.operational.pe, 0.00938398125);
    CHECK_NEAR(im.operational.adp, 4.039875e-11);
    // 9.5 s / (0.5 x 4 years of 365.25 days) = 1.5051842e-7; host 970 x 0.25 + GPU 181 = 423.5 kgCO2eq.
    CHECK_NEAR(im.life_share, 1.5051841711663752e-07);
    CHECK_NEAR(im.embodied.gwp, 6.3744549648896e-05);
    CHECK_NEAR(im.embodied.pe, 0.0008572023854792507);
    CHECK_NEAR(im.embodied.adp, 6.683017719978706e-09);
    CHECK_NEAR(im.total.gwp, 8.14625e-05 + 6.3744549648896e-05);

    // --grid-gco2 overrides the climate factor only; --embodied-gpu the GPU's figures.
    CHECK(cnn_energy_parse_option(&o, "grid-gco2", "500") == 1);
    CHECK(cnn_energy_parse_option(&o, "embodied-gpu", "100,1000,0.01") == 1);
    CHECK_OK(cnn_impact_factors_from_options(&o, 2, 1, "gpu", &f));
    cnn_impacts_compute(&f, 3.6e6, 0.0, &im); // 1 kWh, no time
    CHECK_NEAR(im.operational.gwp, 1.5 * 0.5);
    CHECK_NEAR(im.operational.pe, 1.5 * 11.289);
    CHECK(im.embodied.gwp == 0.0);
    CHECK(f.devices[1].embodied.gwp == 100.0 && strstr(f.devices[1].source, "--embodied-gpu"));
    CHECK(strstr(f.grid_source, "--grid-gco2") != NULL);

    // Default host share: logical CPUs / 96, capped at 1.
    cnn_energy_options_default(&o);
    CHECK_OK(cnn_impact_factors_from_options(&o, 16, 0, NULL, &f));
    CHECK(f.n_devices == 1);
    CHECK_NEAR(f.devices[0].share, 16.0 / 96.0);
    CHECK(!strcmp(f.grid_code, "WOR") && f.grid.gwp == 0.39);
    CHECK_OK(cnn_impact_factors_from_options(&o, 512, 0, NULL, &f));
    CHECK(f.devices[0].share == 1.0);
    // Every GPU a data-parallel record measures counts (a node of 8): the host and 8 GPUs, 8 x the GPU's figures.
    CHECK_OK(cnn_impact_factors_from_options(&o, 16, 8, "NVIDIA H200", &f));
    CHECK(f.n_devices == 9);
    cnn_impacts one, eight;
    cnn_impact_factors f1;
    CHECK_OK(cnn_impact_factors_from_options(&o, 16, 1, "NVIDIA H200", &f1));
    cnn_impacts_compute(&f1, 0.0, 3600.0, &one);
    cnn_impacts_compute(&f, 0.0, 3600.0, &eight);
    const double host = f.devices[0].embodied.gwp * f.devices[0].share * one.life_share;
    CHECK_NEAR(eight.embodied.gwp - host, 8.0 * (one.embodied.gwp - host));

    // The grid table.
    CHECK(cnn_grid_lookup("fr") == cnn_grid_lookup("FRA"));
    CHECK(cnn_grid_lookup("de") && cnn_grid_lookup("de")->gwp == 0.422);
    CHECK(cnn_grid_lookup("world") && !strcmp(cnn_grid_lookup("world")->a3, "WOR"));
    CHECK(cnn_grid_lookup("XX") == NULL);
}

static void test_options(void) {
    cnn_energy_options o;
    cnn_energy_options_default(&o);
    CHECK(o.enabled && o.power_interval_ms == 100 && o.idle_seconds == 2.0 && o.pue == 1.0);
    CHECK(o.aur == 0.5 && o.lifetime_years == 4.0 && !strcmp(o.meters, "auto"));
    CHECK(cnn_energy_parse_option(&o, "lr", "0.1") == 0); // not ours
    CHECK(cnn_energy_parse_option(&o, "acc-steps", "0.90,0.95,0.96,0.97") == 1);
    CHECK(o.n_acc_steps == 4 && o.acc_steps[2] == 0.96);
    CHECK(cnn_energy_parse_option(&o, "acc-steps", "0.9,0.8") == -1);
    CHECK(strstr(cnn_last_error(), "--acc-steps") && strstr(cnn_last_error(), "increasing"));
    CHECK(cnn_energy_parse_option(&o, "acc-steps", "97") == -1);
    CHECK(cnn_energy_parse_option(&o, "acc-steps", "0.9,,0.95") == -1);
    CHECK(o.n_acc_steps == 4); // unchanged by the failures
    CHECK(cnn_energy_parse_option(&o, "pue", "0.5") == -1 && strstr(cnn_last_error(), "--pue"));
    CHECK(cnn_energy_parse_option(&o, "power-interval-ms", "0") == -1);
    CHECK(cnn_energy_parse_option(&o, "power-interval-ms", "2.5") == -1);
    CHECK(cnn_energy_parse_option(&o, "power-interval-ms", "50") == 1 && o.power_interval_ms == 50);
    CHECK(cnn_energy_parse_option(&o, "idle-seconds", "0") == 1 && o.idle_seconds == 0.0);
    CHECK(cnn_energy_parse_option(&o, "idle-seconds", "-1") == -1);
    CHECK(cnn_energy_parse_option(&o, "grid-country", "XX") == -1 && strstr(cnn_last_error(), "--grid-country"));
    CHECK(cnn_energy_parse_option(&o, "embodied-gpu", "1,2") == -1 && strstr(cnn_last_error(), "GWP,PE,ADP"));
    CHECK(cnn_energy_parse_option(&o, "meters", "rapl,foo") == -1);
    CHECK(cnn_energy_parse_option(&o, "meters", "nvml,cpu-model") == 1);
    CHECK(cnn_energy_parse_option(&o, "cpu-tdp", "abc") == -1);
    CHECK(cnn_energy_parse_option(&o, "cpu-tdp", "65") == 1 && o.cpu_tdp_w == 65.0);
    CHECK(cnn_energy_parse_option(&o, "out", NULL) == -1 && strstr(cnn_last_error(), "needs a value"));
    CHECK(cnn_energy_parse_option(&o, "out", "runs/x") == 1 && !strcmp(o.out_dir, "runs/x"));
    CHECK(cnn_energy_option_is_flag("no-energy") && !cnn_energy_option_is_flag("out"));
    CHECK(cnn_energy_parse_option(&o, "no-energy", "1") == -1);
    CHECK(cnn_energy_parse_option(&o, "no-energy", NULL) == 1 && !o.enabled);

    // The default ladder stops at the target and ends with it.
    double s[CNN_ENERGY_MAX_STEPS];
    int n = cnn_energy_default_steps(0.96, s, CNN_ENERGY_MAX_STEPS);
    CHECK(n == 5 && s[0] == 0.5 && s[3] == 0.95 && s[4] == 0.96);
    n = cnn_energy_default_steps(0.95, s, CNN_ENERGY_MAX_STEPS);
    CHECK(n == 4 && s[3] == 0.95);
    n = cnn_energy_default_steps(0.0, s, CNN_ENERGY_MAX_STEPS);
    CHECK(n == 8 && s[7] == 0.995);
}

int main(void) {
    test_series();
    test_accounting();
    test_impacts();
    test_options();
    return test_finish("test_energy_accounting");
}
