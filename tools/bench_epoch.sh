#!/usr/bin/env bash
# One training epoch of the MLP on the CPU with each GEMM, alternating in the
# same run (A B A B ...), and the median epoch time of each with their ratio.
# The epoch time is the time in training steps (evaluation excluded), as
# cnn-train's summary reports it.
#
# usage: tools/bench_epoch.sh [--build DIR] [--rounds R] [--gemm "packed openblas"] [-- cnn-train options]
#   default: 5 rounds, fashion-mnist (60,000 images), batch 128, 784-512-10,
#   OPENBLAS_CORETYPE=SkylakeX unless already set (see ../shared/docs/BENCHMARKING.md)
set -euo pipefail
build=build rounds=5 gemms="packed openblas"
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --gemm) gemms=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench_epoch.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
bin=$build/cnn-train
[ -x "$bin" ] || { echo "bench_epoch.sh: $bin not found: build first (cmake -B $build && cmake --build $build -j)" >&2; exit 1; }
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
args=(fashion-mnist --epochs 1 --batch 128 --no-energy --quiet "$@")
declare -A times
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"
echo "command: cnn-train ${args[*]} --gemm=G"
for r in $(seq "$rounds"); do
    for g in $gemms; do
        t=$("$bin" "${args[@]}" --gemm="$g" | sed -n 's/^time in training steps \([0-9.]*\) s.*/\1/p')
        [ -n "$t" ] || { echo "bench_epoch.sh: cnn-train --gemm=$g printed no epoch time" >&2; exit 1; }
        times[$g]="${times[$g]:-} $t"
        echo "round $r  $g  $t s"
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
first=""
for g in $gemms; do
    m=$(echo "${times[$g]}" | median)
    if [ -z "$first" ]; then first=$m; ratio=1; else ratio=$(awk -v a="$m" -v b="$first" 'BEGIN {printf "%.2f", a/b}'); fi
    gflop=$(awk -v t="$m" 'BEGIN {printf "%.0f", 98.0 / t}')
    echo "median  $g  $m s per epoch  (~$gflop GFLOP/s on the ~98 GFLOP of an epoch; time / first = $ratio)"
done
