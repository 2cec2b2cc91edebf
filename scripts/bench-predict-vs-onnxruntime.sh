#!/usr/bin/env bash
# `ringtrain predict` against onnxruntime running the model `ringtrain export` wrote, same
# batch and thread count: fashion-cnn (the 10,000 Fashion-MNIST test images, read from the
# IDX files) and resnet18 with the cifar stem (1,000 of those images as PNG files, decoded by
# predict). predict's figure is its own "predict: N images in S s" line (decoding,
# normalisation, the forward passes and printing; not the process start); onnxruntime's the
# median batch of scripts/bench/onnxruntime_inference.py. A benchmark, not a test.
#   ROUNDS (3)  THREADS ("1 2")  BATCH (128)  OUT (.build-bench/predict)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ROUNDS="${ROUNDS:-3}"; THREADS="${THREADS:-1 2}"; BATCH="${BATCH:-128}"; OUT="${OUT:-.build-bench/predict}"
ensure_packages "${BUILD_PACKAGES[@]}" "${DATA_PACKAGES[@]}"
ensure_venv .build-tools/venv-onnx "onnx, onnxruntime, numpy" onnx onnxruntime numpy
BIN="$(swift build -c release --show-bin-path)/ringtrain"
[ -x "$BIN" ] || { step "building ringtrain (release)"; swift build -c release >/dev/null; }
FASHION=/usr/share/datasets/fashion-mnist
mkdir -p "$OUT"

# Weights do not change the timings: short runs make the checkpoints.
if [ ! -f "$OUT/fashion/summary.json" ]; then
    step "a fashion-cnn checkpoint (1 epoch)"
    "$BIN" train --model fashion-cnn --epochs 1 --run-dir "$OUT/fashion" > /dev/null 2> "$OUT/fashion.log"
fi
if [ ! -d "$OUT/pngs/test" ]; then
    step "Fashion-MNIST as PNG files (200 to train a resnet18, 1000 to predict)"
    rm -rf "$OUT/pngs" "$OUT/all-pngs"
    "$BIN" data export-images "$FASHION" --out "$OUT/all-pngs" > /dev/null
    for split in train test; do
        per=$([ "$split" = train ] && echo 20 || echo 100)
        for class in "$OUT/all-pngs/$split"/*/; do
            dir="$OUT/pngs/$split/$(basename "$class")"; mkdir -p "$dir"
            files=(); mapfile -t files < <(ls "$class" | sort)
            for f in "${files[@]:0:$per}"; do cp "$class$f" "$dir/"; done
        done
    done
    rm -rf "$OUT/all-pngs"
fi
if [ ! -f "$OUT/resnet18/summary.json" ]; then
    step "a resnet18 (cifar stem) checkpoint (1 epoch of 200 images)"
    "$BIN" train --model resnet18 --stem cifar --epochs 1 --batch-size 32 --data "$OUT/pngs" --cache "$OUT/cache" \
        --run-dir "$OUT/resnet18" > /dev/null 2> "$OUT/resnet18.log"
fi
for m in fashion resnet18; do
    "$BIN" export "$OUT/$m" --format onnx --out "$OUT/$m.onnx" --force > /dev/null
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
step "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); batch $BATCH, $ROUNDS alternating rounds"
printf "%-10s %-8s %16s %14s %7s\n" model threads "onnxruntime/s" "predict/s" ratio
for m in fashion resnet18; do
    if [ "$m" = fashion ]; then INPUT="$FASHION"; REPEATS=30; else INPUT="$OUT/pngs/test"; REPEATS=8; fi
    for t in $THREADS; do
        ort=(); ours=()
        for _ in $(seq "$ROUNDS"); do
            ort+=("$(.build-tools/venv-onnx/bin/python scripts/bench/onnxruntime_inference.py "$OUT/$m.onnx" "$BATCH" "$t" "$REPEATS" \
                     | sed -n 's/.*thread(s): \([0-9,.]*\) images\/s median.*/\1/p' | tr -d ,)")
            ours+=("$("$BIN" predict --checkpoint "$OUT/$m" --threads "$t" --batch-size "$BATCH" "$INPUT" 2>&1 >/dev/null \
                      | sed -n 's/^predict: .*(\([0-9.]*\) images\/s.*/\1/p')")
        done
        o=$(printf "%s\n" "${ort[@]}" | median); r=$(printf "%s\n" "${ours[@]}" | median)
        printf "%-10s %-8s %16.1f %14.1f %7.2f   (onnxruntime %s; predict %s)\n" "$m" "$t" "$o" "$r" "$(echo "$r / $o" | bc -l)" "${ort[*]}" "${ours[*]}"
    done
done
