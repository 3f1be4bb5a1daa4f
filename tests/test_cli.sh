#!/usr/bin/env bash
# cnn-train's command line: bad flags and values exit 2 with one line on
# stderr, missing data and a missing GPU exit 1 with one clear line, a
# reached target exits 0, a missed one exits 3, and no progress bar is drawn
# when stdout is not a terminal.
# usage: test_cli.sh PATH/TO/cnn-train   (uses $CNN_DATA_DIR/mnist when set)
set -u
bin=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect CODE PATTERN ARGS...: exit status CODE and, for CODE 1 and 2, exactly one error line on stderr
# ("cnn-train: ...", matching PATTERN); informational lines ("energy: ...") may precede it
expect() {
    local want=$1 pattern=$2
    shift 2
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    local lines
    lines=$(grep -c '^cnn-train: ' "$tmp/err")
    if [ "$got" != "$want" ]; then
        echo "FAIL: cnn-train $* exited $got, expected $want; stderr: $(cat "$tmp/err")"
        fails=$((fails + 1))
    elif [ "$want" = 1 ] || [ "$want" = 2 ]; then
        if [ "$lines" != 1 ] || grep -v -e '^cnn-train: ' -e '^energy: ' "$tmp/err" | grep -q . ||
            ! grep '^cnn-train: ' "$tmp/err" | grep -qiE -- "$pattern"; then
            echo "FAIL: cnn-train $*: expected one error line matching '$pattern', got: $(cat "$tmp/err")"
            fails=$((fails + 1))
        fi
    fi
    if grep -qiE 'segmentation|core dumped|assert' "$tmp/err"; then
        echo "FAIL: cnn-train $* crashed: $(cat "$tmp/err")"
        fails=$((fails + 1))
    fi
}

# usage errors: exit 2, before any data is read
expect 2 -- '--lr' mnist --lr -1
expect 2 -- '--lr' mnist --lr=abc
expect 2 -- '--batch' mnist --batch 0
expect 2 -- '--target-acc' mnist --target-acc 1.5
expect 2 -- '--target-acc' mnist --target-acc 0
expect 2 -- '--momentum' mnist --momentum 1
expect 2 -- '--epochs' mnist --epochs 0
expect 2 -- '--hidden' mnist --hidden 512,0
expect 2 -- "unknown dataset 'cifar'" cifar
expect 2 -- "unknown backend 'tpu'" mnist --backend=tpu
expect 2 -- "unknown option '--frobnicate'" mnist --frobnicate 3
expect 2 -- '--lr needs a value' mnist --lr
expect 2 -- 'no dataset' --epochs 3
# an unknown flag is reported as unknown wherever it stands, never as a missing value or a dataset
expect 2 -- "unknown option '--no-cuda'" fashion-mnist --no-cuda
expect 2 -- "unknown option '--no-cuda'" --no-cuda fashion-mnist
expect 2 -- "unknown option '--no-cuda'" fashion-mnist --no-cuda --epochs 1
expect 2 -- "unknown option '--frob'" mnist --frob=1
expect 2 -- "--version takes no other argument, got 'extra'" --version extra
expect 2 -- "--lr needs a value, got the option '--epochs'" mnist --lr --epochs 3
# PyTorch's spellings: --batch-size for --batch, --device cpu|cuda|cuda:N for --backend, --gpu N
expect 2 -- '--batch' mnist --batch-size 0
expect 2 -- "unknown backend 'tpu'" mnist --device=tpu
expect 2 -- "unknown backend 'cuda:x'" mnist --device cuda:x
expect 2 -- '--gpu takes a GPU number' mnist --gpu x
expect 2 -- '--gpu 0 .*backend is cpu' mnist --device cpu --gpu 0
expect 2 -- 'two different GPUs' mnist --device cuda:0 --gpu 1
expect 2 -- '--test-batch-size' mnist --test-batch-size 100
expect 0 '' --help
grep -q 'usage: cnn-train DATASET' "$tmp/out" || { echo "FAIL: --help prints no usage"; fails=$((fails + 1)); }
# --help says what is trained and lists the GEMM names of every backend built in
grep -q 'MLP' "$tmp/out" && grep -q 'LeNet' "$tmp/out" || { echo "FAIL: --help does not name the MLP and LeNet"; fails=$((fails + 1)); }
grep -qE '^ +cpu: naive, .*packed, openblas' "$tmp/out" || { echo "FAIL: --help lists no CPU GEMM names"; fails=$((fails + 1)); }
if "$bin" --version | grep -q 'CUDA backend built in'; then
    grep -A2 -E '^ +cuda: naive' "$tmp/out" | grep -q 'cublas' || { echo "FAIL: --help lists no CUDA GEMM names"; fails=$((fails + 1)); }
