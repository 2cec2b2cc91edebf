#!/usr/bin/env bash
# Checks a TensorBoard log directory with TensorBoard's own reader (PyPI `tensorboard`,
# installed into .build-tools/venv-tensorboard on first use).
#   scripts/check-tensorboard.sh LOGDIR [TAG ...]
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
if [ $# -lt 1 ]; then
    echo "usage: scripts/check-tensorboard.sh LOGDIR [TAG ...]" >&2
    exit 2
fi
VENV="${TENSORBOARD_VENV:-.build-tools/venv-tensorboard}"
ensure_venv "$VENV" tensorboard tensorboard >&2
step "reading $1 with TensorBoard's event reader" >&2
"$VENV/bin/python" scripts/check-tensorboard.py "$@"
