#!/usr/bin/env bash
# Fail fast, nothing half-written (issue 18): every cheap precondition (a GPU
# for --backend=cuda, the data, the options against the data and the backend,
# an --out that can take the record) is refused before any meter opens or any
# idle baseline is measured: the error is then the only line printed, and
# nothing is created (no runs/, no --out directory, no parents of it). A run
# that diverges keeps a complete record, as an interrupted one does: run.json
# says diverged at step N (the step the error names), `report` accepts the
# record, no lock file is left, and a user's own files in --out are untouched.
# usage: test_fail_fast.sh PATH/TO/cnn-train   (needs $CNN_DATA_DIR/mnist)
. "$(dirname "$0")/cli_test_lib.sh" "$@"

need_mnist
data=(--data-dir "$CNN_DATA_DIR/mnist")

# refused NAME CODE PATTERN ARGS...: run in a fresh working directory; exit CODE, the one error line (matching
# PATTERN) is all that is printed on stdout and stderr, and the working directory is still empty afterwards
refused() {
    local name=$1 code=$2 pattern=$3
    shift 3
    mkdir -p "$tmp/$name"
    (cd "$tmp/$name" && "$bin" "$@" >../"$name.out" 2>../"$name.err")
    local got=$?
    [ "$got" = "$code" ] || fail "$name: exit $got, expected $code: $(cat "$tmp/$name.err")"
    local printed
    printed=$(cat "$tmp/$name.out" "$tmp/$name.err")
    [ "$(printf '%s\n' "$printed" | grep -c .)" = 1 ] && printf '%s\n' "$printed" | grep -qE "^cnn-train: .*$pattern" ||
        fail "$name: expected the error line alone (matching '$pattern'), got: $printed"
    [ -z "$(ls -A "$tmp/$name")" ] || fail "$name: the refused run created: $(cd "$tmp/$name" && find . | tr '\n' ' ')"
}

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi >/dev/null 2>&1; then
    refused cuda 1 'GPU.*--backend=cpu' mnist "${data[@]}" --backend=cuda
    refused cuda_out 1 'GPU' mnist "${data[@]}" --backend=cuda --out deep/er/run
fi
refused no_data 1 'nowhere: no such directory' mnist --data-dir "$tmp/nowhere" --out run
mkdir -p "$tmp/bad"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    printf 'not an IDX file' >"$tmp/bad/$f"
done
refused bad_data 1 'train-images' mnist --data-dir "$tmp/bad"
refused big_batch 2 '--batch 20000 is larger' mnist "${data[@]}" --batch 20000
refused step_graph 2 '--step=graph' mnist "${data[@]}" --step=graph --out run
refused step_fused 2 '--step=fused' mnist "${data[@]}" --step=fused
refused gemm 2 "unknown GEMM 'cublas'" mnist "${data[@]}" --gemm=cublas
refused precision 2 'computes in fp32, not in the bf16' mnist "${data[@]}" --precision bf16 --gemm naive
if [ ! -e /sys/class/powercap/intel-rapl:0 ]; then
    refused meters 1 '--meters rapl' mnist "${data[@]}" --meters rapl --out a/b/c # the meter opens after the claim
fi

# a run diverging after a checkpoint, in a directory of the user's: a complete record, the user's file untouched
mkdir -p "$tmp/mine"
echo "my notes" >"$tmp/mine/notes.txt"
sum=$(md5sum <"$tmp/mine/notes.txt")
"$bin" mnist "${data[@]}" --lr 100 --epochs 3 --checkpoint-every 10 --idle-seconds 0 --out "$tmp/mine" \
    >"$tmp/div.out" 2>"$tmp/div.err"
got=$?
[ "$got" = 1 ] || fail "diverging run: exit $got, expected 1"
[ "$(grep -c '^cnn-train: ' "$tmp/div.err")" = 1 ] || fail "diverging run: not one error line: $(cat "$tmp/div.err")"
step=$(sed -nE 's/^cnn-train: training diverged: .* at step ([0-9]+) .*/\1/p' "$tmp/div.err")
[ -n "$step" ] || fail "diverging run: the error names no step: $(cat "$tmp/div.err")"
grep -q "^diverged at step $step " "$tmp/div.out" || fail "diverging run: the summary does not say where: $(cat "$tmp/div.out")"
[ "$(md5sum <"$tmp/mine/notes.txt")" = "$sum" ] || fail "diverging run: the user's notes.txt changed"
[ -e "$tmp/mine/.cnn-train.lock" ] && fail "diverging run: the lock file was left behind"
for f in run.json epochs.csv power.csv emissions.csv checkpoint.bin; do
    [ -s "$tmp/mine/$f" ] || fail "diverging run: $f is missing from the record"
done
python3 - "$tmp/mine/run.json" "$step" <<'PY' || fail "diverging run: run.json does not say where it diverged"
import json, sys
t = json.load(open(sys.argv[1]))["training"]
assert t["diverged"] is True and t["diverged_step"] == int(sys.argv[2]), t
assert t["finished"] is True and t["interrupted"] is False and t["final_acc"] is None, t
assert t["steps"] >= t["diverged_step"], t
PY
"$bin" report "$tmp/mine" >/dev/null 2>"$tmp/rep.err" || fail "report refused the diverged run's record: $(cat "$tmp/rep.err")"
# a successful run leaves no lock file either
"$bin" mnist "${data[@]}" --epochs 1 --idle-seconds 0 --quiet --out "$tmp/ok" >/dev/null 2>&1 || fail "a plain run failed"
[ -e "$tmp/ok/.cnn-train.lock" ] && fail "a finished run left its lock file"
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["distributed"] is None' "$tmp/ok/run.json" ||
    fail "a single-process run's record has a distributed section"

finish test_fail_fast
