#!/usr/bin/env bash
# Transfer learning on real data (docs/transfer-learning.md), a walk anyone can repeat:
#   1. Fashion-MNIST as PNG folders (scripts/make-fashion-folders.sh);
#   2. task A = classes 0-4 (T-shirt, Trouser, Pullover, Dress, Coat), PER_A training images
#      per class: pre-train resnet18 (cifar stem) from scratch;
#   3. task B = classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot), only PER_B labelled
#      images per class: (a) A's weights, backbone frozen, a new head; (b) A's weights, all
#      layers fine-tuned with the head at 10x the rate; (c) the same model from scratch.
# Each run is an ordinary run directory under OUT (default .build-bench/transfer); the script
# prints every run's validation curve and test top-1 from their metrics.jsonl.
# PER_A (default 1000), PER_B (100), EPOCHS_A (4), EPOCHS_B (15), THREADS (all cores).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

OUT="${OUT:-.build-bench/transfer}"
PER_A="${PER_A:-1000}"; PER_B="${PER_B:-100}"; EPOCHS_A="${EPOCHS_A:-4}"; EPOCHS_B="${EPOCHS_B:-15}"
THREADS="${THREADS:-0}"
FOLDERS=".build-bench/fashion-folders"
scripts/make-fashion-folders.sh "$FOLDERS"
BIN="$(swift build -c release --show-bin-path)/ringtrain"

# Folders of symbolic links: ROOT/{train,test}/<class>/ with the first N training images.
make_task() {   # make_task DIR PER_CLASS CLASS_FOLDER...
    local dir="$1" per="$2"; shift 2
    [ -d "$dir/test" ] && return 0
    for class in "$@"; do
        mkdir -p "$dir/train/$class" "$dir/test/$class"
        local files=(); mapfile -t files < <(ls "$FOLDERS/png/train/$class" | sort)
        for f in "${files[@]:0:$per}"; do
            ln -s "$(realpath "$FOLDERS/png/train/$class/$f")" "$dir/train/$class/$f"; done
        for f in "$FOLDERS/png/test/$class"/*; do ln -s "$(realpath "$f")" "$dir/test/$class/"; done
    done
}
A_CLASSES=(00-T-shirt-top 01-Trouser 02-Pullover 03-Dress 04-Coat)
B_CLASSES=(05-Sandal 06-Shirt 07-Sneaker 08-Bag 09-Ankle\ boot)
make_task "$OUT/task-a" "$PER_A" "${A_CLASSES[@]}"
make_task "$OUT/task-b" "$PER_B" "${B_CLASSES[@]}"

COMMON=(--model resnet18 --stem cifar --threads "$THREADS" --cache "$OUT/cache" --optimizer sgd --weight-decay 0.0005)
train() {   # train RUN_DIR ARGS...
    local run="$1"; shift
    if [ -f "$run/summary.json" ]; then step "$run is done"; return 0; fi
    step "training $run"
    "$BIN" train "${COMMON[@]}" --run-dir "$run" "$@" > "$run.stdout" 2> "$run.log" || { tail -5 "$run.log"; return 1; }
}
train "$OUT/a-scratch" --data "$OUT/task-a" --epochs "$EPOCHS_A" --lr 0.05
WEIGHTS="$OUT/a-scratch"
BACKBONE=(conv1 bn1 layer1 layer2 layer3 layer4)
# A's head is for A's classes: B's runs start from A's backbone and a new head (--init-exclude fc).
train "$OUT/b-frozen" --data "$OUT/task-b" --epochs "$EPOCHS_B" --lr 0.05 --init-from "$WEIGHTS" --init-exclude fc \
    --freeze "${BACKBONE[@]}"
echo '{"lr_multipliers": {"fc": 10}}' > "$OUT/finetune.json"
train "$OUT/b-finetune" --data "$OUT/task-b" --epochs "$EPOCHS_B" --lr 0.01 --init-from "$WEIGHTS" --init-exclude fc \
    --config "$OUT/finetune.json"
train "$OUT/b-scratch" --data "$OUT/task-b" --epochs "$EPOCHS_B" --lr 0.05

step "validation top-1 by epoch, then test top-1"
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
for run in ("a-scratch", "b-frozen", "b-finetune", "b-scratch"):
    vals, test = [], None
    for line in open(os.path.join(out, run, "metrics.jsonl")):
        r = json.loads(line)
        if r.get("event") == "validation": vals.append("%.1f" % (100 * r["val_top1"]))
        if r.get("event") == "test": test = 100 * r["test_top1"]
    print("%-11s validation %s  test %.2f%%" % (run, " ".join(vals), test))
PY
