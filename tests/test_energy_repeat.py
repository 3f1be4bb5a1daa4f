#!/usr/bin/env python3
"""cnn-train --repeat N end to end on MNIST.

Usage: test_energy_repeat.py CNN_TRAIN OUT_DIR

Trains 3 runs to 0.9 in one process and checks run.json's `repeats`
section (one entry per run with its seed, the statistics recomputed here
from the runs: mean, median, sample stdev, 95% CI with Student's t), the
epochs.csv `run` column and the report's per-run plots; then that bad
--repeat values are usage errors (exit 2, one line). MNIST is looked up in
$CNN_DATA_DIR/mnist, then ../shared/data/mnist; without it the test is
skipped (exit 77) and says so.
"""
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_energy_svg  # noqa: E402

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def close(a, b, rel=1e-9, abs_=1e-12):
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))


def data_dir():
    env = os.environ.get("CNN_DATA_DIR")
    candidates = [os.path.join(env, "mnist")] if env else []
    candidates.append(os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist")))
    for c in candidates:
        if any(os.path.exists(os.path.join(c, "t10k-labels-idx1-ubyte" + z)) for z in ("", ".gz")):
            return c
    return None


def check_stats(name, st, values, mean=None):
    """st against values; mean: the mean when it is not the plain mean of values."""
    n = len(values)
    check(st["n"] == n, f"{name}: n {st['n']}, want {n}")
    m = statistics.fmean(values) if mean is None else mean
    check(close(st["mean"], m, 1e-9), f"{name}: mean {st['mean']}, want {m}")
    check(close(st["median"], statistics.median(values)), f"{name}: median {st['median']}")
    sd = statistics.stdev(values)
    check(close(st["stdev"], sd, 1e-9, 1e-12), f"{name}: stdev {st['stdev']}, want {sd}")
    h = T975[n - 1] * sd / math.sqrt(n)
    check(close(st["ci95_low"], max(0.0, m - h), 1e-9, 1e-12), f"{name}: ci95_low {st['ci95_low']}, want {max(0, m - h)}")
    check(close(st["ci95_high"], m + h, 1e-9, 1e-12), f"{name}: ci95_high {st['ci95_high']}, want {m + h}")


def check_record(out):
    with open(os.path.join(out, "run.json"), encoding="utf-8") as f:
        rec = json.load(f)
    rep = rec["repeats"]
    runs, summ = rep["runs"], rep["summary"]
    check(len(runs) == 3, f"{len(runs)} runs in run.json, want 3")
    check([r["seed"] for r in runs] == [7, 8, 9], "the runs' seeds are not 7, 8, 9")
    check(all(r["reached"] for r in runs), "a run did not reach 0.9")
    for r in runs:
        check(r["energy_to_target_j"] > 0 and r["energy_to_target_uncertainty_j"] >= 0, "a run without its energy")
    check_stats("time_to_target_s", summ["time_to_target_s"], [r["time_to_target_s"] for r in runs])
    check_stats("epochs_to_target", summ["epochs_to_target"], [r["epochs"] for r in runs])
    energies = [r["energy_to_target_j"] for r in runs]
    # The mean comes from one window over all runs: the runs' windows plus what lies between them.
    span_mean = (sum(energies) + summ["between_runs_j"]) / 3
    check(close(summ["span_total_j"] / 3, span_mean, 1e-6), "the spanning window is not the runs plus between")
    check(summ["between_runs_j"] >= 0, "negative energy between runs")
    check_stats("energy_to_target_j", summ["energy_to_target_j"], energies, mean=summ["span_total_j"] / 3)
    check(close(summ["energy_to_target_mean_uncertainty_j"], summ["span_total_uncertainty_j"] / 3),
          "the mean's uncertainty is not the span's over N")
    for k, st in enumerate(summ["accuracy_steps"]):
        vals = [r["accuracy_steps"][k]["marginal_total_j"] for r in runs if r["accuracy_steps"][k]["reached"]]
        check_stats(f"step {st['threshold']}", st["marginal_total_j"], vals)
    counts = summ["epochs_to_target_counts"]
    check(sum(counts.values()) == 3, "the epochs-to-target counts do not add up to 3")
    with open(os.path.join(out, "epochs.csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    check(sorted({r["run"] for r in rows}) == ["1", "2", "3"], "epochs.csv's run column is not 1, 2, 3")
    check(len(rows) == sum(r["epochs"] for r in runs), "epochs.csv does not hold every run's epochs")


def check_no_idle(exe, out):
    """report --no-idle: power.svg without the idle segment (it had one: the baseline was measured now)."""
    import xml.etree.ElementTree as ET
    svg = "{http://www.w3.org/2000/svg}"
    root = ET.parse(os.path.join(out, "power.svg")).getroot()
    check(any("idle" in (e.get("class") or "") for e in root.iter(svg + "rect")), "power.svg has no idle segment")
    r = subprocess.run([exe, "report", out, "--no-idle"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"report --no-idle exited with {r.returncode}: {r.stderr}")
    root = ET.parse(os.path.join(out, "power.svg")).getroot()
    check(not any("idle" in (e.get("class") or "").split() for e in root.iter(svg + "rect")),
          "report --no-idle still draws the idle segment")
    r = subprocess.run([exe, "report", out, "--bogus"], capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, "report with a bad flag is not a usage error")


def check_usage_errors(exe, data):
    for bad in (["--repeat", "0"], ["--repeat", "-1"], ["--repeat", "abc"], ["--repeat", "1001"],
                ["--repeat", "2.5"], ["--repeat", "2"]):  # the last: no --target-acc
        extra = [] if bad == ["--repeat", "2"] else ["--target-acc", "0.9"]
        p = subprocess.run([exe, "mnist", "--data-dir", data, *extra, *bad], capture_output=True, text=True,
                           timeout=60)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and "--repeat" in lines[0],
              f"{' '.join(bad)}: exit {p.returncode}, stderr {p.stderr!r}")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    exe, out = sys.argv[1], sys.argv[2]
    data = data_dir()
    if not data:
        print("SKIPPED: no MNIST files in $CNN_DATA_DIR/mnist or ../shared/data/mnist")
        return 77
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, XDG_CACHE_HOME=out + "-cache")  # the idle cache: never the user's
    cmd = [exe, "mnist", "--repeat", "3", "--target-acc", "0.9", "--epochs", "3", "--seed", "7", "--data-dir", data,
           "--idle-seconds", "0.2", "--out", out]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    check(p.returncode == 0, f"cnn-train --repeat 3 exited with {p.returncode}: {p.stderr[-2000:]}")
    check("across runs" in p.stdout and "epochs to target:" in p.stdout, "the summary has no statistics across runs")
    if p.returncode == 0:
        check_record(out)
        r = subprocess.run([exe, "report", out], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"cnn-train report exited with {r.returncode}: {r.stderr}")
        for problem in test_energy_svg.check_run_dir(out) + test_energy_svg.check_repeats(out):
            check(False, problem)
        check_no_idle(exe, out)
    check_usage_errors(exe, data)
    shutil.rmtree(out + "-cache", ignore_errors=True)
    if failures:
        return 1
    print("cnn-train --repeat 3: run.json's statistics, epochs.csv's run column and the per-run plots agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
