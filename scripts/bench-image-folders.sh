#!/usr/bin/env bash
# Fashion-MNIST three ways, the same config and seed (examples/fashion-cnn.json, 2 workers):
#   IDX files; a PNG folder (every pixel the IDX pixel); a JPEG folder (quality 90)
# made by scripts/make-fashion-folders.sh. Prints each run's test top-1 (docs/benchmarks.md).
# OUT (default .build-bench/fashion-runs), EPOCHS (default: the config's 10).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

OUT="${OUT:-.build-bench/fashion-runs}"
FOLDERS=".build-bench/fashion-folders"
scripts/make-fashion-folders.sh "$FOLDERS"
BIN="$(swift build -c release --show-bin-path)/ringtrain"
EXTRA=()
[ -n "${EPOCHS:-}" ] && EXTRA=(--epochs "$EPOCHS")
for NAME in idx png jpeg; do
    case "$NAME" in
        idx) DATA=/usr/share/datasets/fashion-mnist ;;
        *) DATA="$FOLDERS/$NAME" ;;
    esac
    RUN="$OUT/$NAME"
    if [ ! -f "$RUN/summary.json" ]; then
        step "training on $DATA"
        rm -rf "$RUN"; mkdir -p "$OUT"
        "$BIN" launch --nproc 2 --config examples/fashion-cnn.json --data "$DATA" --cache "$OUT/cache" \
            --run-dir "$RUN" "${EXTRA[@]}" > "$RUN.stdout" 2> "$RUN.log"
    fi
done
for NAME in idx png jpeg; do
    python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print("%-5s test top-1 %.2f%%  (%d steps, %.0f s, %.0f images/s)" % (sys.argv[2], 100 * s["test_top1"], s["final_step"], s["wall_seconds"], s["images_per_sec"]))' "$OUT/$NAME/summary.json" "$NAME"
done