else
    grep -qE '^ +cuda: not built' "$tmp/out" || { echo "FAIL: --help does not say CUDA is not built in"; fails=$((fails + 1)); }
fi
expect 0 '' --epochs 3 -h
grep -q 'usage: cnn-train DATASET' "$tmp/out" || { echo "FAIL: -h after options prints no usage"; fails=$((fails + 1)); }
expect 0 '' --version
grep -qE '^cnn-train [0-9]+\.[0-9]+' "$tmp/out" || { echo "FAIL: --version prints no version"; fails=$((fails + 1)); }

# missing data: exit 1, one line naming the directory
expect 1 'no-such-dir' mnist --data-dir "$tmp/no-such-dir"

# LeNet on images too small for it (8x8, generated): a usage error (2), one line saying to use the MLP
if command -v python3 >/dev/null 2>&1; then
    python3 - "$tmp/tiny8" <<'PY'
import os, struct, sys
d = sys.argv[1]
os.makedirs(d)
for split, n in (("train", 6), ("t10k", 3)):
    with open(f"{d}/{split}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, 8, 8) + bytes(i % 256 for i in range(n * 64)))
    with open(f"{d}/{split}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + bytes(i % 10 for i in range(n)))
PY
    expect 2 'lenet.*at least 12x12.*8x8.*--model=mlp' mnist --data-dir "$tmp/tiny8" --model=lenet --no-energy --quiet
    expect 0 '' mnist --data-dir "$tmp/tiny8" --model=mlp --epochs 1 --batch 2 --no-energy --quiet
fi

if [ -n "${CNN_DATA_DIR:-}" ] && [ -d "$CNN_DATA_DIR/mnist" ]; then
    data=(--data-dir "$CNN_DATA_DIR/mnist")
    # a GEMM the backend does not have: usage error listing the choices
    expect 2 'naive' mnist "${data[@]}" --gemm=nope
    # a missing GPU (or a build without CUDA): one clear line, exit 1, no crash
    if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi >/dev/null 2>&1; then
        expect 1 'cuda|gpu' mnist "${data[@]}" --backend=cuda --idle-seconds 0 --out "$tmp/run-cuda"
        [ -e "$tmp/run-cuda" ] && { echo "FAIL: a failed cuda run left $tmp/run-cuda behind"; fails=$((fails + 1)); }
    fi
    # target reached: exit 0, a summary, one progress line per epoch, no bar (stdout is a file)
    expect 0 '' mnist "${data[@]}" --target-acc 0.5 --epochs 2 --idle-seconds 0 --out "$tmp/run0"
    grep -q 'target 0.5 reached at epoch 1' "$tmp/out" || { echo "FAIL: no 'reached' summary: $(cat "$tmp/out")"; fails=$((fails + 1)); }
    [ "$(grep -c '^epoch ' "$tmp/out")" = 1 ] || { echo "FAIL: expected one progress line"; fails=$((fails + 1)); }
    grep -q $'\r' "$tmp/out" && { echo "FAIL: a progress bar was drawn into a file"; fails=$((fails + 1)); }
    # target missed: exit 3
    expect 3 '' mnist "${data[@]}" --target-acc 0.999 --epochs 1 --idle-seconds 0 --out "$tmp/run3"
    grep -q 'NOT reached within 1 epoch (' "$tmp/out" || { echo "FAIL: no 'not reached within 1 epoch' summary"; fails=$((fails + 1)); }
    grep -q 'within 1 epoch$' "$tmp/out" || { echo "FAIL: the header does not read 'within 1 epoch'"; fails=$((fails + 1)); }
    # the default backend, and why, on the header
    grep -qE '^ +backend (cpu|cuda): default: ' "$tmp/out" || { echo "FAIL: the header does not say which backend was chosen and why: $(head -3 "$tmp/out")"; fails=$((fails + 1)); }
    # report DIR/ prints DIR/power.svg, not DIR//power.svg
    expect 0 '' report "$tmp/run3/"
    grep -q "$tmp/run3/power.svg" "$tmp/out" && ! grep -q '//' "$tmp/out" || { echo "FAIL: report DIR/ printed: $(cat "$tmp/out")"; fails=$((fails + 1)); }
    # aliases that train: --batch-size and --device cpu, chosen on the command line
    expect 0 '' mnist "${data[@]}" --batch-size 32 --device cpu --epochs 1 --idle-seconds 0 --no-energy
    grep -q 'batch 32,' "$tmp/out" || { echo "FAIL: --batch-size 32 was not applied: $(head -3 "$tmp/out")"; fails=$((fails + 1)); }
    grep -qE '^ +backend cpu: chosen with --device' "$tmp/out" || { echo "FAIL: the header does not say --device chose cpu"; fails=$((fails + 1)); }
    # the progress bar on a terminal: running loss, steps per second and the time left
    if command -v script >/dev/null 2>&1; then
        script -qec "$(printf '%q ' "$bin" mnist "${data[@]}" --epochs 2 --eval-every 40 --idle-seconds 0 --no-energy)" /dev/null >"$tmp/tty" 2>&1
        bar=$(tr '\r' '\n' <"$tmp/tty" | grep '^.\[Kepoch 2 \[' | tail -1)
        echo "$bar" | grep -qE 'loss [0-9.]+ .* [0-9]+ steps/s +left [0-9]+:[0-9]{2}' ||
            { echo "FAIL: the progress bar lacks loss, steps/s or time left: '$bar'"; fails=$((fails + 1)); }
    else
        echo "note: script(1) is missing; the progress bar on a terminal was not checked"
    fi
    # a diverging run: exit 1 (not a usage error), one line, and its record complete (test_fail_fast.sh has more)
    expect 1 'diverged.*--lr' mnist "${data[@]}" --lr 100 --epochs 1 --quiet --idle-seconds 0 --out "$tmp/rundiv"
    [ -s "$tmp/rundiv/run.json" ] || { echo "FAIL: a diverged run left no run.json in $tmp/rundiv"; fails=$((fails + 1)); }
    # --quiet: the summary only (no header, notes, progress lines or energy tables), still the energy in one line
    expect 0 '' mnist "${data[@]}" --epochs 1 --quiet --idle-seconds 0 --out "$tmp/runq"
    grep -q '^epoch ' "$tmp/out" && { echo "FAIL: --quiet printed progress lines"; fails=$((fails + 1)); }
    grep -q 'final test accuracy' "$tmp/out" || { echo "FAIL: --quiet lost the summary"; fails=$((fails + 1)); }
    grep -qE '^energy of the run .*(±|[.][.]|<=).* J' "$tmp/out" || { echo "FAIL: --quiet lost the energy line or its uncertainty: $(cat "$tmp/out")"; fails=$((fails + 1)); }
    [ "$(grep -c . "$tmp/out")" -le 4 ] || { echo "FAIL: --quiet printed $(grep -c . "$tmp/out") lines: $(cat "$tmp/out")"; fails=$((fails + 1)); }
    [ -s "$tmp/err" ] && { echo "FAIL: --quiet wrote to stderr: $(cat "$tmp/err")"; fails=$((fails + 1)); }
elif [ -n "${CNN_DATA_DIR:-}" ]; then
    echo "FAIL: CNN_DATA_DIR=$CNN_DATA_DIR has no mnist/ folder (give an absolute path)"
    fails=$((fails + 1))
else
    echo "note: CNN_DATA_DIR is unset; the training cases were not run"
fi

if [ "$fails" -gt 0 ]; then
    echo "test_cli: $fails failure(s)"
    exit 1
fi
echo "test_cli: all checks passed"
