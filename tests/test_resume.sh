#!/usr/bin/env bash
# Checkpoints and resume: a run killed (SIGKILL) in the middle of an epoch
# and resumed with `cnn-train resume DIR` ends with exactly the parameters,
# losses and accuracies of the same run uninterrupted; a truncated, corrupt,
# foreign or version-mismatched checkpoint (the old format version 1 among
# them), and one of another model or dataset, are refused with one line
# saying which. The resumed record has two segments (the killed one and the
# resumed one) with the unmeasured gap between them, and its functional unit
# adds their energies and training seconds.
# usage: test_resume.sh PATH/TO/cnn-train   (needs $CNN_DATA_DIR/mnist)
. "$(dirname "$0")/cli_test_lib.sh" "$@"

need_mnist
train=("$bin" mnist --data-dir "$CNN_DATA_DIR/mnist" --epochs 3 --idle-seconds 0 --checkpoint-every 50)

# ckpt FILE: "step epoch cursor_start" of a checkpoint (layout: models/checkpoint.h)
ckpt() {
    python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
at = 40 + 32 + 128 + 4 + 4 + 8  # identity: dataset, model, example counts, arena floats
argc = struct.unpack_from("<I", d, at)[0]
at += 4
for _ in range(argc):
    at += 4 + struct.unpack_from("<I", d, at)[0]
step, epoch, start = struct.unpack_from("<qiI", d, at)  # the progress record
print(step, epoch, start)
PY
}

# kill_and_resume TAG ARGS...: the run uninterrupted in $tmp/TAG-a, and killed (SIGKILL) at a mid-epoch
# checkpoint then resumed in $tmp/TAG-b, with the same ARGS: the same final bits and the same records.
kill_and_resume() {
    local tag=$1
    shift
    local a="$tmp/$tag-a" b="$tmp/$tag-b"
"${train[@]}" "$@" --out "$a" >"$a.out" 2>&1 || fail "$tag: the uninterrupted run failed: $(tail -3 "$a.out")"

# killed once a checkpoint in the middle of an epoch exists
"${train[@]}" "$@" --out "$b" >"$b.out" 2>&1 &
pid=$!
mid=
for _ in $(seq 6000); do
    if [ -f "$b/checkpoint.bin" ]; then
        # frozen while its checkpoint is read, so that a fast run cannot finish meanwhile (the file is
        # replaced by a rename: it is whole either way)
        kill -STOP "$pid" 2>/dev/null
        read -r step epoch start < <(ckpt "$b/checkpoint.bin" 2>/dev/null) || true
        [ -n "${start:-}" ] && [ "$start" != 0 ] && { mid=$step; break; }
        kill -CONT "$pid" 2>/dev/null
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -n "$mid" ] || fail "$tag: no mid-epoch checkpoint appeared before the run ended"
cp "$b/checkpoint.bin" "$tmp/killed.bin"
"$bin" resume "$b" >"$b.resumed" 2>&1 || fail "$tag: resume failed: $(tail -3 "$b.resumed")"
python3 - "$a" "$b" "$a.out" "$b.resumed" <<'PY' || fail "$tag: the resumed run differs from the uninterrupted one"
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
}

kill_and_resume cpu
if "$bin" mnist --backend cuda --epochs 1 --no-energy --data-dir "$CNN_DATA_DIR/mnist" >/dev/null 2>&1; then
    kill_and_resume cuda --backend cuda # bit-exact on the GPU too (the fused step: launches end at checkpoints)
else
    echo "note: no usable CUDA backend: the kill-and-resume check ran on the CPU only"
fi

# segments: the killed one (from the checkpoint) and the resumed one; the functional unit adds them
grep -q '^resumed run: 2 segments' "$tmp/cpu-b.resumed" || fail "the summary does not say the run was resumed in 2 segments"
python3 - "$tmp/cpu-b/run.json" <<'PY' || fail "run.json's segments or functional unit are wrong"
import json, math, sys
d = json.load(open(sys.argv[1]))
g, fu = d["segments"], d["functional_unit"]
assert g["count"] == 2 and g["resumed"] and len(g["list"]) == 2, g
s1, s2 = g["list"]
assert s1["ended"] == "killed" and s1["signal"] is None, s1
assert s2["ended"] == "finished", s2
assert s1["unmeasured_gap_s"] > 0 and s2["unmeasured_gap_s"] is None, (s1, s2)
# wall-clock instants (~1.8e9 s) as run.json prints them: cJSON keeps 15 digits where they round-trip within its
# epsilon (about 4e-7 s here), so a difference of two is good to ~1e-6 s, not to a relative 1e-9
assert math.isclose(g["unmeasured_gap_total_s"], s2["start_unix_s"] - s1["end_unix_s"], rel_tol=1e-9, abs_tol=1e-5)
assert s1["start_unix_s"] < s1["end_unix_s"] < s2["start_unix_s"] < s2["end_unix_s"]
for s in (s1, s2):
    assert s["energy_total_j"] > 0 and 0 <= s["energy_total_uncertainty_j"] < math.inf, s
    assert s["provenance"] in ("measured-counter", "measured-power", "estimated"), s
    assert math.isclose(sum(s["energy_per_meter_j"].values()), s["energy_total_j"], rel_tol=1e-9), s
