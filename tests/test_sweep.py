#!/usr/bin/env python3
"""cnn-train sweep and its report, end to end on the shared MNIST subset (CPU).

A 2x3 grid: --precision fp32,bf16 x --batch 256,512,20000 at lr 0.1 for one
epoch to a target of 0.9 (reachable in one epoch at batch 256; batch 20000 is
larger than the 10,000 training digits, so those two configurations fail and
must be one row each with that reason while the sweep goes on). Checks the
exit status, sweep.csv (6 rows, reached rows first sorted by energy to
target, failed rows with their reason), sweep.json, and that `cnn-train
report` on the sweep writes its three SVGs (parsed as XML, with curves).
No timing threshold anywhere.
usage: test_sweep.py PATH/TO/cnn-train WORKDIR   (needs $CNN_DATA_DIR/mnist; exit 77 without it)
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

binary, work = sys.argv[1], sys.argv[2]
data = os.path.join(os.environ.get("CNN_DATA_DIR", ""), "mnist")
if not os.environ.get("CNN_DATA_DIR") or not os.path.isdir(data):
    print("skipped: the shared MNIST data is not available (set CNN_DATA_DIR)")
    sys.exit(77)
shutil.rmtree(work, ignore_errors=True)
fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what)


out = os.path.join(work, "sweep")
cmd = [binary, "sweep", "mnist", "--data-dir", data, "--precision", "fp32,bf16", "--batch", "256,512,20000",
       "--lr", "0.1", "--epochs", "1", "--target-acc", "0.9", "--idle-seconds", "0", "--quiet", "--threads", "2",
       "--out", out]
r = subprocess.run(cmd, capture_output=True, text=True)
print(r.stdout[-2500:])
check(r.returncode == 0, f"sweep exited {r.returncode}: {r.stderr[-800:]}")

rows = list(csv.DictReader(open(os.path.join(out, "sweep.csv"))))
check(len(rows) == 6, f"sweep.csv has {len(rows)} rows, expected 6")
names = sorted(row["config"] for row in rows)
check(names == sorted(f"{p}-b{b}-lr0.1" for p in ("fp32", "bf16") for b in (256, 512, 20000)), f"configs {names}")
status = [row["status"] for row in rows]
rank = {"reached": 0, "not reached": 1, "failed": 2}
check([rank[s] for s in status] == sorted(rank[s] for s in status), f"rows not ordered reached/not/failed: {status}")
reached = [row for row in rows if row["status"] == "reached"]
check(len(reached) >= 2, f"only {len(reached)} configurations reached 0.9 in one epoch")
energies = [float(row["energy_to_target_j"]) for row in reached]
check(all(e > 0 and math.isfinite(e) for e in energies), f"energies {energies}")
check(energies == sorted(energies), f"reached rows not sorted by energy to target: {energies}")
for row in reached:
    check(float(row["time_to_target_s"]) > 0 and float(row["final_acc"]) >= 0.9 and row["epochs"] == "1",
          f"reached row {row}")
failed = [row for row in rows if row["status"] == "failed"]
check(sorted(row["batch"] for row in failed) == ["20000", "20000"], f"failed rows {failed}")
for row in failed:
    check("larger than" in row["reason"] and row["energy_to_target_j"] == "", f"failed row's reason {row}")
    check(row["config"] in r.stdout, "failed configuration missing from the printed table")

js = json.load(open(os.path.join(out, "sweep.json")))
check(js["format"] == "cnn-train sweep" and len(js["rows"]) == 6, "sweep.json")
check([x["config"] for x in js["rows"]] == [row["config"] for row in rows], "sweep.json and sweep.csv differ in order")

r = subprocess.run([binary, "report", out], capture_output=True, text=True)
check(r.returncode == 0, f"report exited {r.returncode}: {r.stderr}")
for name in ("sweep_energy_target.svg", "sweep_pareto.svg", "sweep_budget.svg"):
    path = os.path.join(out, name)
    check(os.path.exists(path), f"{name} not written")
    if os.path.exists(path):
        root = ET.parse(path).getroot()
        lines = [e for e in root.iter() if e.tag.endswith("polyline")]
        check(len(lines) >= 1, f"{name} has no curve")
        check(not os.path.exists(path + ".tmp"), f"{name}.tmp left behind")

# --repeat 2: both repeats in one process (cnn-train --repeat), one run directory, the row from its statistics
rout = os.path.join(work, "sweep_repeat")
r = subprocess.run([binary, "sweep", "mnist", "--data-dir", data, "--precision", "fp32", "--batch", "512", "--lr",
                    "0.1", "--epochs", "2", "--target-acc", "0.8", "--idle-seconds", "0", "--quiet", "--threads", "2",
                    "--repeat", "2", "--out", rout], capture_output=True, text=True)
check(r.returncode == 0, f"sweep --repeat 2 exited {r.returncode}: {r.stderr[-800:]}")
if r.returncode == 0:
    row = list(csv.DictReader(open(os.path.join(rout, "sweep.csv"))))[0]
    run = json.load(open(os.path.join(row["dir"], "run.json")))
    summ = run["repeats"]["summary"]
    check(len(run["repeats"]["runs"]) == 2 and row["runs"] == "2", "sweep --repeat 2: not 2 runs in one record")
    check(not os.path.exists(os.path.join(row["dir"], "rep1")), "sweep --repeat 2 still runs one process per repeat")
    check(abs(float(row["energy_to_target_j"]) - summ["energy_to_target_j"]["mean"]) < 1e-6 * summ["energy_to_target_j"]["mean"],
          "sweep --repeat 2: the row's energy is not the repeats' mean")

# a bad list is a usage error of the sweep itself
r = subprocess.run([binary, "sweep", "mnist", "--batch", "64,,128", "--out", os.path.join(work, "bad")],
                   capture_output=True, text=True)
check(r.returncode == 2 and "empty value" in r.stderr, f"bad list: exit {r.returncode}, {r.stderr}")

print("test_sweep:", "FAILED" if fails else "all checks passed")
sys.exit(1 if fails else 0)
