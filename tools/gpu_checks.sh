#!/usr/bin/env bash
# The GPU checks, as one script for the lent GPU machine (no network; see
# ../shared/gpu/README.md). Here, from the project's root:
#   PACK_EXTRA="test_backend_ops test_train_step_kinds step-bench" ../shared/gpu/pack.sh
# then, with the device tool:  bash .gpu/on_device.sh tools/gpu_checks.sh
# Every step has its own timeout and the whole a deadline; logs go to $OUT
# (the device tool brings them back). Nothing here changes the GPU's clocks,
# power limit or modes.
set -u
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
B=${GPU_BIN:?run through .gpu/on_device.sh}
D=${CNN_DATA_DIR:?run through .gpu/on_device.sh}
deadline=$(( $(date +%s) + ${GPU_CHECKS_SECONDS:-480} ))

# step NAME SECONDS COMMAND...: runs it unless the deadline is near, logging to $OUT/NAME.log.
step() {
    local name=$1 secs=$2
    shift 2
    local left=$(( deadline - $(date +%s) ))
    if [ "$left" -lt 10 ]; then echo "SKIP $name: deadline" | tee -a "$OUT/summary.txt"; return; fi
    [ "$secs" -gt "$left" ] && secs=$left
    timeout "$secs" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "$( [ $rc = 0 ] && echo PASS || echo "FAIL($rc)" ) $name" | tee -a "$OUT/summary.txt"
}

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1

# 1. correctness: every GPU test, the cross-backend table (two CUDA instances, the fused step after 1, 3 and 100 steps)
for t in test_backend_ops test_train_step_kinds test_cuda_graph test_cuda_gemm test_cuda_step test_cuda_determinism \
         test_cuda_conv test_cuda_precision; do
    [ -x "$B/$t" ] && step "$t" 120 "$B/$t"
done

# 2. compute-sanitizer on the fused step and the ops (memcheck, racecheck, synccheck)
if command -v compute-sanitizer >/dev/null; then
    step sanitize_memcheck_ops 120 compute-sanitizer --tool memcheck --error-exitcode 1 "$B/test_backend_ops"
    for tool in memcheck racecheck synccheck; do
        step "sanitize_${tool}_fused" 120 compute-sanitizer --tool "$tool" --error-exitcode 1 \
            "$B/cnn-train" mnist --backend=cuda --step=fused --epochs=1 --no-energy --data-dir="$D/mnist"
    done
fi

# 3. the step's ladder: µs per step per rung and batch (the issue's target: fused 784-512-10 at batch 128 <= 10 µs)
step step_bench_mlp 120 "$B/step-bench" --backend=cuda --batches=64,128,256 --steps=500 --rounds=5
step step_bench_deep 90 "$B/step-bench" --backend=cuda --hidden=4096,4096 --batches=128 --steps=100 --rounds=3
step step_bench_lenet 60 "$B/step-bench" --backend=cuda --model=lenet --batches=64 --steps=100 --rounds=3

# 4. time and energy to target on each rung (energy: NVML counter; --repeat gives the statistics where built in)
for s in fused graph ops; do
    step "train_fashion_$s" 60 "$B/cnn-train" fashion-mnist --backend=cuda --step=$s --target-acc=0.88 \
        --data-dir="$D/fashion-mnist" --out="$OUT/run_fashion_$s"
done
step train_mnist_repeat 120 "$B/cnn-train" mnist --backend=cuda --repeat=20 --target-acc=0.96 \
    --data-dir="$D/mnist" --out="$OUT/run_repeat"

# 5. the SGEMM ladder against cuBLAS (CUDA events), every precision
step gemm_square 150 "$B/gemm-bench" --backend=cuda --gemm=all --shapes=square --csv
step gemm_mlp 60 "$B/gemm-bench" --backend=cuda --gemm=all --shapes=mlp --batch=128 --csv

# 6. data-parallel (docs/distributed.md; needs mpirun there): 1 rank through MPI on each rung; with 2 GPUs,
#    2 ranks over NCCL on each rung, twice (the same evaluation lines) and within tolerance of 1 rank
if command -v mpirun >/dev/null; then
    mpi="mpirun --allow-run-as-root --oversubscribe -q"
    dist=(mnist --backend=cuda --epochs=3 --no-energy --data-dir="$D/mnist")
    for s in fused graph ops; do
        step "dist_np1_$s" 60 $mpi -np 1 "$B/cnn-train" "${dist[@]}" --step=$s
    done
    if [ "$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')" -ge 2 ]; then
        for s in fused graph ops; do
            step "dist_np2_${s}_a" 90 $mpi -np 2 "$B/cnn-train" "${dist[@]}" --step=$s
            step "dist_np2_${s}_b" 90 $mpi -np 2 "$B/cnn-train" "${dist[@]}" --step=$s
            a=$(grep '^epoch' "$OUT/dist_np2_${s}_a.log" | sed 's/elapsed.*//') b=$(grep '^epoch' "$OUT/dist_np2_${s}_b.log" | sed 's/elapsed.*//')
            [ -n "$a" ] && [ "$a" = "$b" ] && r=PASS || r=FAIL
            echo "$r dist_np2_${s}_bitwise" | tee -a "$OUT/summary.txt"
        done
        step dist_np2_energy 120 $mpi -np 2 "$B/cnn-train" mnist --backend=cuda --target-acc=0.96 \
            --data-dir="$D/mnist" --out="$OUT/run_dist_np2"
    else
        # one GPU: two ranks would share it, which NCCL refuses; cnn-train says so in one line (exit 2)
        step dist_np2_one_gpu_refused 60 sh -c "$mpi -np 2 \"$B/cnn-train\" mnist --backend=cuda --epochs=1 \
            --no-energy --data-dir=\"$D/mnist\" 2>&1 | grep -q 'ranks on this node but 1 GPU'"
    fi
else
    echo "SKIP dist: no mpirun on this machine" | tee -a "$OUT/summary.txt"
fi

echo "done: $(grep -c PASS "$OUT/summary.txt") passed, $(grep -c FAIL "$OUT/summary.txt") failed" | tee -a "$OUT/summary.txt"
