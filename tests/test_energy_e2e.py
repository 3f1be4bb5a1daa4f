#!/usr/bin/env python3
"""End to end on the CPU: a short cnn-train run writes the run record, the
per-epoch energies add up to the total, every figure carries its
provenance, and `cnn-train report` renders valid SVG plots.

Usage: test_energy_e2e.py CNN_TRAIN OUT_DIR
  The MNIST files are looked up in $CNN_DATA_DIR/mnist, then in
  ../shared/data/mnist beside the repository. Without them the test is
  skipped (exit 77) and says so. A cnn-train without --out is a failure.
"""
import csv
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_energy_svg  # noqa: E402

PROVENANCES = {"measured-counter", "measured-power", "estimated"}
# CodeCarbon 3.x's columns, from the copy of its schema kept in tests/
with open(os.path.join(HERE, "codecarbon_schema_3.x.csv"), encoding="utf-8") as _fh:
    CODECARBON_COLUMNS = [r[0] for r in csv.reader(l for l in _fh if not l.startswith("#"))][1:]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def close(a, b, rel=1e-6):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def data_dir():
    env = os.environ.get("CNN_DATA_DIR")
    candidates = [os.path.join(env, "mnist")] if env else []
    candidates.append(os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist")))
    for c in candidates:
        if os.path.exists(os.path.join(c, "t10k-labels-idx1-ubyte.gz")) or os.path.exists(
                os.path.join(c, "t10k-labels-idx1-ubyte")):
            return c
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    exe, out = sys.argv[1], sys.argv[2]
    helptext = subprocess.run([exe, "--help"], capture_output=True, text=True)
    if "--out" not in helptext.stdout:
        print(f"FAIL: {exe} --help does not list --out: the CLI does not take the energy options yet "
              "(cnn_energy_parse_option / cnn_energy_print_usage are not wired in tools/cnn_train)")
        return 1
    data = data_dir()
    if data is None:
        print("SKIPPED: no MNIST files in $CNN_DATA_DIR/mnist or ../shared/data/mnist")
        return 77
    shutil.rmtree(out, ignore_errors=True)
    cmd = [exe, "mnist", "--data-dir", data, "--epochs", "2", "--target-acc", "0.9", "--idle-seconds", "0.5",
           "--power-interval-ms", "50", "--out", out]
    print("$", " ".join(cmd))
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    sys.stdout.write(run.stdout[-6000:])
    sys.stderr.write(run.stderr[-3000:])
    check(run.returncode in (0, 3), f"cnn-train exited with {run.returncode}")
    for needle in ("energy per epoch", "energy per accuracy step", "functional unit", "impacts, estimated",
                   "factors:"):
        check(needle in run.stdout, f"the summary lacks '{needle}'")

    names = ["run.json", "epochs.csv", "power.csv", "emissions.csv"]
    for n in names:
        check(os.path.isfile(os.path.join(out, n)), f"{n} was not written")
    leftovers = [f for f in os.listdir(out) if f.startswith(".") and ".tmp." in f] if os.path.isdir(out) else []
    check(not leftovers, f"temporary files left behind: {leftovers}")
    if failures:
        return 1

    with open(os.path.join(out, "run.json"), encoding="utf-8") as f:
        rec = json.load(f)
    meters = {m["name"]: m for m in rec["meters"]}
    check(len(meters) >= 1, "no meter in run.json")
    for m in meters.values():
        check(m["provenance"] in PROVENANCES, f"meter {m['name']} has provenance {m['provenance']}")
        check(m["update_period_s"] is not None and m["method"], f"meter {m['name']} lacks its update period or method")
    if "cpu-model" in meters:
        check(meters["cpu-model"]["provenance"] == "estimated", "the cpu-model is not labelled estimated")
        check("estimated" in run.stdout, "the summary prints a cpu-model estimate without the word estimated")
    check(rec["total_provenance"] in PROVENANCES, "no total provenance")
    check(run.returncode == (0 if rec["training"]["reached_target"] else 3), "exit code and run.json disagree")

    energy = rec["energy"]
    total = energy["total_j"]
    check(total > 0, "the total energy is not positive")
    check(close(sum(energy["per_meter_j"].values()), total), "the meters do not add up to the total")
    epoch_sum = sum(e["total_j"] for e in rec["epochs"])
    check(close(epoch_sum + energy["outside_epochs_total_j"], total),
          f"epochs ({epoch_sum} J) + outside ({energy['outside_epochs_total_j']} J) != total ({total} J)")
    check(energy["outside_epochs_total_j"] < 0.05 * total, "more than 5% of the energy falls outside the epochs")
    for e in rec["epochs"]:
        check(e["provenance"] in PROVENANCES, f"epoch {e['epoch']} has no provenance")
        check(close(sum(v for v in e["energy_j"].values()), e["total_j"]), f"epoch {e['epoch']} meters != total")
    for i, ev in enumerate(rec["evaluations"]):
        check(ev["provenance"] in PROVENANCES, f"evaluation {i} has no provenance")
    for s in rec["accuracy_steps"]:
        if s["reached"]:
            check(s["provenance"] in PROVENANCES, f"step {s['threshold']} has no provenance")
        if s["reached"] and s["same_evaluation_as_previous"]: # an empty window: exactly nothing, with no doubt
            check(s["marginal_total_j"] == 0 and s["marginal_total_uncertainty_j"] == 0,
                  f"step {s['threshold']} shares the previous step's evaluation but has energy of its own")
    reached = [s for s in rec["accuracy_steps"] if s["reached"]]
    check(reached, "no accuracy step reached")
    if reached:
        check(close(sum(s["marginal_total_j"] for s in reached), reached[-1]["cumulative_total_j"]),
              "the marginal step energies do not add up to the cumulative energy")
    fu = rec["functional_unit"]
    check(fu["provenance"] in PROVENANCES and fu["total_j"] > 0, "functional unit without energy or provenance")
    imp = rec["impacts"]
    check(imp["provenance"] == "estimated", "impacts not labelled estimated")
    f = imp["factors"]
    kwh = imp["energy_kwh"]
    check(close(imp["operational"]["gwp_kgco2eq"], kwh * f["pue"] * f["grid"]["gwp_kgco2eq_per_kwh"]),
          "operational climate impact != energy x PUE x grid factor")
    check(all(d["source"] for d in f["embodied"]), "an embodied figure without its source")
    check(rec["idle"]["measured"] and rec["idle"]["total_power_w"] > 0, "no idle baseline")
    check(rec["sampler"]["overhead_pct"] < 1.0, f"sampler overhead {rec['sampler']['overhead_pct']}% >= 1%")

    with open(os.path.join(out, "epochs.csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    check(len(rows) == len(rec["epochs"]), "epochs.csv and run.json disagree on the epochs")
    for r in rows:
        check(r["total_provenance"] in PROVENANCES, "an epochs.csv row without total provenance")
        for name in meters:
            check(r.get(f"{name}_provenance") in PROVENANCES, f"epochs.csv lacks {name}_provenance")
    with open(os.path.join(out, "power.csv"), newline="", encoding="utf-8") as fh:
        prow = list(csv.DictReader(fh))
    check(prow and list(prow[0].keys())[:4] == ["timestamp", "meter", "watts", "joules"], "power.csv columns")
    check({r["meter"] for r in prow} == set(meters), "power.csv meters != run.json meters")
    check(all(r["provenance"] == meters[r["meter"]]["provenance"] for r in prow), "power.csv provenance")
    with open(os.path.join(out, "emissions.csv"), newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        erow = dict(zip(header, next(reader)))
    check(header == CODECARBON_COLUMNS, "emissions.csv does not have exactly CodeCarbon 3.x's columns")
    parts = sum(float(erow[k]) for k in ("cpu_energy", "gpu_energy", "ram_energy"))
    check(close(float(erow["energy_consumed"]), parts, 1e-9), "emissions.csv energy_consumed != cpu + gpu + ram")
    check(float(erow["cpu_energy"]) * 3.6e6 <= total * (1 + 1e-6), "emissions.csv cpu energy > run.json total")
    check(erow["on_cloud"] in ("N", "Y"), "emissions.csv on_cloud is not N or Y")

    rep = subprocess.run([exe, "report", out], capture_output=True, text=True, timeout=120)
    check(rep.returncode == 0, f"cnn-train report failed: {rep.stderr.strip()}")
    for p in test_energy_svg.check_run_dir(out):
        check(False, p)
    bad = subprocess.run([exe, "report", os.path.join(out, "nonexistent")], capture_output=True, text=True)
    check(bad.returncode != 0 and "does not exist" in bad.stderr, "report on a missing directory: no clear error")
    notrun = subprocess.run([exe, "report", HERE], capture_output=True, text=True)
    check(notrun.returncode != 0 and "run.json" in notrun.stderr, "report on a non-run directory: no clear error")

    if failures:
        print(f"test_energy_e2e: {len(failures)} check(s) FAILED")
        return 1
    print("test_energy_e2e: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
