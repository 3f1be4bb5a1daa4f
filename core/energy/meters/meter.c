// What every meter shares: provenance names and order, and closing.
#include "core/energy/meters/meter.h"

const char *cnn_provenance_name(cnn_provenance p) {
    switch (p) {
    case CNN_PROV_MEASURED_COUNTER: return "measured-counter";
    case CNN_PROV_MEASURED_POWER: return "measured-power";
    case CNN_PROV_ESTIMATED: return "estimated";
    }
    return "estimated";
}

cnn_provenance cnn_provenance_weakest(cnn_provenance a, cnn_provenance b) { return a > b ? a : b; }

void cnn_meter_close(cnn_meter *m) {
    if (m && m->close) m->close(m);
    if (m) {
        m->close = NULL;
        m->read = NULL;
        m->ctx = NULL;
    }
}
