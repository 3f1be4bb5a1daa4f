#!/usr/bin/env python3
"""Checks that the energy subsystem keeps the shape of its pipeline.

core/energy/ is laid out in stages, each a folder, and a file may use only its
own stage and earlier ones:

    common/ < meters/ < accounting/ < result/ < record/ < report/ < core/energy/*.c,h (the session, the API)

(report/ comes after record/ because `cnn-train report` draws the record on
disk and verifies it with record/record_dir.h.) Within a stage, modules (x.c
with x.h) must not form a circle. And core/ includes nothing from the folders
above it (layers/, backends/, datasets/, models/, tools/, tests/).

Links are read from the #include "..." lines of the sources. With --objects
DIR (the build's object files of core/energy, e.g.
build/CMakeFiles/cnn.dir/core/energy), the calls are checked too: every
undefined symbol of an object is traced, with nm, to the object defining it,
which catches a function declared in one module's header but defined in
another's file.

Usage: check_layers.py [--root REPO] [--objects DIR] | --self-test
Exit status: 0 when the layout holds, 1 with one line per violation.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ENERGY = "core/energy"
STAGES = ["common", "meters", "accounting", "result", "record", "report"]
TOP = len(STAGES)  # files directly in core/energy: the session and the public API
ABOVE_CORE = ("layers/", "backends/", "datasets/", "models/", "tools/", "tests/")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def stage_of(path):
    """The stage index of a repository-relative path under core/energy, None outside it."""
    if not path.startswith(ENERGY + "/"):
        return None
    rest = path[len(ENERGY) + 1:]
    if "/" not in rest:
        return TOP
    folder = rest.split("/", 1)[0]
    return STAGES.index(folder) if folder in STAGES else -1


def stage_name(i):
    """How a stage is named in messages."""
    return "core/energy (session, API)" if i == TOP else ENERGY + "/" + STAGES[i] + "/"


def module_of(path):
    """x.c and x.h are one module: the path without its extension."""
    return os.path.splitext(path)[0]


def sources(root, top):
    """Repository-relative paths of the .c and .h files under root/top."""
    out = []
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def include_links(root):
    """(from file, to file) for every quoted #include of core/."""
    links = []
    for path in sources(root, "core"):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for target in INCLUDE.findall(f.read()):
                links.append((path, target))
    return links


def object_links(root, objects):
    """(from source, to source) for every call between core/energy's objects, traced with nm."""
    defined, undefined = {}, {}
    for d, _, files in os.walk(objects):
        for f in files:
            if not f.endswith(".c.o"):
                continue
            obj = os.path.join(d, f)
            src = os.path.join(ENERGY, os.path.relpath(obj, objects))[: -len(".o")]
            if not os.path.exists(os.path.join(root, src)):
                continue  # a stale object of a file that was moved or removed
            out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == "U":
                    undefined.setdefault(src, set()).add(parts[1])
                elif len(parts) == 3 and parts[1] in "TDBR":
                    defined[parts[2]] = src
    return [(src, defined[sym]) for src, syms in undefined.items() for sym in sorted(syms) if sym in defined]


def check_links(links, how):
    """Violations of the stage order and of core/'s independence, one message each."""
    errors = []
    for src, dst in links:
        if src.startswith("core/") and dst.startswith(ABOVE_CORE):
            errors.append(f"{src}: {how} {dst}: core/ must not use the folders above it")
        s, d = stage_of(src), stage_of(dst)
        if s is None or d is None:
            continue
        if s < 0 or d < 0:
            bad = src if s < 0 else dst
            errors.append(f"{bad}: not in a known stage of {ENERGY} ({', '.join(STAGES)}, or the top)")
        elif d > s:
            errors.append(f"{src}: {how} {dst}: a back link from {stage_name(s)} to the later {stage_name(d)}")
    return errors


def find_cycles(links):
    """Circles among core/energy's modules, each as the list of modules around it."""
    graph = {}
    for src, dst in links:
        a, b = module_of(src), module_of(dst)
        if a != b and stage_of(src) is not None and stage_of(dst) is not None:
            graph.setdefault(a, set()).add(b)
    cycles, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return cycles


def check(root, objects=None):
    """All violations of the layout under root."""
    groups = [(include_links(root), "includes")]
    if objects:
        groups.append((object_links(root, objects), "calls"))
    errors = []
    for links, how in groups:
        errors += check_links(links, how)
        errors += [f"circle ({how}): " + " -> ".join(c) for c in find_cycles(links)]
    return errors


def self_test():
    """The checker on small trees: a clean one passes, a back link, a circle and core/ using models/ fail."""
    cases = {
        "clean": ({"meters/m.h": "", "report/r.c": '#include "core/energy/meters/m.h"\n'}, 0),
        "back link": ({"meters/m.c": '#include "core/energy/report/r.h"\n', "report/r.h": ""}, 1),
        "circle": ({"record/a.c": '#include "core/energy/record/b.h"\n',
                    "record/b.c": '#include "core/energy/record/a.h"\n', "record/a.h": "", "record/b.h": ""}, 1),
        "core uses models": ({"common/c.c": '#include "models/train.h"\n'}, 1),
        "unknown stage": ({"misc/x.c": '#include "core/energy/common/c.h"\n', "common/c.h": ""}, 1),
    }
    failed = 0
    for name, (files, want) in cases.items():
        root = tempfile.mkdtemp(prefix="check_layers.")
        try:
            for rel, text in files.items():
                path = os.path.join(root, ENERGY, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
            got = 1 if check(root) else 0
        finally:
            shutil.rmtree(root)
        print(f"self-test {name}: {'ok' if got == want else 'WRONG'} ({'fails' if got else 'passes'})")
        failed += got != want
    return 1 if failed else 0


def main():
    """Checks the repository (or runs the self-test) and reports every violation."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--objects", help="the build's object files of core/energy, to check the calls too")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    root = os.path.abspath(args.root)
    objects = args.objects if args.objects and os.path.isdir(args.objects) and shutil.which("nm") else None
    if args.objects and not objects:
        print(f"check_layers: no objects in {args.objects} or no nm: calls not checked (build first)")
    errors = check(root, objects)
    for e in errors:
        print(e)
    n = len(sources(root, ENERGY))
    print(f"check_layers: {n} files in {ENERGY}, {'includes and calls' if objects else 'includes'} checked: "
          f"{len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
