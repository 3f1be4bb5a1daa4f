#!/usr/bin/env bash
# Side by side: cnn-train and the PyTorch peer (torch_mlp.py) train the same
# MLP with the same settings on the same data, alternately (ours, torch,
# ours, torch, ...), and this prints each run's time to target and epoch
# times, and the median of the per-round ratios ours / torch (below 1: we are
# faster). Both keep the data on the device and evaluate on the whole test
# set after every epoch; see torch_mlp.py for what "the same" covers.
#
# usage: tools/peer_bench/compare.sh [options] [-- extra cnn-train options]
#   --rounds N        pairs of runs [3]
#   --device D        cuda or cpu: cnn-train --backend=D, torch --device D [cuda]
#   --target F        target test accuracy [0.96: the shared 10,000-digit subset plateaus near 0.964]
#   --data-dir DIR    the four MNIST IDX(.gz) files [$CNN_DATA_DIR/mnist, else ../shared/data/mnist]
#   --cnn-train PATH  the binary [build/cnn-train]
#   --python PY       a Python with torch [python3, else /usr/bin/python3]
#   --batch N --lr F --momentum F --weight-decay F --epochs N --seed N --hidden N   [64 0.05 0.9 5e-4 20 1 512]
#   --threads N       CPU threads for both (cpu device) [0: each tool's default]
#   --out DIR         keep every run's output there [a temporary folder]
# Exit status: 0 when every run reached the target, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=3 device=cuda target=0.96 batch=64 lr=0.05 momentum=0.9 wd=5e-4 epochs=20 seed=1 hidden=512 threads=0
data_dir=${CNN_DATA_DIR:+$CNN_DATA_DIR/mnist}
[ -n "$data_dir" ] || data_dir="$root/../shared/data/mnist"
cnn_train="$root/build/cnn-train"
python=""
out=""
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --cnn-train) cnn_train=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --momentum) momentum=$2; shift 2 ;;
    --weight-decay) wd=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --hidden) hidden=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$python" ]; then
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import torch' 2>/dev/null; then python=$p; break; fi
    done
fi
[ -n "$python" ] || { echo "compare.sh: no Python with torch found: pip install torch (or apt-get install python3-torch), or pass --python" >&2; exit 1; }
[ -x "$cnn_train" ] || { echo "compare.sh: $cnn_train is not built: cmake -B build && cmake --build build -j, or pass --cnn-train" >&2; exit 1; }
[ -d "$data_dir" ] || { echo "compare.sh: data folder $data_dir does not exist: pass --data-dir" >&2; exit 1; }
if [ -z "$out" ]; then out=$(mktemp -d); else mkdir -p "$out"; fi

common_ours=(--backend="$device" --batch="$batch" --lr="$lr" --momentum="$momentum" --weight-decay="$wd"
             --epochs="$epochs" --seed="$seed" --hidden="$hidden" --target-acc="$target" --data-dir="$data_dir")
common_torch=(--device "$device" --batch "$batch" --lr "$lr" --momentum "$momentum" --weight-decay "$wd"
              --epochs "$epochs" --seed "$seed" --hidden "$hidden" --target-acc "$target" --data-dir "$data_dir")
if [ "$threads" != 0 ]; then common_ours+=(--threads="$threads"); common_torch+=(--threads "$threads"); fi

status=0
for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds: cnn-train" >&2
    "$cnn_train" mnist "${common_ours[@]}" --out="$out/ours.$r.run" ${extra[@]+"${extra[@]}"} > "$out/ours.$r.txt" 2> "$out/ours.$r.err" || status=1
    echo "round $r/$rounds: pytorch" >&2
    "$python" "$here/torch_mlp.py" "${common_torch[@]}" > "$out/torch.$r.json" 2> "$out/torch.$r.err" || status=1
done

# Summary: parse cnn-train's evaluation lines and summary, and the JSON.
"$python" - "$out" "$rounds" <<'EOF'
import json, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def ours(r):
    text = open(f"{out}/ours.{r}.txt", errors="replace").read().replace("\r", "\n")
    elapsed = [float(m.group(1)) for m in re.finditer(r"^epoch\s+\d+\s+step.*elapsed\s+([0-9.]+) s", text, re.M)]
    accs = [float(m.group(1)) for m in re.finditer(r"test acc ([0-9.]+)", text)]
    m = re.search(r"reached at epoch (\d+).*?: ([0-9.]+) s to target", text)
    dev = re.search(r"backend \((.*?), gemm (\S+?)\)", text)
    return {"ttt": float(m.group(2)) if m else None, "epoch": int(m.group(1)) if m else None,
            "epochs": [b - a for a, b in zip([0.0] + elapsed, elapsed)], "acc": accs,
            "device": dev.group(1) if dev else "?", "gemm": dev.group(2) if dev else "?"}
def torch_(r):
    try:
        j = json.load(open(f"{out}/torch.{r}.json"))
    except Exception:
        return {"ttt": None, "epoch": None, "epochs": [], "acc": [], "device": "?", "version": "?"}
    return {"ttt": j["time_to_target_s"], "epoch": j["target_epoch"], "epochs": j["epoch_times_s"],
            "acc": j["test_acc"], "device": j["device_name"], "version": j["torch_version"]}
fmt = lambda xs: " ".join(f"{x:.3f}" for x in xs)
secs = lambda x: "not reached" if x is None else f"{x:.3f} s"
ratios, eratios = [], []
for r in range(1, rounds + 1):
    a, b = ours(r), torch_(r)
    print(f"round {r}: cnn-train ({a['device']}, gemm {a['gemm']}): time to target {secs(a['ttt'])} "
          f"at epoch {a['epoch']}, epoch times [{fmt(a['epochs'])}] s")
    print(f"         pytorch {b.get('version', '?')} ({b['device']}): time to target {secs(b['ttt'])} "
          f"at epoch {b['epoch']}, epoch times [{fmt(b['epochs'])}] s")
    if a["ttt"] and b["ttt"]:
        ratios.append(a["ttt"] / b["ttt"])
    if a["epochs"] and b["epochs"]:
        eratios.append(statistics.median(a["epochs"]) / statistics.median(b["epochs"]))
if ratios:
    print(f"time to target, cnn-train / pytorch: median {statistics.median(ratios):.3f} over {len(ratios)} rounds "
          f"({fmt(ratios)})")
else:
    print("time to target: not every run reached the target; see the outputs in " + out)
if eratios:
    print(f"median epoch time, cnn-train / pytorch: median {statistics.median(eratios):.3f} ({fmt(eratios)})")
print(f"outputs: {out}")
EOF
exit $status
