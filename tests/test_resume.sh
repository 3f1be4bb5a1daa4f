#!/usr/bin/env bash
# Checkpoints and resume: a run killed (SIGKILL) in the middle of an epoch
# and resumed with `cnn-train resume DIR` ends with exactly the parameters,
# losses and accuracies of the same run uninterrupted; a truncated, corrupt,
# foreign or version-mismatched checkpoint, and one of another model, are
# refused with one line saying which.
# usage: test_resume.sh PATH/TO/cnn-train   (needs $CNN_DATA_DIR/mnist)
set -u
bin=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

if [ -z "${CNN_DATA_DIR:-}" ] || [ ! -d "$CNN_DATA_DIR/mnist" ]; then
    echo "note: CNN_DATA_DIR/mnist is missing; nothing to train on"
    exit 77
fi
train=("$bin" mnist --data-dir "$CNN_DATA_DIR/mnist" --epochs 3 --idle-seconds 0 --checkpoint-every 50)

# ckpt FILE: "step epoch cursor_start" of a checkpoint (layout: models/checkpoint.h)
ckpt() {
    python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
ps, off = struct.unpack_from("<I", d, 12)[0], struct.unpack_from("<Q", d, 32)[0]
step, epoch, start = struct.unpack_from("<qiI", d, 40 + off - ps)
print(step, epoch, start)
PY
}

"${train[@]}" --out "$tmp/a" >"$tmp/a.out" 2>&1 || fail "the uninterrupted run failed: $(tail -3 "$tmp/a.out")"

# killed once a checkpoint in the middle of an epoch exists
"${train[@]}" --out "$tmp/b" >"$tmp/b.out" 2>&1 &
pid=$!
mid=
for _ in $(seq 1200); do
    if [ -f "$tmp/b/checkpoint.bin" ]; then
        read -r step epoch start < <(ckpt "$tmp/b/checkpoint.bin" 2>/dev/null) || true
        [ -n "${start:-}" ] && [ "$start" != 0 ] && { mid=$step; break; }
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -n "$mid" ] || fail "no mid-epoch checkpoint appeared before the run ended"
cp "$tmp/b/checkpoint.bin" "$tmp/killed.bin"
"$bin" resume "$tmp/b" >"$tmp/b2.out" 2>&1 || fail "resume failed: $(tail -3 "$tmp/b2.out")"
python3 - "$tmp/a" "$tmp/b" "$tmp/a.out" "$tmp/b2.out" <<'PY' || fail "the resumed run differs from the uninterrupted one"
import csv, struct, sys
a, b, aout, bout = sys.argv[1:]
def arena(d):
    x = open(f"{d}/checkpoint.bin", "rb").read()
    return x[40 + struct.unpack_from("<Q", x, 32)[0]:]
assert arena(a) == arena(b), "final parameters or momentum differ"
cols = ("epoch", "train_loss", "test_loss", "test_acc")
ra = {r["epoch"]: [r[c] for c in cols] for r in csv.DictReader(open(f"{a}/epochs.csv"))}
rb = [[r[c] for c in cols] for r in csv.DictReader(open(f"{b}/epochs.csv")) if r["train_loss"]]
assert rb, "the resumed record has no evaluated epoch"
for r in rb:
    assert ra[r[0]] == r, (ra[r[0]], r)
la = [l.split()[2:] for l in open(aout) if l.startswith("epoch ")]
lb = [l.split()[2:] for l in open(bout) if l.startswith("epoch ")]
strip = lambda l: l[:l.index("elapsed")]
assert [strip(l) for l in la[-len(lb):]] == [strip(l) for l in lb], (la, lb)
PY

# refusals: exit 1, one line saying which
refuse() { # NAME PATTERN [extra resume args]: DIR $tmp/NAME holds the damaged checkpoint
    local name=$1 pattern=$2
    shift 2
    "$bin" resume "$tmp/$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    local got=$?
    [ "$got" = 1 ] && [ "$(grep -c '^cnn-train: ' "$tmp/$name.err")" = 1 ] && grep -qE -- "$pattern" "$tmp/$name.err" ||
        fail "resume of a $name checkpoint: exit $got, expected 1 and one line matching '$pattern': $(cat "$tmp/$name.err")"
    grep -q '^epoch ' "$tmp/$name.out" && fail "resume of a $name checkpoint trained"
}
damaged() { mkdir -p "$tmp/$1" && cp "$tmp/killed.bin" "$tmp/$1/checkpoint.bin"; }
damaged truncated && truncate -s -1000 "$tmp/truncated/checkpoint.bin"
refuse truncated 'truncated'
damaged corrupt && printf '\x55' | dd of="$tmp/corrupt/checkpoint.bin" bs=1 seek=5000 conv=notrunc 2>/dev/null
refuse corrupt 'corrupt.*checksum'
mkdir -p "$tmp/foreign" && head -c 4096 /dev/zero >"$tmp/foreign/checkpoint.bin"
refuse foreign 'not a cnn-train checkpoint'
damaged version && printf '\x09' | dd of="$tmp/version/checkpoint.bin" bs=1 seek=8 conv=notrunc 2>/dev/null
refuse version 'version 9.*reads version 1'
damaged model
refuse model 'checkpoint is of model mlp 784-512-10, not mlp 784-256-10' --hidden 256
mkdir -p "$tmp/none"
refuse none 'has no checkpoint'

if [ "$fails" -gt 0 ]; then
    echo "test_resume: $fails failure(s)"
    exit 1
fi
echo "test_resume: all checks passed"
