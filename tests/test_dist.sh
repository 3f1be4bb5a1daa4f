#!/usr/bin/env bash
# cnn-train under mpirun with 2 ranks (docs/distributed.md), on 640 MNIST
# training digits and 1000 test digits (a subset this script writes):
#  - two runs give the same bits: the same evaluation lines and the same
#    final parameters and momentum (the checkpoint's arena); one record, by rank 0;
#  - parity with one process at the same global batch (below);
#  - a batch not divisible by 2 is refused: exit 2, one line;
#  - SIGTERM to mpirun (which passes it on to the ranks after
#    odls_base_sigkill_timeout seconds, and SIGKILLs them as long after) and
#    to the ranks (as Slurm's scancel does) stops every rank at the same step
#    and keeps the record (run.json interrupted; the ranks exit 143, and so
#    does mpirun when the ranks were signalled; signalled itself, mpirun
#    exits 1 and no longer forwards the ranks' output);
#  - resume with another number of ranks is refused, with as many it works.
# Parity tolerance: after 4 epochs (80 steps of batch 32) the final test
# accuracy within 0.02 and the test loss within 0.05 of one process's: the
# two ranks' GEMMs each sum 16 rows and their gradients are added in double,
# so the gradients differ from one process's in the last float bits, and SGD
# with momentum amplifies such differences early in training (on the full
# 10k subset the 5-epoch accuracies of 1 and 2 ranks differ by 0.001-0.004).
# usage: test_dist.sh PATH/TO/cnn-train PATH/TO/mpirun   (needs $CNN_DATA_DIR/mnist)
. "$(dirname "$0")/cli_test_lib.sh" "$@"
mpirun=$2

need_mnist
python3 - "$CNN_DATA_DIR/mnist" "$tmp/mnist" <<'PY' || { echo "cannot write the MNIST subset"; exit 1; }
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
def read(name):
    for n in (name, name + ".gz"):
        p = os.path.join(src, n)
        if os.path.exists(p):
            return (gzip.open if n.endswith(".gz") else open)(p, "rb").read()
def write(name, keep):
    d = read(name)
    dims = d[3]
    shape = list(struct.unpack(">" + "I" * dims, d[4:4 + 4 * dims]))
    row = 1
    for s in shape[1:]:
        row *= s
    shape[0] = keep
    open(os.path.join(dst, name), "wb").write(d[:4] + struct.pack(">" + "I" * dims, *shape) +
                                              d[4 + 4 * dims:4 + 4 * dims + keep * row])
for kind, keep in (("train", 640), ("t10k", 1000)):
    write(f"{kind}-images-idx3-ubyte", keep)
    write(f"{kind}-labels-idx1-ubyte", keep)
PY
export OMPI_MCA_odls_base_sigkill_timeout=3 # mpirun's grace before SIGTERM and then SIGKILL (default 1 s)
mpi=("$mpirun" --allow-run-as-root --oversubscribe -q -np 2)
train=(mnist --data-dir "$tmp/mnist" --hidden 64 --batch 32 --threads 1 --idle-seconds 0)

