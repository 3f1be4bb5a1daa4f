#!/usr/bin/env bash
# Data-parallel training on this machine's CPUs (docs/distributed.md): the
# same run as 1 process with T threads and as N ranks of T/N threads each
# (mpirun), alternating (A B A B ...), with the median time per step (the time
# in training steps over the steps, evaluation excluded), the median time to
# the target and their ratios to 1 process.
#
# usage: tools/bench_dist.sh [--build DIR] [--rounds R] [--ranks N] [--threads T] [-- cnn-train options]
#   default: 3 rounds, 2 ranks, T = the CPUs; mnist to 0.95 in at most 10 epochs, --quiet, --idle-seconds 1
set -euo pipefail
build=build rounds=3 ranks=2 threads=$(nproc)
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench_dist.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
bin=$build/cnn-train
[ -x "$bin" ] || { echo "bench_dist.sh: $bin not found: build first" >&2; exit 1; }
per=$(( threads / ranks > 0 ? threads / ranks : 1 ))
args=(mnist --target-acc 0.95 --epochs 10 --quiet --idle-seconds 1 "$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --oversubscribe -np "$ranks")
[ "$(id -u)" = 0 ] && mpi=(mpirun --allow-run-as-root --oversubscribe -np "$ranks")
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
echo "command: cnn-train ${args[*]}: 1 process --threads $threads | ${mpi[*]} --threads $per"
# run DIR CMD...: "step_ms to_target_s energy_j energy_u" of one run, its record in DIR
run() {
    local out dir=$1
    shift
    out=$("$@" --out "$dir")
    local steps train to
    steps=$(sed -nE 's/.* ([0-9]+) steps, .*/\1/p' <<<"$out")
    train=$(sed -nE 's/^time in training steps ([0-9.]+) s.*/\1/p' <<<"$out")
    to=$(sed -nE 's/.*: ([0-9.]+) s to target.*/\1/p' <<<"$out")
    [ -n "$steps" ] && [ -n "$train" ] || { echo "bench_dist.sh: no summary from: $*" >&2; exit 1; }
    echo "$(awk -v t="$train" -v s="$steps" 'BEGIN {printf "%.4f", 1000 * t / s}') ${to:-nan}" \
        "$(python3 -c 'import json, sys; f = json.load(open(sys.argv[1]))["functional_unit"]
print("%.4g %.2g" % (f["total_j"], f["total_uncertainty_j"]))' "$dir/run.json")"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
s1="" t1="" e1="" sN="" tN="" eN=""
for r in $(seq "$rounds"); do
    read -r a b e u < <(run "$work/r$r-1" "$bin" "${args[@]}" --threads "$threads")
    read -r c d f v < <(run "$work/r$r-$ranks" "${mpi[@]}" "$bin" "${args[@]}" --threads "$per")
    s1="$s1 $a" t1="$t1 $b" e1="$e1 $e" sN="$sN $c" tN="$tN $d" eN="$eN $f"
    echo "round $r  1 process: $a ms/step, $b s, $e ± $u J to target | $ranks ranks: $c ms/step, $d s, $f ± $v J to target"
done
ms1=$(echo "$s1" | median) msN=$(echo "$sN" | median) tt1=$(echo "$t1" | median) ttN=$(echo "$tN" | median)
ej1=$(echo "$e1" | median) ejN=$(echo "$eN" | median)
echo "| world | threads per rank | ms per step | ratio | s to target | ratio | J to target | ratio |"
echo "|---|---|---|---|---|---|---|---|"
echo "| 1 | $threads | $ms1 | 1.00 | $tt1 | 1.00 | $ej1 | 1.00 |"
awk -v n="$ranks" -v p="$per" -v a="$ms1" -v b="$msN" -v c="$tt1" -v d="$ttN" -v e="$ej1" -v f="$ejN" \
    'BEGIN {printf "| %d | %d | %s | %.2f | %s | %.2f | %s | %.2f |\n", n, p, b, b / a, d, d / c, f, f / e}'
