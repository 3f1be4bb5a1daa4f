// The accuracy target is compared on integers: 8800 of 10000 reaches 0.88,
// 8799 does not, in the training loop's helper and in the energy accounting
// (which decides the functional unit and the accuracy steps).
#include <string.h>

#include "core/energy/accounting/accounting.h"
#include "core/train_events.h"
#include "test_util.h"

static void test_helper(void) {
    CHECK(cnn_acc_reaches(8800, 10000, 0.88));
    CHECK(!cnn_acc_reaches(8799, 10000, 0.88));
    CHECK(cnn_acc_reaches(9600, 10000, 0.96));
    CHECK(!cnn_acc_reaches(9599, 10000, 0.96));
    CHECK(cnn_acc_reaches(7, 100, 0.07));  // 0.07 * 100 = 7.000000000000001 in double
    CHECK(!cnn_acc_reaches(6, 100, 0.07));
    CHECK(cnn_acc_reaches(57, 100, 0.57)); // 0.57 * 100 = 56.99999999999999
    CHECK(!cnn_acc_reaches(56, 100, 0.57));
    CHECK(cnn_acc_reaches(1, 3, 0.3333));
    CHECK(!cnn_acc_reaches(0, 3, 0.3333));
    CHECK(cnn_acc_reaches(10000, 10000, 1.0));
    CHECK(!cnn_acc_reaches(9999, 10000, 1.0));
    CHECK(!cnn_acc_reaches(10000, 10000, 0.0)); // no target
    CHECK(!cnn_acc_reaches(5, 0, 0.5));         // nothing evaluated
    // The float quotient the loop used to compare is below the target here.
    CHECK((float)8800 / 10000 < 0.88);
}

static void test_accounting_boundary(void) {
    cnn_meter_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "fake");
    info.update_period_s = 0.01;
    cnn_energy_series se = {0};
    for (int i = 0; i <= 100; i++) CHECK_OK(cnn_series_push(&se, 0.1 * i, 1.0 * i, 10.0));
    cnn_energy_event ev[5];
    memset(ev, 0, sizeof ev);
    ev[0].kind = CNN_EV_TRAIN_BEGIN;
    ev[0].t = 1.0;
    ev[1].kind = CNN_EV_EVAL;
    ev[1].t = 2.0;
    ev[1].eval = (cnn_energy_eval){1, 10, 0.5, 0.4, 0.8799, 1.0, 8799, 10000};
    ev[2].kind = CNN_EV_EVAL;
    ev[2].t = 3.0;
    // test_acc as a float quotient would be 0.87999999: the integers decide.
    ev[2].eval = (cnn_energy_eval){2, 20, 0.5, 0.4, (double)((float)8800 / 10000), 2.0, 8800, 10000};
    ev[3].kind = CNN_EV_TRAIN_END;
    ev[3].t = 4.0;
    double steps[] = {0.88};
    cnn_energy_input in = {&info, &se, 1, ev, 4, 0, 0, steps, 1, 0.88, 0, NULL, NULL, 0};
    cnn_energy_accounting a;
    CHECK_OK(cnn_energy_account(&in, &a));
    CHECK(a.target_reached);
    CHECK(a.target_eval == 1);
    CHECK(a.steps[0].reached && a.steps[0].eval_index == 1);
    cnn_energy_accounting_free(&a);
    cnn_series_free(&se);
}

int main(void) {
    test_helper();
    test_accounting_boundary();
    return test_finish("test_target_check");
}
