#!/usr/bin/env python3
"""Validates the report's SVG plots with the standard library only.

Usage: test_energy_svg.py RUN_DIR
       test_energy_svg.py --fixture TEST_ENERGY_SESSION RUN_DIR
  (the second form first runs the test_energy_session binary, which writes
  a run directory from a played-back training loop and renders it)
  RUN_DIR holds run.json, power.csv and the three SVGs written by
  `cnn-train report` (or cnn_report_render). Each SVG must parse as XML,
  be an <svg> document with a <title>, and carry the expected series:
  a power polyline per meter in run.json with its provenance, epoch and
  evaluation marks, the accuracy polyline with one point per evaluation and
  one threshold line per accuracy step, and one bar per reached step whose
  height order follows the marginal energies in run.json; epoch_energy.svg
  with one bar per epoch and its error bar. Every SVG names its run in a
  caption (dataset, model, device, date, run id) and says whether its
  energies are estimated; legends lie inside the plot; bars of windows below
  the meter's resolution are marked so.
Also importable: check_run_dir(path) and check_repeats(path) return lists of problems.
"""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def _classes(el):
    return (el.get("class") or "").split()


def _find(root, tag, cls):
    return [e for e in root.iter(SVG + tag) if cls in _classes(e)]


def _points(poly):
    pts = []
    for p in (poly.get("points") or "").split():
        x, y = p.split(",")
        pts.append((float(x), float(y)))
    return pts


PLOT_LEFT, PLOT_RIGHT, PLOT_TOP = 80, 900 - 30, 50  # the plot area (report_svg.h)


def _resolved(j, u):
    return j is not None and u is not None and u < 0.1 * abs(j)


def _check_caption(name, root, run):
    problems = []
    caption = " ".join((t.text or "") for t in _find(root, "text", "caption"))
    cfg = run["config"]
    for what in (cfg["dataset"], cfg["model"], cfg["device"], run["created_utc"], run["run_id"]):
        if what not in caption:
            problems.append(f"{name}: the caption does not name '{what}'")
    if run["total_provenance"] == "estimated" and "ESTIMATED" not in caption:
        problems.append(f"{name}: estimated energies, and the caption does not say so")
    for box in _find(root, "rect", "legend"):
        x, w = float(box.get("x")), float(box.get("width"))
        if x < PLOT_LEFT or x + w > PLOT_RIGHT or float(box.get("y")) < PLOT_TOP:
            problems.append(f"{name}: the legend lies outside the plot")
    return problems


def _check_bars(name, bars, values):
    """bars against [(joules, uncertainty)]: values, and the below-resolution mark."""
    problems = []
    if len(bars) != len(values):
        return [f"{name}: {len(bars)} bars for {len(values)} values"]
    for bar, (j, u) in zip(bars, values):
        if abs(float(bar.get("data-joules")) - j) > 1e-4 * max(1.0, abs(j)):
            problems.append(f"{name}: a bar of {bar.get('data-joules')} J, run.json says {j}")
        if ("below-resolution" in _classes(bar)) == _resolved(j, u):
            problems.append(f"{name}: the bar of {j} ± {u} J is marked wrongly for resolution")
    return problems


def check_repeats(run_dir):
    """The --repeat plots: one faint line per run plus the mean, one bar per accuracy step."""
    problems = []
    with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
        run = json.load(f)
    runs = run["repeats"]["runs"]
    path = os.path.join(run_dir, "repeats_accuracy_energy.svg")
    root = ET.parse(path).getroot()
    problems += _check_caption("repeats_accuracy_energy.svg", root, run)
    lines = _find(root, "polyline", "run")
    if len(lines) != len(runs):
        problems.append(f"repeats_accuracy_energy.svg: {len(lines)} run lines for {len(runs)} runs")
    for line, r in zip(lines, runs):
        if len(_points(line)) != len(r["evaluations"]):
            problems.append(f"repeats_accuracy_energy.svg: run {r['run']} has {len(_points(line))} points")
    if len(_find(root, "polyline", "mean")) != 1:
        problems.append("repeats_accuracy_energy.svg: no mean line")
    root = ET.parse(os.path.join(run_dir, "repeats_step_energy.svg")).getroot()
    problems += _check_caption("repeats_step_energy.svg", root, run)
    steps = run["repeats"]["summary"]["accuracy_steps"]
    bars = _find(root, "rect", "bar")
    if len(bars) != len([s for s in steps if s["marginal_total_j"]["n"] > 0]):
        problems.append(f"repeats_step_energy.svg: {len(bars)} bars for {len(steps)} steps")
    for bar, s in zip(bars, steps):
        if abs(float(bar.get("data-joules")) - s["marginal_total_j"]["mean"]) > 1e-4 * max(1, s["marginal_total_j"]["mean"]):
            problems.append("repeats_step_energy.svg: a bar is not the step's mean")
    return problems