# evals FILE: the evaluation lines without their elapsed time
evals() { sed -nE 's/^(epoch +[0-9]+ +step .*test acc [0-9.]+).*/\1/p' "$1"; }
# arena DIR: the checkpoint's parameters and momentum, hashed
arena() { python3 -c 'import hashlib, struct, sys
x = open(sys.argv[1] + "/checkpoint.bin", "rb").read()
print(hashlib.sha256(x[40 + struct.unpack_from("<Q", x, 32)[0]:]).hexdigest())' "$1"; }

# 1. the same bits, twice
for k in 1 2; do
    "${mpi[@]}" "$bin" "${train[@]}" --epochs 4 --out "$tmp/np2-$k" >"$tmp/np2-$k.out" 2>"$tmp/np2-$k.err" ||
        fail "np=2 run $k failed: $(tail -3 "$tmp/np2-$k.err")"
done
grep -q 'data-parallel: 2 ranks (2 per node, 1 node), 16 rows of each batch of 32 per rank' "$tmp/np2-1.out" ||
    fail "no data-parallel header line: $(head -5 "$tmp/np2-1.out")"
[ "$(grep -c '^cnn-train: mnist' "$tmp/np2-1.out")" = 1 ] || fail "the header was printed by more than rank 0"
[ "$(evals "$tmp/np2-1.out" | wc -l)" = 4 ] || fail "np=2: not 4 evaluation lines: $(cat "$tmp/np2-1.out")"
[ "$(evals "$tmp/np2-1.out")" = "$(evals "$tmp/np2-2.out")" ] || fail "two np=2 runs printed different evaluations"
[ -f "$tmp/np2-1/run.json" ] && [ -f "$tmp/np2-1/checkpoint.bin" ] || fail "np=2: no run record or checkpoint"
[ "$(arena "$tmp/np2-1")" = "$(arena "$tmp/np2-2")" ] || fail "two np=2 runs ended with different parameters"
python3 - "$tmp/np2-1/run.json" <<'PY' || fail "np=2: run.json does not say 4 epochs of 80 steps"
import json, sys
t = json.load(open(sys.argv[1]))["training"]
assert t.get("steps", 80) == 80 and t.get("epochs", 4) == 4, t
PY

# 1b. the energy of both ranks in rank 0's one record: every rank's meters, the nodes adding up to the totals
python3 - "$tmp/np2-1/run.json" <<'PY' || fail "np=2: run.json's energy does not cover both ranks"
import json, math, sys
d = json.load(open(sys.argv[1]))
w, meters = d["distributed"], [m["name"] for m in d["meters"]]
assert w["world_size"] == 2 and w["nodes_count"] == 1 and len(w["ranks"]) == 2, w
r0, r1 = w["ranks"]
assert r0["rank"] == 0 and r1["rank"] == 1 and r1["local_rank"] == 1, w["ranks"]
assert r1["meters"] and all(m.startswith("r1:") for m in r1["meters"]), r1  # rank 1's own meters, named so
assert sorted(r0["meters"] + r1["meters"]) == sorted(meters), (meters, w["ranks"])
for r in w["ranks"]:
    assert r["training_j"] > 0 and r["training_s"] > 0, r
    assert 0 < r["communication_share"] < 1 and r["allreduce_s"] > 0, r  # CPU ranks: the all-reduce is timed
close = lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
n = w["nodes"][0]
assert n["ranks"] == 2 and close(n["training_j"], r0["training_j"] + r1["training_j"]), (n, w["ranks"])
assert close(n["training_j"], d["energy"]["total_j"]), (n, d["energy"])
assert close(n["functional_unit_j"], d["functional_unit"]["total_j"]), (n, d["functional_unit"])
# the epochs' table has every rank's meters, and adds up as for one process
for e in d["epochs"]:
    assert close(sum(e["energy_j"].values()), e["total_j"]) and set(e["energy_j"]) == set(meters), e
PY
"$bin" report "$tmp/np2-1" >/dev/null 2>"$tmp/np2-report.err" || fail "report refused the np=2 record: $(cat "$tmp/np2-report.err")"
grep -q '^data-parallel: 2 ranks on 1 node' "$tmp/np2-1.out" || fail "np=2: the summary has no energy per node and rank"

# 1c. two nodes (the ranks of this machine named as hosts of their own, CNN_TEST_HOSTNAME): a row per node,
# the nodes adding up to the total, the embodied share counting both nodes' CPUs
mpmd=("$mpirun" --allow-run-as-root --oversubscribe -q)
"${mpmd[@]}" -np 1 -x CNN_TEST_HOSTNAME=node-a "$bin" "${train[@]}" --epochs 1 --out "$tmp/nodes" : \
    -np 1 -x CNN_TEST_HOSTNAME=node-b "$bin" "${train[@]}" --epochs 1 --out "$tmp/nodes" >"$tmp/nodes.out" 2>&1 ||
    fail "two nodes: the run failed: $(tail -3 "$tmp/nodes.out")"
python3 - "$tmp/nodes/run.json" <<'PY' || fail "two nodes: run.json's nodes are wrong"
import json, math, sys
d = json.load(open(sys.argv[1]))
w = d["distributed"]
assert w["nodes_count"] == 2 and [n["host"] for n in w["nodes"]] == ["node-a", "node-b"], w["nodes"]
assert [r["node"] for r in w["ranks"]] == [0, 1] and all(n["ranks"] == 1 for n in w["nodes"]), w
assert math.isclose(sum(n["training_j"] for n in w["nodes"]), d["energy"]["total_j"], rel_tol=1e-9), (w, d["energy"])
assert math.isclose(sum(n["training_uncertainty_j"] for n in w["nodes"]), d["energy"]["total_uncertainty_j"],
                    rel_tol=1e-9), (w, d["energy"])
host = [e for e in d["impacts"]["factors"]["embodied"] if e["device"] == "host"][0]
cpus = sum(n["logical_cpus"] for n in w["nodes"])
assert math.isclose(host["share"], cpus / 96, rel_tol=1e-9), (host, cpus)
PY
grep -qE '^  1 node-b +1 ' "$tmp/nodes.out" || fail "two nodes: the summary has no row for node-b: $(cat "$tmp/nodes.out")"

# 2. parity with one process at the same global batch
"$bin" "${train[@]}" --epochs 4 --no-energy >"$tmp/np1.out" 2>&1 || fail "the np=1 run failed: $(tail -3 "$tmp/np1.out")"
python3 - "$tmp/np1.out" "$tmp/np2-1.out" <<'PY' || fail "np=2 is not within the tolerance of np=1"
import re, sys
def final(p):
    m = re.search(r"final test accuracy ([0-9.]+) .*test loss ([0-9.]+)", open(p).read())
    return float(m.group(1)), float(m.group(2))
(a1, l1), (a2, l2) = final(sys.argv[1]), final(sys.argv[2])
print(f"np=1: accuracy {a1} loss {l1}; np=2: accuracy {a2} loss {l2}")
assert abs(a1 - a2) <= 0.02 and abs(l1 - l2) <= 0.05, (a1, a2, l1, l2)
PY

# 3. a global batch not divisible by the ranks
"${mpi[@]}" "$bin" "${train[@]}" --batch 33 --no-energy >"$tmp/odd.out" 2>"$tmp/odd.err"
got=$?
[ "$got" = 2 ] || fail "--batch 33 on 2 ranks: exit $got, expected 2"
[ "$(wc -l <"$tmp/odd.err")" = 1 ] && grep -q '^cnn-train: --batch 33 (the global batch) is not divisible by the 2 ranks' \
    "$tmp/odd.err" || fail "--batch 33 on 2 ranks: not one line saying so: $(cat "$tmp/odd.err")"

# 3b. a divergence on 2 ranks: agreed at its step, the record complete (as for one process), no abort
"${mpi[@]}" "$bin" "${train[@]}" --data-dir "$CNN_DATA_DIR/mnist" --lr 100 --epochs 1 --checkpoint-every 5 --out "$tmp/div" >"$tmp/div.out" 2>"$tmp/div.err"
got=$?
[ "$got" = 1 ] || fail "diverging on 2 ranks: exit $got, expected 1"
[ "$(grep -c '^cnn-train: ' "$tmp/div.err")" = 1 ] && grep -qE '^cnn-train: (rank [0-9]+: )?training diverged' "$tmp/div.err" ||
    fail "diverging on 2 ranks: not one divergence line: $(cat "$tmp/div.err")"
grep -q 'MPI_ABORT' "$tmp/div.err" && fail "diverging on 2 ranks: the world was aborted instead of ending together"
[ -e "$tmp/div/.cnn-train.lock" ] && fail "diverging on 2 ranks: the lock file was left"
python3 - "$tmp/div/run.json" <<'PY' || fail "diverging on 2 ranks: run.json does not say where"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["training"]["diverged"] is True and d["training"]["diverged_step"] > 0, d["training"]
assert d["distributed"]["world_size"] == 2, d["distributed"]
PY

# 4. SIGTERM: to mpirun (exit 1, Open MPI's), to the ranks themselves (exit 143); the record says interrupted
# (on the full 10,000 digits: a few evaluation lines a second, which fit the terminal buffer of a rank whose
# output mpirun no longer reads once it is signalled)
interrupt() { # TAG WHO WANT
    local out="$tmp/term-$1"
    "${mpi[@]}" "$bin" "${train[@]}" --data-dir "$CNN_DATA_DIR/mnist" --epochs 100000 --out "$out" >"$out.out" \
        2>"$out.err" &
    local pid=$!
    for _ in $(seq 600); do
        grep -q 'step ' "$out.out" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$2" = mpirun ]; then kill -TERM "$pid"; else kill -TERM $(pgrep -P "$pid"); fi
    wait "$pid"
    local got=$?
    [ "$got" = "$3" ] || fail "SIGTERM to $2: exit $got, expected $3; $(tail -3 "$out.err")"
    [ "$2" = mpirun ] || grep -q '^interrupted by SIGTERM at epoch' "$out.out" ||
        fail "SIGTERM to $2: no summary: $(tail -3 "$out.out")"
    python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["training"]["interrupted"] is True' \
        "$out/run.json" || fail "SIGTERM to $2: run.json does not say interrupted"
}
interrupt mpirun mpirun 1
interrupt ranks ranks 143

# 5. resume: with another number of ranks refused (one line, exit 2), with as many it goes on
"$bin" resume "$tmp/np2-1" --epochs 5 >"$tmp/r1.out" 2>"$tmp/r1.err"
got=$?
[ "$got" = 2 ] && grep -q 'written by a run of 2 ranks and this run has 1' "$tmp/r1.err" ||
    fail "resume of a 2-rank run in one process: exit $got: $(cat "$tmp/r1.err")"
"${mpi[@]}" "$bin" resume "$tmp/np2-1" --epochs 5 >"$tmp/r2.out" 2>"$tmp/r2.err" ||
    fail "resume with 2 ranks failed: $(tail -3 "$tmp/r2.err")"
grep -qE '^epoch +5 +step +100 ' "$tmp/r2.out" || fail "resume with 2 ranks: no epoch 5: $(tail -3 "$tmp/r2.out")"
# both segments carry both ranks' meters, and the functional unit adds them
python3 - "$tmp/np2-1/run.json" <<'PY' || fail "resume with 2 ranks: the segments do not cover both ranks"
import json, math, sys
d = json.load(open(sys.argv[1]))
g, fu = d["segments"]["list"], d["functional_unit"]
assert len(g) == 2, g
for s in g:
    names = set(s["energy_per_meter_j"])
    assert any(n.startswith("r1:") for n in names) and any(not n.startswith("r1:") for n in names), s
    assert math.isclose(sum(s["energy_per_meter_j"].values()), s["energy_total_j"], rel_tol=1e-9), s
assert math.isclose(fu["total_j"], g[0]["energy_total_j"] + g[1]["energy_total_j"], rel_tol=1e-9), (fu, g)
PY

finish test_dist