# the current segment is this record's training window
assert math.isclose(s2["energy_total_j"], d["energy"]["total_j"], rel_tol=1e-12), (s2, d["energy"])
assert math.isclose(s2["training_s"], d["training"]["duration_s"], rel_tol=1e-12)
# no target: the functional unit is the whole run, both segments (bounds add)
assert fu["segments"] == 2 and not fu["reached"], fu
assert math.isclose(fu["total_j"], s1["energy_total_j"] + s2["energy_total_j"], rel_tol=1e-9), fu
assert math.isclose(fu["total_uncertainty_j"], s1["energy_total_uncertainty_j"] + s2["energy_total_uncertainty_j"],
                    rel_tol=1e-9), fu
assert math.isclose(fu["time_s"], s1["training_s"] + s2["training_s"], rel_tol=1e-9), fu
weak = ["measured-counter", "measured-power", "estimated"]
assert fu["provenance"] == weak[max(weak.index(s1["provenance"]), weak.index(s2["provenance"]))], fu
# the killed segment's figures are the checkpoint's: its training seconds match the resumed time offset
assert 0 < s1["training_s"] < fu["time_s"]
PY

# a run that reaches its target after a resume: energy to target = segment 1 + this segment's part to the target
"${train[@]}" --target-acc 0.9 --epochs 2 --out "$tmp/t" >"$tmp/t.out" 2>&1 &
pid=$!
for _ in $(seq 1200); do
    [ -f "$tmp/t/checkpoint.bin" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ -f "$tmp/t/run.json" ]; then
    echo "note: the target run finished before it could be killed; its resume check is skipped"
else
    "$bin" resume "$tmp/t" >"$tmp/t2.out" 2>&1
    python3 - "$tmp/t/run.json" <<'PY' || fail "energy to target after a resume is not segment 1 + this segment's part"
import json, math, sys
d = json.load(open(sys.argv[1]))
s1, s2 = d["segments"]["list"]
fu, a = d["functional_unit"], d["accuracy_steps"][-1]
assert fu["reached"] and a["reached"] and a["threshold"] == 0.9, (fu, a)
part = a["cumulative_total_j"] # this segment's energy from its start to the evaluation that reached the target
assert part <= s2["energy_total_j"] + 1e-9
assert math.isclose(fu["total_j"], s1["energy_total_j"] + part, rel_tol=1e-9), (fu, s1, part)
assert math.isclose(fu["total_uncertainty_j"], s1["energy_total_uncertainty_j"] + a["cumulative_total_uncertainty_j"],
                    rel_tol=1e-9)
assert math.isclose(fu["time_s"], s1["training_s"] + a["elapsed_s"], rel_tol=1e-9), (fu, s1, a)
assert math.isclose(d["training"]["time_to_target_s"], fu["time_s"], rel_tol=1e-12)
PY
fi

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
refuse version 'version 9.*reads version 3'
damaged old && printf '\x01' | dd of="$tmp/old/checkpoint.bin" bs=1 seek=8 conv=notrunc 2>/dev/null
refuse old 'version 1 .*reads version 3.*resume it with the cnn-train that wrote it'
damaged model
refuse model 'checkpoint is of model mlp 784-512-10, not mlp 784-256-10' --hidden 256
# another dataset: the identity block names fashion-mnist (checksum recomputed, so only the identity differs)
damaged dataset && python3 - "$tmp/dataset/checkpoint.bin" <<'PY'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[40:72] = b"fashion-mnist".ljust(32, b"\0")
h = 14695981039346656037
for b in d[40:]:
    h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
struct.pack_into("<Q", d, 24, h)
open(p, "wb").write(d)
PY
refuse dataset 'checkpoint is of dataset fashion-mnist .*not of mnist.*resume it with the data it was trained on'
mkdir -p "$tmp/none"
refuse none 'has no checkpoint'

finish test_resume
