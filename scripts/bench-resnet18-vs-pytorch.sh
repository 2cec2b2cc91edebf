#!/usr/bin/env bash
# resnet18 forward+backward (training mode), RingTrain against torchvision on the same
# machine, batch and thread count, runs alternated; prints medians and their ratio.
# A benchmark, not a test. Environment:
#   BENCH_VENV  venv with torch + torchvision (default .build-bench/venv; created if missing)
#   BATCH (128)  ROUNDS (3)  REPEATS timed steps per run (5)  THREADS ("1 2")
#   STEM (cifar)  SIZE (32)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV="${BENCH_VENV:-.build-bench/venv}"
BATCH="${BATCH:-128}"; ROUNDS="${ROUNDS:-3}"; REPEATS="${REPEATS:-5}"; THREADS="${THREADS:-1 2}"
STEM="${STEM:-cifar}"; SIZE="${SIZE:-32}"
ensure_venv "$VENV" "torch, torchvision" torch torchvision
step "building ringtrain (release)"
swift build -c release --product ringtrain >/dev/null
BIN="$(swift build -c release --show-bin-path)/ringtrain"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
step "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
step "resnet18 ($STEM stem, 3x${SIZE}x${SIZE}, batch $BATCH) forward+backward, median of $REPEATS steps per run, $ROUNDS alternating rounds"
printf "%-8s %14s %14s %7s\n" threads "pytorch img/s" "ringtrain" ratio
for t in $THREADS; do
    pt=(); rt=()
    for _ in $(seq "$ROUNDS"); do
        pt+=("$(OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t "$VENV/bin/python" scripts/bench/pytorch_resnet18.py "$t" "$BATCH" "$REPEATS" "$STEM" "$SIZE")")
        rt+=("$("$BIN" bench kernels --json --train-only --model resnet18 --stem "$STEM" --input "3x${SIZE}x${SIZE}" \
                 --threads "$t" --batch "$BATCH" --repeats "$REPEATS" | sed -n 's/.*"train_images_per_sec": \([0-9.]*\).*/\1/p')")
    done
    p=$(printf "%s\n" "${pt[@]}" | median); r=$(printf "%s\n" "${rt[@]}" | median)
    printf "%-8s %14.1f %14.1f %7.2f   (runs: pytorch %s; ringtrain %s)\n" "$t" "$p" "$r" "$(echo "$r / $p" | bc -l)" "${pt[*]}" "${rt[*]}"
done
