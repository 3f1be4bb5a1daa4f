#!/usr/bin/env bash
# cnn-train explain and --model on the command line: both models' tables,
# valid JSON whose totals match the known counts, a measurement whose op
# calls match the listed ops one to one, and usage errors (exit 2, one line).
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

run 0 explain
for s in 'Z1 = X·W1ᵀ' '(B×784)·(784×512)' 'dW1 = dZ1ᵀ·X' 'dA1 = dZ2·W2' 'compute' 'per example' 'gemm-bench'; do has "$s" explain; done
run 0 explain --model=lenet --batch=32
for s in 'col1 = im2col(X)' 'Z1 = col1·W1ᵀ' '(B·784×25)·(25×6)' 'dW2 = dZ2ᵀ·col2' 'dcol2 = dZ2·W2' 'dP1 = col2im(dcol2)' \
    'P1 = maxpool2x2/2(A1)' 'batch B = 32' 'in GEMMs'; do has "$s" "explain --model=lenet"; done
run 0 explain --help
has 'usage: cnn-train explain' 'explain --help'

if command -v python3 >/dev/null; then
    run 0 explain --json
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

run 2 explain --model=resnet
run 2 explain --model=lenet --hidden=100
run 2 explain --batch=0
run 2 explain --peak-gflops=-1
run 2 explain --measure=0
run 2 explain cifar
run 2 mnist --model=alexnet

finish test_explain_cli
