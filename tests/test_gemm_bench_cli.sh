#!/usr/bin/env bash
# gemm-bench refuses bad input with exit 2 and one line on stderr saying
# what is wrong, before allocating anything: --threads out of 0..1024, a
# shape size that is not 1..2147483647 (no wrap-around), a shape whose
# buffers overflow size_t or exceed the memory available. An allocation
# that fails anyway (under ulimit -v) is a clean exit 1. With valgrind
# present, an error path after the backend exists leaks nothing.
# usage: test_gemm_bench_cli.sh PATH/TO/gemm-bench
set -u
bin=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# expect CODE PATTERN ARGS...: exit status CODE and exactly one stderr line, "gemm-bench: ..." matching PATTERN
expect() {
    local want=$1 pattern=$2
    shift 2
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: gemm-bench $* exited $got, expected $want; stderr: $(cat "$tmp/err")"
        fails=$((fails + 1))
    elif [ "$(wc -l <"$tmp/err")" != 1 ] || ! grep -qE -- "^gemm-bench: .*$pattern" "$tmp/err"; then
        echo "FAIL: gemm-bench $*: expected one line matching '$pattern', got: $(cat "$tmp/err")"
        fails=$((fails + 1))
    fi
}

range='--threads must be an integer from 0 \(all cores\) to 1024'
expect 2 "$range, not '100000'" --threads=100000
expect 2 "$range, not '1025'" --threads=1025
expect 2 "$range, not '-1'" --threads=-1
sizes='with M, N and K integers from 1 to 2147483647'
expect 2 "'4294967297x1x1' is not .*$sizes" --shapes=4294967297x1x1
expect 2 "'1x2147483648x1' is not .*$sizes" --shapes=1x2147483648x1
expect 2 "'1x-5x3' is not .*$sizes" --shapes=1x-5x3
expect 2 "'0x5x3' is not" --shapes=0x5x3
expect 2 "'5x5x5:' is not" --shapes=5x5x5:
expect 2 "'5x5x5:NX' is not" --shapes=5x5x5:NX
expect 2 "'5x5' is not" --shapes=5x5
expect 2 "2147483647x2147483647x2147483647 .*more bytes than size_t counts" --shapes=2147483647x2147483647x2147483647
# 4 TB for C alone: more than any machine this runs on has available
expect 2 "1000000x1000000x1 .*needs 7450.6 GiB of memory.*more than the .* GiB available \(MemAvailable" \
    --shapes=1000000x1000000x1
expect 2 "fc1.fwd .*needs .* GiB of memory" --batch=1073741824 --hidden=1073741824
expect 2 "--gemm: unknown GEMM 'nope'" --gemm=nope

# An allocation that fails even so: exit 1, one line, no crash. A 1 GiB C
# (host copy plus the backend's) under a 1.5 GiB address-space limit.
(ulimit -v 1572864 && "$bin" --shapes=16384x16384x1 --gemm=naive --repeat=1 --threads=1 --warm >/dev/null \
    2>"$tmp/err")
got=$?
if [ "$got" = 2 ] && grep -q 'GiB available' "$tmp/err"; then
    echo "note: less than 2 GiB of memory available here, the allocation-failure case is not run"
elif [ "$got" != 1 ] || [ "$(wc -l <"$tmp/err")" != 1 ] ||
    ! grep -q '^gemm-bench: shape 16384x16384x1: out of memory' "$tmp/err"; then
    echo "FAIL: under ulimit -v, gemm-bench exited $got, expected 1 with one out-of-memory line: $(cat "$tmp/err")"
    fails=$((fails + 1))
fi

# Error paths after the backend is created free what they took. Only
# leaks are judged: in a CUDA build the CUDA runtime's dlopen of the driver
# trips valgrind's known false "invalid read" in the dynamic loader.
if command -v valgrind >/dev/null 2>&1; then
    for args in --gemm=nope --ref=nope; do
        valgrind --leak-check=full "$bin" $args >/dev/null 2>"$tmp/vg"
        rc=$?
        if [ $rc != 2 ] || grep -q 'definitely lost: [1-9]' "$tmp/vg"; then
            echo "FAIL: valgrind gemm-bench $args (exit $rc): $(grep -A3 'LEAK SUMMARY' "$tmp/vg")"
            fails=$((fails + 1))
        fi
    done
else
    echo "note: valgrind not installed, the leak checks are not run"
fi

if [ "$fails" != 0 ]; then
    echo "test_gemm_bench_cli: $fails check(s) FAILED"
    exit 1
fi
echo "test_gemm_bench_cli: all checks passed"
