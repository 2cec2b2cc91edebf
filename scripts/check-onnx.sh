#!/usr/bin/env bash
# Checks an ONNX file written by `ringtrain export` with the reference tools (PyPI `onnx`,
# `onnxruntime`, `numpy`, installed into .build-tools/venv-onnx on first use):
# onnx.checker with full_check, then (unless --check-only) onnxruntime's logits against ours.
#   scripts/check-onnx.sh MODEL.onnx INPUT.npy EXPECTED_LOGITS.npy [--tolerance T]
#   scripts/check-onnx.sh MODEL.onnx --check-only
set -Eeuo pipefail
# No cd: the paths given are the caller's.
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/lib.sh"
if [ $# -lt 2 ]; then
    echo "usage: scripts/check-onnx.sh MODEL.onnx (INPUT.npy EXPECTED.npy | --check-only)" >&2
    exit 2
fi
VENV="${ONNX_VENV:-$REPO/.build-tools/venv-onnx}"
ensure_venv "$VENV" "onnx, onnxruntime, numpy" onnx onnxruntime numpy >&2
step "checking $1 with onnx.checker and onnxruntime" >&2
"$VENV/bin/python" "$REPO/scripts/check-onnx.py" "$@"