def check_run_dir(run_dir):
    problems = []
    with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
        run = json.load(f)
    meters = {m["name"]: m["provenance"] for m in run["meters"]}
    trees = {}
    for name in ("power.svg", "accuracy_energy.svg", "step_energy.svg", "epoch_energy.svg"):
        path = os.path.join(run_dir, name)
        if not os.path.exists(path):
            problems.append(f"{name} is missing")
            continue
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            problems.append(f"{name} is not valid XML: {e}")
            continue
        if root.tag != SVG + "svg":
            problems.append(f"{name}: the root element is {root.tag}, not svg")
        title = root.find(SVG + "title")
        if title is None or not (title.text or "").strip():
            problems.append(f"{name}: no <title>")
        elif run["total_provenance"] not in title.text:
            problems.append(f"{name}: the title '{title.text}' does not state the provenance")
        problems += _check_caption(name, root, run)
        trees[name] = root

    power = trees.get("power.svg")
    if power is not None:
        series = {p.get("data-meter"): p for p in _find(power, "polyline", "series")}
        for name, prov in meters.items():
            p = series.get(name)
            if p is None:
                problems.append(f"power.svg: no series for meter {name}")
                continue
            if p.get("data-provenance") != prov:
                problems.append(f"power.svg: {name} is labelled '{p.get('data-provenance')}', not '{prov}'")
            if len(_points(p)) < 2:
                problems.append(f"power.svg: the {name} series has fewer than 2 points")
        if len(meters) > 1 and "total" not in series:
            problems.append("power.svg: no total series for several meters")
        n_epoch_marks = len(_find(power, "line", "epoch"))
        if n_epoch_marks != len(run["epochs"]):
            problems.append(f"power.svg: {n_epoch_marks} epoch marks for {len(run['epochs'])} epochs")
        xs = [float(t.get("x")) for t in _find(power, "text", "epoch-label")]
        if any(b - a < 28 for a, b in zip(xs, xs[1:])):
            problems.append("power.svg: epoch labels closer than 28 px overlap")
        n_eval_marks = len(_find(power, "rect", "eval"))
        if n_eval_marks != len(run["evaluations"]):
            problems.append(f"power.svg: {n_eval_marks} evaluation marks for {len(run['evaluations'])} evaluations")

    acc = trees.get("accuracy_energy.svg")
    if acc is not None:
        lines = _find(acc, "polyline", "accuracy")
        if len(lines) != 1:
            problems.append(f"accuracy_energy.svg: {len(lines)} accuracy series, want 1")
        else:
            pts = _points(lines[0])
            if len(pts) != len(run["evaluations"]):
                problems.append(f"accuracy_energy.svg: {len(pts)} points for {len(run['evaluations'])} evaluations")
            xs = [x for x, _ in pts]
            if xs != sorted(xs):
                problems.append("accuracy_energy.svg: cumulative energy does not increase along the series")
        thresholds = sorted(float(t.get("data-threshold")) for t in _find(acc, "line", "threshold"))
        want = sorted(s["threshold"] for s in run["accuracy_steps"])
        if [round(t, 6) for t in thresholds] != [round(t, 6) for t in want]:
            problems.append(f"accuracy_energy.svg: thresholds {thresholds}, want {want}")

    steps = trees.get("step_energy.svg")
    if steps is not None:
        bars = _find(steps, "rect", "bar")
        reached = [s for s in run["accuracy_steps"] if s["reached"]]
        if len(bars) != len(reached):
            problems.append(f"step_energy.svg: {len(bars)} bars for {len(reached)} reached steps")
        else:
            for bar, s in zip(bars, reached):
                if abs(float(bar.get("data-threshold")) - s["threshold"]) > 1e-9:
                    problems.append(f"step_energy.svg: bar for {bar.get('data-threshold')}, want {s['threshold']}")
                j = float(bar.get("data-joules"))
                if abs(j - s["marginal_total_j"]) > 1e-4 * max(1.0, abs(s["marginal_total_j"])):
                    problems.append(f"step_energy.svg: bar {s['threshold']} is {j} J, run.json says "
                                    f"{s['marginal_total_j']}")
            heights = [float(b.get("height")) for b in bars]
            marg = [max(s["marginal_total_j"], 0.0) for s in reached]
            for a in range(len(bars)):
                for b in range(len(bars)):
                    if marg[a] > marg[b] * 1.01 + 1e-9 and heights[a] < heights[b]:
                        problems.append("step_energy.svg: bar heights do not follow the marginal energies")
    epochs = trees.get("epoch_energy.svg")
    if epochs is not None:
        bars = _find(epochs, "rect", "epoch")
        problems += _check_bars("epoch_energy.svg", bars, [(e["total_j"], e["total_uncertainty_j"]) for e in run["epochs"]])
        n_err = len(_find(epochs, "g", "error-bar"))
        want = len([e for e in run["epochs"] if (e["total_uncertainty_j"] or 0) > 0])
        if n_err != want:
            problems.append(f"epoch_energy.svg: {n_err} error bars for {want} epochs with an uncertainty")
    if steps is not None:
        reached = [s for s in run["accuracy_steps"] if s["reached"]]
        problems += _check_bars("step_energy.svg", _find(steps, "rect", "bar"),
                                [(s["marginal_total_j"], s["marginal_total_uncertainty_j"]) for s in reached])
    return problems


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--fixture":
        shutil.rmtree(args[2], ignore_errors=True)
        r = subprocess.run([args[1], args[2]], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print(r.stdout[-4000:], r.stderr[-4000:])
            print(f"FAIL: {args[1]} exited with {r.returncode}")
            return 1
        args = args[2:]
    if len(args) != 1:
        print(__doc__)
        return 2
    problems = check_run_dir(args[0])
    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    print(f"{args[0]}: the four SVG plots are valid, name their run and carry the expected series")
    return 0


if __name__ == "__main__":
    sys.exit(main())
