#!/usr/bin/env bash
# A training run interrupted by SIGINT or SIGTERM stops at the next step
# boundary, keeps what it measured (run.json says "interrupted": true,
# epochs.csv holds the epochs it printed), prints its summary and exits
# 128 + the signal (130, 143). A diverging run stops at the first
# evaluation after the step whose loss was not finite, and names that step.
# usage: test_interrupt.sh PATH/TO/cnn-train   (needs $CNN_DATA_DIR/mnist)
. "$(dirname "$0")/cli_test_lib.sh" "$@"

need_mnist
data=(--data-dir "$CNN_DATA_DIR/mnist")

# interrupt SIGNAL CODE: a run sent SIGNAL once its first epoch line is out
interrupt() {
    local sig=$1 want=$2 out="$tmp/run-$1"
    "$bin" mnist "${data[@]}" --epochs 50 --idle-seconds 0 --out "$out" >"$tmp/$sig.out" 2>"$tmp/$sig.err" &
    local pid=$!
    for _ in $(seq 600); do
        grep -q '^epoch ' "$tmp/$sig.out" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -s "$sig" "$pid"
    wait "$pid"
    local got=$?
    [ "$got" = "$want" ] || fail "SIG$sig: exit $got, expected $want; stderr: $(cat "$tmp/$sig.err")"
    grep -q "^interrupted by SIG$sig at epoch" "$tmp/$sig.out" || fail "SIG$sig: no 'interrupted' summary: $(tail -5 "$tmp/$sig.out")"
    grep -q '^final test accuracy' "$tmp/$sig.out" || fail "SIG$sig: no summary"
    [ -f "$out/run.json" ] || { fail "SIG$sig: no run.json in $out"; return; }
    python3 - "$out" "$tmp/$sig.out" <<'PY' || fail "SIG$sig: the record does not keep what was measured"
import csv, json, sys
d, out = sys.argv[1], sys.argv[2]
run = json.load(open(f"{d}/run.json"))
assert run["training"]["interrupted"] is True, run["training"]
printed = [l.split() for l in open(out) if l.startswith("epoch ")]
rows = [r for r in csv.DictReader(open(f"{d}/epochs.csv")) if r["train_loss"]]
assert len(rows) == len(printed) >= 1, (len(rows), len(printed))
for r, p in zip(rows, printed):  # epoch N ... test acc A: the same epochs, the same accuracies
    assert int(r["epoch"]) == int(p[1]) and abs(float(r["test_acc"]) - float(p[p.index("acc") + 1])) < 1e-4, (r, p)
PY
}
interrupt INT 130
interrupt TERM 143

# divergence: caught at the first evaluation, naming the step where the loss stopped being finite
"$bin" mnist "${data[@]}" --lr 100 --epochs 3 --idle-seconds 0 --out "$tmp/div" >"$tmp/div.out" 2>"$tmp/div.err"
got=$?
[ "$got" = 1 ] || fail "--lr 100: exit $got, expected 1"
grep -qE '^cnn-train: training diverged: the training loss became non-finite at step [0-9]+ \(epoch 1\): lower --lr' "$tmp/div.err" ||
    fail "--lr 100: no divergence message naming the step: $(cat "$tmp/div.err")"
grep -q '^epoch ' "$tmp/div.out" && fail "--lr 100: an epoch line was printed for a diverged run: $(grep '^epoch ' "$tmp/div.out")"
step=$(sed -nE 's/.*non-finite at step ([0-9]+).*/\1/p' "$tmp/div.err")
spe=$(sed -nE 's/.* ([0-9]+) steps\/epoch.*/\1/p' "$tmp/div.out")
[ -n "$step" ] && [ -n "$spe" ] && [ "$step" -lt "$spe" ] || fail "--lr 100: step '$step' is not inside the first epoch of '$spe' steps"

finish test_interrupt
