#!/usr/bin/env bash
# The main job: installs what it needs, builds release, and trains fashion-cnn on
# Fashion-MNIST with 2 worker processes on this host (ring all-reduce over loopback),
# with checkpoints in runs/demo. Idempotent: a finished run prints its test figures; an
# interrupted one resumes from its last checkpoint. Fails loudly with the step.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_packages "${BUILD_PACKAGES[@]}" "${DATA_PACKAGES[@]}"

step "building ringtrain (release)"
swift build -c release
BIN="$(swift build -c release --show-bin-path)/ringtrain"

RUN_DIR="${RUN_DIR:-runs/demo}"
if [ -f "$RUN_DIR/summary.json" ]; then
    step "the run in $RUN_DIR is finished (remove it to train again)"
    grep -E '"(test_top1|test_top5|test_loss|final_step|wall_seconds)"' "$RUN_DIR/summary.json"
    echo "summary: $RUN_DIR/summary.json; report: ringtrain report $RUN_DIR"
    exit 0
fi
RESUME=()
if [ -f "$RUN_DIR/checkpoints/latest" ]; then
    RESUME=(--resume)
    step "resuming the interrupted run in $RUN_DIR"
fi

step "training fashion-cnn on Fashion-MNIST with 2 workers in $RUN_DIR"
"$BIN" launch --nproc 2 --config examples/fashion-cnn.json --run-dir "$RUN_DIR" "${RESUME[@]}" "$@"

step "done: $RUN_DIR/summary.json; the report page: $BIN report $RUN_DIR"
