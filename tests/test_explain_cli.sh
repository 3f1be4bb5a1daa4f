#!/usr/bin/env bash
# cnn-train explain and --model on the command line: both models' tables,
# valid JSON whose totals match the known counts, a measurement whose op
# calls match the listed ops one to one, and usage errors (exit 2, one line).
# The roofline: every figure says where it comes from (measured now, cached
# from DATE, given, data sheet, or a stated default that says loudly it is
# another machine's); --peak-gflops and --bandwidth-gbs are the ones used;
# each op names its cache level; a probe is cached and a stale cache is
# measured again. Runs that check counts only use --no-probe (fast).
# usage: test_explain_cli.sh PATH/TO/cnn-train
. "$(dirname "$0")/cli_test_lib.sh" "$@"

# run CODE ARGS...: exit status CODE; for 2, exactly one line on stderr
run() {
    local want=$1
    shift
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    [ "$got" = "$want" ] || fail "cnn-train $* exited $got, expected $want: $(head -3 "$tmp/err")"
    if [ "$want" = 2 ] && [ "$(wc -l <"$tmp/err")" != 1 ]; then fail "cnn-train $*: expected one stderr line, got: $(cat "$tmp/err")"; fi
}
has() { grep -qF -- "$1" "$tmp/out" || fail "output of '$2' lacks '$1'"; }

run 0 explain --no-probe
for s in 'Z1 = X·W1ᵀ' '(B×784)·(784×512)' 'dW1 = dZ1ᵀ·X' 'dA1 = dZ2·W2' 'compute' 'per example' 'gemm-bench'; do has "$s" explain; done
run 0 explain --model=lenet --batch=32 --no-probe
for s in 'col1 = im2col(X)' 'Z1 = col1·W1ᵀ' '(B·784×25)·(25×6)' 'dW2 = dZ2ᵀ·col2' 'dcol2 = dZ2·W2' 'dP1 = col2im(dcol2)' \
    'P1 = maxpool2x2/2(A1)' 'batch B = 32' 'in GEMMs'; do has "$s" "explain --model=lenet"; done
run 0 explain --help
has 'usage: cnn-train explain' 'explain --help'

if command -v python3 >/dev/null; then
    run 0 explain --json --no-probe
    python3 - "$tmp/out" <<'PY' || fail "explain --json: wrong JSON or totals"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["step"]
assert d["model"] == "mlp" and s["batch"] == 64
assert s["gemm_flops"] == 1636352 * 64, s["gemm_flops"]
assert sum(o["flops"] for o in s["ops"] if o["gemm"]) == s["gemm_flops"]
assert all(o["flops"] == 2 * o["M"] * o["N"] * o["K"] for o in s["ops"] if o["gemm"])
assert 0.9 < d["epoch"]["gemm_share"] < 1
PY
    run 0 explain --model=lenet --json --measure=2 --threads=1
    python3 - "$tmp/out" <<'PY' || fail "explain --model=lenet --json --measure: the timed calls do not match the listed ops"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["measured"]
assert "ops_total_s" in m and m["step_s"] > 0 and m["epoch_s"] > 0
assert all("measured_s" in o for o in d["step"]["ops"])
assert d["step"]["gemm_flops"] == 2263920 * 64
PY
fi

# the roofline's sources
run 0 explain --no-probe
for s in 'WARNING: the roofline is a STATED DEFAULT FOR ANOTHER MACHINE' '(cpu backend, STATED DEFAULT FOR ANOTHER MACHINE): peak 140.0 GFLOP/s' \
    'DRAM 12.20 GB/s' 'not this machine'; do has "$s" "explain --no-probe"; done
run 0 explain --peak-gflops=1000 --bandwidth-gbs=2
for s in '(cpu backend, given): peak 1000 GFLOP/s, bandwidth memory 2.000 GB/s; ridge at 500 FLOP/byte' '--peak-gflops'; do
    has "$s" "explain --peak-gflops=1000 --bandwidth-gbs=2"
