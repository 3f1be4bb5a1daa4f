// Grid factors by country, default embodied figures, and the impact sums.
#include "core/energy/accounting/impacts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SRC_EU "Scarlat et al. 2022, Applied Energy 305 (Europe, 2019)"
#define SRC_EMBER "Ember data explorer (2020)"

// Per-kWh factors as collected by Boavizta (boaviztapi, data/electricity/
// electricity_impact_factors.csv): climate change from the source named in
// each row; primary energy = ADEME Base IMPACTS fossil resource use (2011)
// / (1 - renewable share, IRENA 2016); abiotic depletion from ADEME Base
// IMPACTS (2011).
static const cnn_grid_entry grid_table[] = {
    {"WO", "WOR", "World average", 0.39, 9.984, 7.38e-8, "average of the countries in the table (2019/2020)"},
    {"EU", "EEE", "EU-27 average", 0.38, 12.874, 6.42e-8, SRC_EU},
    {"AU", "AUS", "Australia", 0.56, 16.908, 7.91e-8, SRC_EMBER},
    {"BE", "BEL", "Belgium", 0.23, 10.776, 3.37e-8, SRC_EU},
    {"BR", "BRA", "Brazil", 0.113, 9.031, 1.096e-7, SRC_EMBER},
    {"CA", "CAN", "Canada", 0.12, 11.987, 9.93e-8, SRC_EMBER},
    {"CH", "CHE", "Switzerland", 0.078, 11.782, 1.005e-7, SRC_EU},
    {"CN", "CHN", "China", 0.55, 14.109, 8.52e-8, SRC_EMBER},
    {"DE", "DEU", "Germany", 0.422, 16.26, 8.79e-8, SRC_EU},
    {"DK", "DNK", "Denmark", 0.158, 16.824, 1.57e-8, SRC_EU},
    {"ES", "ESP", "Spain", 0.279, 12.09, 5.18e-8, SRC_EU},
    {"FI", "FIN", "Finland", 0.141, 11.275, 8.05e-8, SRC_EU},
    {"FR", "FRA", "France", 0.098, 11.289, 4.86e-8, SRC_EU},
    {"GB", "GBR", "United Kingdom", 0.246, 13.579, 3.71e-8, SRC_EMBER},
    {"IE", "IRL", "Ireland", 0.384, 10.706, 2.19e-8, SRC_EU},
    {"IN", "IND", "India", 0.626, 20.353, 1.001e-7, SRC_EMBER},
    {"IT", "ITA", "Italy", 0.356, 12.656, 5.44e-8, SRC_EU},
    {"JP", "JPN", "Japan", 0.473, 10.718, 5.97e-8, SRC_EMBER},
    {"KR", "KOR", "South Korea", 0.444, 10.199, 5.18e-8, SRC_EMBER},
    {"NL", "NLD", "Netherlands", 0.45, 8.511, 3.29e-8, SRC_EU},
    {"NO", "NOR", "Norway", 0.031, 4.952, 1.275e-7, SRC_EU},
    {"PL", "POL", "Poland", 0.805, 13.178, 1.019e-7, SRC_EU},
    {"SE", "SWE", "Sweden", 0.04, 11.026, 7.77e-8, SRC_EU},
    {"SG", "SGP", "Singapore", 0.489, 10.477, 1.98e-8, SRC_EMBER},
    {"TW", "TWN", "Taiwan", 0.563, 11.439, 5.78e-8, SRC_EMBER},
    {"US", "USA", "United States", 0.37, 11.358, 9.86e-8, SRC_EMBER},
    {"ZA", "ZAF", "South Africa", 0.72, 11.732, 8.62e-8, SRC_EMBER},
};

int cnn_grid_table(const cnn_grid_entry **table) {
    *table = grid_table;
    return (int)(sizeof grid_table / sizeof grid_table[0]);
}

const cnn_grid_entry *cnn_grid_lookup(const char *code) {
    if (!code) return NULL;
    if (!strcasecmp(code, "world")) return &grid_table[0];
    for (size_t i = 0; i < sizeof grid_table / sizeof grid_table[0]; i++)
        if (!strcasecmp(code, grid_table[i].a2) || !strcasecmp(code, grid_table[i].a3)) return &grid_table[i];
    return NULL;
}

// Defaults for the embodied impacts (manufacture), docs/ENERGY.md:
// - host: Boavizta's reference rack server (Dell R740: 2 x 24-core CPUs,
//   12 x 32 GB RAM, a 400 GB SSD, 2 power supplies) as given in the
//   BoaviztAPI documentation: 970 kgCO2eq, 13000 MJ, 0.15 kgSbeq.
// - gpu: the ADEME / Hubblo / Tide parametric GPU model (data.hubblo.org
//   GPU embedded impacts calculator) for an NVIDIA A100 PCIe 40GB: 181
//   kgCO2eq, 2445 MJ of fossil resources (used for primary energy), 0.0069
//   kgSbeq — a stand-in for GPUs without their own published figure.
static const cnn_impact3 HOST_DEFAULT = {970.0, 13000.0, 0.15};
static const cnn_impact3 GPU_DEFAULT = {181.0, 2445.0, 0.0069};

