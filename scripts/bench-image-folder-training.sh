#!/usr/bin/env bash
# Training straight from a raw folder of photo-sized JPEGs on first use, side by side:
#   RingTrain: ringtrain train --data FOLDER (a fresh cache each round: the first-use prepare,
#              with its decoding, resizing and data checks, is part of the time), 1 epoch
#   PyTorch:   torchvision ImageFolder + DataLoader(num_workers=W), the same transforms
#              (RandomResizedCrop, flip, ColorJitter), the same small CNN, 1 epoch
# with W = THREADS (default: all cores) decoding processes/threads and as many compute threads.
# ROUNDS (3), COUNT (photos, 1000), SIZE (64). Prints images/s per round and the medians.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ROUNDS="${ROUNDS:-3}"; COUNT="${COUNT:-1000}"; SIZE="${SIZE:-64}"; T="${THREADS:-$(nproc)}"
VENV="${BENCH_VENV:-.build-tools/venv-torch}"
PHOTOS=".build-bench/photos-split-$COUNT"
ensure_venv "$VENV" "torch, torchvision, PIL, skimage" torch torchvision pillow scikit-image
BIN="$(swift build -c release --show-bin-path)/ringtrain"
[ -x "$BIN" ] || swift build -c release >/dev/null
if [ ! -d "$PHOTOS/train" ]; then
    "$VENV/bin/python" scripts/data/make_photo_folders.py bench "$PHOTOS/train" --count "$COUNT"
    "$VENV/bin/python" scripts/data/make_photo_folders.py bench "$PHOTOS/test" --count 70 --seed 2
fi
CONFIG="$(mktemp)"; OUT="$(mktemp -d)"
trap 'rm -rf "$CONFIG" "$OUT"' EXIT
cat > "$CONFIG" <<JSON
{"layers": [{"type": "conv", "out": 32, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
            {"type": "conv", "out": 64, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
            {"type": "flatten"}, {"type": "linear", "out": 128}, {"type": "relu"}, {"type": "linear"}],
 "epochs": 1, "batch_size": 64, "lr": 0.05, "validation_fraction": 0, "threads": $T,
 "images": {"width": $SIZE, "height": $SIZE, "threads": $T},
 "augmentation": {"horizontal_flip": true, "random_resized_crop": {}, "color_jitter": {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4}}}
JSON
rate() { sed -nE 's/.*"images_per_sec" *: *([0-9.]+).*/\1/p' | head -1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
step "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $T threads; $COUNT photos -> ${SIZE}x$SIZE"
P=(); R=()
for ((i = 0; i < ROUNDS; i++)); do
    P+=("$("$VENV/bin/python" scripts/bench/pytorch_imagefolder.py "$PHOTOS" "$SIZE" "$T" "$T" | rate)")
    rm -rf "$OUT/cache" "$OUT/run"
    START=$(date +%s.%N)
    "$BIN" train --config "$CONFIG" --data "$PHOTOS" --cache "$OUT/cache" --run-dir "$OUT/run" >/dev/null 2>&1
    END=$(date +%s.%N)
    IMAGES=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counts"]["train"])' "$OUT"/cache/prepared/*/report.json)
    R+=("$(echo "$IMAGES / ($END - $START)" | bc -l)")
    echo "round $((i + 1)): pytorch ${P[-1]} images/s, ringtrain ${R[-1]} images/s (prepare + 1 epoch + test, wall)"
done
PM="$(printf "%s\n" "${P[@]}" | median)"; RM="$(printf "%s\n" "${R[@]}" | median)"
printf "median: pytorch %.0f images/s, ringtrain %.0f images/s, %.2fx\n" "$PM" "$RM" "$(echo "$RM / $PM" | bc -l)"