done
grep -q 'STATED DEFAULT' "$tmp/out" && fail "explain with both figures given still calls them a default"
run 0 explain --backend=cuda --model=lenet
has '(cuda backend, data sheet): peak 67000 GFLOP/s' "explain --backend=cuda"
export XDG_CACHE_HOME=$tmp/cache # a fresh cache: the first run probes
export CNN_EXPLAIN_IGNORE_LOAD=1 # and caches even on a loaded machine
run 0 explain --batch=128
has '(cpu backend, measured now): peak ' "explain (first run)"
for s in 'SGEMM' 'memcpy within each level' ' DRAM ' 'level' ' L1d ' ' L2 '; do has "$s" "explain (first run)"; done
if command -v python3 >/dev/null; then
    run 0 explain --json --peak-gflops=1000 --bandwidth-gbs=2
    python3 - "$tmp/out" <<'PY' || fail "explain --json with given figures: not the ones used"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["roofline"]
assert r["peak_source"] == "given" and r["bandwidth_source"] == "given" and not r["stated_default"], r
assert r["peak_gflops"] == 1000 and r["bandwidth_gbs"] == 2 and [l["name"] for l in r["levels"]] == ["memory"]
for o in d["step"]["ops"]:
    t = max(o["flops"] / 1e12, o["bytes"] / 2e9)
    assert abs(o["t_min_s"] - t) <= 1e-9 * t and o["level"] == "memory", o
    assert o["bound"] == ("compute" if o["flops"] / o["bytes"] >= 500 else "memory"), o
PY
    run 0 explain --json --model=lenet
    cp "$tmp/out" "$tmp/first.json"
    python3 - "$tmp/out" "$XDG_CACHE_HOME" <<'PY' || fail "explain --json: the measured roofline's fields"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["roofline"]
assert r["peak_source"] in ("measured now", "cached") and r["bandwidth_source"] == r["peak_source"], r
assert not r["stated_default"] and r["peak_gflops"] > 0 and r["threads"] >= 1, r
names = [l["name"] for l in r["levels"]]
assert names[-1] == "DRAM" and names[0].startswith("L1"), names
assert all(l["gbs"] > 0 for l in r["levels"]), r["levels"]
assert all(l["capacity_bytes"] > 0 and l["size_bytes"] > 0 for l in r["levels"][:-1]), r["levels"]
assert r["cache_file"].startswith(sys.argv[2] + "/cnn-train/roofline-"), r["cache_file"]
ops = d["step"]["ops"]
assert all(o["level"] in names for o in ops)
for o in ops:  # the level is the fastest that holds the op's bytes, its bandwidth the level's
    fits = [l for l in r["levels"][:-1] if o["bytes"] <= l["capacity_bytes"]]
    want = fits[0] if fits else r["levels"][-1]
    assert o["level"] == want["name"] and o["level_gbs"] == want["gbs"], (o, want)
    t = max(o["flops"] / (r["peak_gflops"] * 1e9), o["bytes"] / (want["gbs"] * 1e9))
    assert abs(o["t_min_s"] - t) <= 1e-9 * t, o
PY
    # measured without load: cached, and the next run says so; a week-old cache is measured again
    if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["roofline"]["busy"] is not None)' "$tmp/first.json"; then
        run 0 explain
        has '(cpu backend, cached from 20' "explain (second run)"
        has '--probe measures again' "explain (second run)"
        run 0 explain --probe
        has '(cpu backend, measured now)' "explain --probe"
        f=$(ls "$XDG_CACHE_HOME"/cnn-train/roofline-*.json | head -1)
        python3 - "$f" <<'PY' || fail "could not age the cache file"
import json, sys
d = json.load(open(sys.argv[1])); d["measured_unix_s"] -= 8 * 24 * 3600
json.dump(d, open(sys.argv[1], "w"))
PY
        run 0 explain
        has '(cpu backend, measured now)' "explain with a week-old cache"
    else
        echo "note: the machine was busy during the probe (not cached): the cache checks are skipped"
    fi
fi
unset XDG_CACHE_HOME CNN_EXPLAIN_IGNORE_LOAD

run 2 explain --probe=1
run 2 explain --probe --no-probe
run 2 explain --backend=cuda --no-probe
run 2 explain --bandwidth-gbs=inf
run 2 explain --model=resnet
run 2 explain --model=lenet --hidden=100
run 2 explain --batch=0
run 2 explain --peak-gflops=-1
run 2 explain --measure=0
run 2 explain cifar
run 2 mnist --model=alexnet

finish test_explain_cli