cnn_status cnn_impact_factors_from_options(const cnn_energy_options *o, int n_logical_cpus, int n_gpus,
                                           const char *gpu_name, cnn_impact_factors *f) {
    memset(f, 0, sizeof *f);
    f->pue = o->pue;
    f->aur = o->aur;
    f->lifetime_years = o->lifetime_years;
    const cnn_grid_entry *g = o->grid_country[0] ? cnn_grid_lookup(o->grid_country) : &grid_table[0];
    if (!g)
        return cnn_error(CNN_ERR_INVALID_ARG,
                         "--grid-country %s is not in the built-in table: give --grid-gco2 (and --grid-pe, --grid-adp) "
                         "instead, or one of the codes listed in docs/ENERGY.md",
                         o->grid_country);
    snprintf(f->grid_code, sizeof f->grid_code, "%s", g->a3);
    snprintf(f->grid_name, sizeof f->grid_name, "%s", g->name);
    f->grid = (cnn_impact3){g->gwp, g->pe, g->adp};
    char src[320];
    snprintf(src, sizeof src, "%s: climate change %s; primary energy and abiotic depletion ADEME Base IMPACTS (2011), "
             "as collected by Boavizta", g->name, g->gwp_source);
    if (o->grid_gco2 >= 0) {
        f->grid.gwp = o->grid_gco2 / 1000.0;
        snprintf(src, sizeof src, "climate change from --grid-gco2 %g; primary energy and abiotic depletion: %s (ADEME "
                 "Base IMPACTS 2011, as collected by Boavizta)", o->grid_gco2, g->name);
        snprintf(f->grid_code, sizeof f->grid_code, "user");
    }
    if (o->grid_pe_mj >= 0) f->grid.pe = o->grid_pe_mj;
    if (o->grid_adp >= 0) f->grid.adp = o->grid_adp;
    size_t used = strlen(src);
    if (o->grid_pe_mj >= 0 && used < sizeof src)
        used += (size_t)snprintf(src + used, sizeof src - used, "; primary energy from --grid-pe");
    if (o->grid_adp >= 0 && used < sizeof src)
        snprintf(src + used, sizeof src - used, "; abiotic depletion from --grid-adp");
    snprintf(f->grid_source, sizeof f->grid_source, "%s", src);

    cnn_embodied_device *h = &f->devices[f->n_devices++];
    snprintf(h->name, sizeof h->name, "host");
    h->embodied = o->have_embodied_host ? o->embodied_host : HOST_DEFAULT;
    if (o->host_share >= 0) h->share = o->host_share;
    else {
        h->share = (double)(n_logical_cpus > 0 ? n_logical_cpus : 1) / CNN_HOST_REFERENCE_THREADS;
        if (h->share > 1) h->share = 1;
    }
    if (o->have_embodied_host)
        snprintf(h->source, sizeof h->source, "--embodied-host; share %s", o->host_share >= 0 ? "--host-share" :
                 "logical CPUs / 96");
    else
        snprintf(h->source, sizeof h->source,
                 "Boavizta reference rack server (Dell R740, 2x24-core CPUs, 384 GB RAM), BoaviztAPI docs; share = "
                 "%s",
                 o->host_share >= 0 ? "--host-share" : "the logical CPUs measured (every node's) / the server's 96 threads");
    for (int i = 0; i < n_gpus && f->n_devices < (int)(sizeof f->devices / sizeof f->devices[0]); i++) {
        cnn_embodied_device *d = &f->devices[f->n_devices++];
        snprintf(d->name, sizeof d->name, "gpu %.40s", gpu_name && *gpu_name ? gpu_name : "");
        size_t len = strlen(d->name);
        while (len && isspace((unsigned char)d->name[len - 1])) d->name[--len] = '\0';
        d->embodied = o->have_embodied_gpu ? o->embodied_gpu : GPU_DEFAULT;
        d->share = 1.0;
        snprintf(d->source, sizeof d->source, "%s",
                 o->have_embodied_gpu ? "--embodied-gpu"
                                      : "ADEME/Hubblo/Tide parametric GPU model, NVIDIA A100 PCIe 40GB (data.hubblo.org), "
                                        "a stand-in: no public figure for this GPU");
    }
    return CNN_OK;
}

// Operational = kWh * PUE * grid; embodied = sum(device * share) * time / (AUR * lifetime).
void cnn_impacts_compute(const cnn_impact_factors *f, double energy_j, double time_s, cnn_impacts *out) {
    memset(out, 0, sizeof *out);
    out->energy_j = energy_j;
    out->energy_kwh = energy_j / 3.6e6;
    out->time_s = time_s;
    double facility_kwh = out->energy_kwh * f->pue;
    out->operational.gwp = facility_kwh * f->grid.gwp;
    out->operational.pe = facility_kwh * f->grid.pe;
    out->operational.adp = facility_kwh * f->grid.adp;
    double life_s = f->aur * f->lifetime_years * CNN_SECONDS_PER_YEAR;
    out->life_share = life_s > 0 ? time_s / life_s : 0.0;
    for (int i = 0; i < f->n_devices; i++) {
        const cnn_embodied_device *d = &f->devices[i];
        out->embodied.gwp += d->embodied.gwp * d->share * out->life_share;
        out->embodied.pe += d->embodied.pe * d->share * out->life_share;
        out->embodied.adp += d->embodied.adp * d->share * out->life_share;
    }
    out->total.gwp = out->operational.gwp + out->embodied.gwp;
    out->total.pe = out->operational.pe + out->embodied.pe;
    out->total.adp = out->operational.adp + out->embodied.adp;
}
