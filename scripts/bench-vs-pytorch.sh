#!/usr/bin/env bash
# Times PyTorch and RingTrain on the same model (fashion-cnn), batch and thread count,
# forward+backward, alternating runs; prints both with their ratio. Then OpenBLAS's sgemm
# (the libscipy_openblas that numpy's wheel bundles, loaded into ringtrain with
# `bench kernels --openblas`) against ours on every product shape, repetitions taken in turn
# in one process, ROUNDS runs of that (scripts/bench/compare_builds.py). Where the
# CPU has AVX-512, RingTrain is timed with both GEMM kernels (AVX2 and AVX-512).
# A benchmark, not a test. Environment:
#   BENCH_VENV   venv with torch+numpy (default .build-bench/venv; created if torch is missing)
#   BATCH        batch size (default 128)    ROUNDS  alternating rounds (default 3)
#   THREADS      thread counts (default "1 2")
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV="${BENCH_VENV:-.build-bench/venv}"
BATCH="${BATCH:-128}"
ROUNDS="${ROUNDS:-3}"
THREADS="${THREADS:-1 2}"
STEPS=15

ensure_venv "$VENV" "torch, numpy" torch numpy

echo "== building ringtrain (release)"
swift build -c release --product ringtrain >/dev/null
BIN=.build/release/ringtrain

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== fashion-cnn forward+backward, batch $BATCH, median of $STEPS steps per run, $ROUNDS alternating rounds"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# RingTrain twice per round where the CPU has AVX-512: the AVX2 GEMM kernel (RINGTRAIN_KERNELS=avx2)
# and the default, which is then the AVX-512 one.
KERNELS=(avx2); grep -qw avx512f /proc/cpuinfo && KERNELS+=(default)
printf "%-8s %14s" threads "pytorch img/s"
for k in "${KERNELS[@]}"; do printf " %16s %7s" "ringtrain-$k" ratio; done
printf "\n"
for t in $THREADS; do
    pt=(); declare -A rt=()
    for _ in $(seq "$ROUNDS"); do
        pt+=("$(OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t "$VENV/bin/python" scripts/bench/pytorch_fashion_cnn.py train "$t" "$BATCH" "$STEPS")")
        for k in "${KERNELS[@]}"; do
            v="$(RINGTRAIN_KERNELS="$k" "$BIN" bench kernels --json --train-only --threads "$t" --batch "$BATCH" --repeats "$STEPS" \
                 | sed -n 's/.*"train_images_per_sec": \([0-9.]*\).*/\1/p')"
            rt[$k]="${rt[$k]:-} $v"
        done
    done
    p=$(printf "%s\n" "${pt[@]}" | median)
    printf "%-8s %14.0f" "$t" "$p"
    for k in "${KERNELS[@]}"; do
        r=$(printf "%s\n" ${rt[$k]} | median)
        printf " %16.0f %7.2f" "$r" "$(echo "$r / $p" | bc -l)"
    done
    printf "   (runs: pytorch %s;" "${pt[*]}"
    for k in "${KERNELS[@]}"; do printf " %s:%s;" "$k" "${rt[$k]}"; done
    printf ")\n"
    unset rt
done

OPENBLAS="$("$VENV/bin/python" -c 'import glob, os, numpy
print(sorted(glob.glob(os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs", "libscipy_openblas*.so")))[0])')"
echo "== OpenBLAS ($OPENBLAS) against ringtrain, 1 thread, same calls, in one process"
"$BIN" bench kernels --threads 1 --repeats 21 --openblas "$OPENBLAS"
echo "== the ratios of $ROUNDS such runs (medians)"
"$VENV/bin/python" scripts/bench/compare_builds.py "$OPENBLAS" "$ROUNDS" 1 "$BIN"

if [[ -x scripts/bench-vs-gloo.sh ]]; then
    echo "== scripts/bench-vs-gloo.sh"
    BENCH_VENV="$VENV" scripts/bench-vs-gloo.sh
elif [[ -f scripts/bench-vs-gloo.sh ]]; then
    echo "== scripts/bench-vs-gloo.sh"
    BENCH_VENV="$VENV" bash scripts/bench-vs-gloo.sh
fi
