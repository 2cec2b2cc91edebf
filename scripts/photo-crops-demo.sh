#!/usr/bin/env bash
# The colour path end to end on real photographs: scikit-image's sample photographs
# (astronaut, chelsea, coffee, rocket, ...; those that ship inside the wheel) cut into random
# 96x96 JPEG crops, one class per photo (scripts/data/make_photo_folders.py crops); a
# 2-worker run from the raw folder (prepared on first use at 64x64, a stratified test
# hold-out) with random-resized-crop, flips and colour jitter; then predict on a few crops.
#   OUT (default .build-bench/photo-crops), PER_CLASS (120), EPOCHS (12)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

OUT="${OUT:-.build-bench/photo-crops}"; PER_CLASS="${PER_CLASS:-120}"; EPOCHS="${EPOCHS:-12}"
VENV=.build-tools/venv-images
ensure_packages "${BUILD_PACKAGES[@]}"
ensure_venv "$VENV" "PIL, numpy, skimage" pillow numpy scikit-image
BIN="$(swift build -c release --show-bin-path)/ringtrain"
[ -x "$BIN" ] || { step "building ringtrain (release)"; swift build -c release >/dev/null; }
mkdir -p "$OUT"
if [ ! -d "$OUT/folder" ]; then
    step "cutting the photographs into $PER_CLASS crops each"
    "$VENV/bin/python" scripts/data/make_photo_folders.py crops "$OUT/folder" --per-class "$PER_CLASS"
fi
"$BIN" data info "$OUT/folder"
cat > "$OUT/config.json" <<JSON
{"model": "resnet8", "epochs": $EPOCHS, "batch_size": 32, "optimizer": "sgd", "lr": 0.05, "momentum": 0.9,
 "weight_decay": 0.0005, "schedule": {"type": "cosine"}, "validation_fraction": 0.1, "seed": 1,
 "images": {"width": 64, "height": 64},
 "augmentation": {"horizontal_flip": true, "random_resized_crop": {"scale": [0.5, 1]},
                  "color_jitter": {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.05}}}
JSON
RUN="$OUT/run"
rm -rf "$RUN"
step "training: 2 workers, resnet8, from the raw folder"
"$BIN" launch --nproc 2 --config "$OUT/config.json" --data "$OUT/folder" --cache "$OUT/cache" --run-dir "$RUN" > "$RUN.stdout" 2> "$RUN.log"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print("test top-1 %.2f%% over %d classes (%d steps, %.0f s)" % (100 * s["test_top1"], len(s.get("class_names") or []) or 0, s["final_step"], s["wall_seconds"]))' "$RUN/summary.json"
step "predict on one crop of each photo"
FILES=(); for d in "$OUT/folder"/*/; do FILES+=("$(ls "$d"*.jpg | head -1)"); done
"$BIN" predict --checkpoint "$RUN" --top-k 2 "${FILES[@]}"
