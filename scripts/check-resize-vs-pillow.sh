#!/usr/bin/env bash
# Checks that the Imaging resize reproduces Pillow's Image.resize byte for byte on real photos
# (scikit-image's astronaut, chelsea, coffee, rocket, camera) beyond the small checked-in
# fixtures: 4 filters x 6 geometries each. Needs Pillow, numpy and scikit-image (a venv is made).
#   scripts/check-resize-vs-pillow.sh
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV="${BENCH_VENV:-.build-tools/venv-pillow}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

ensure_venv "$VENV" "PIL, skimage" pillow numpy scikit-image
step "building scripts/bench/imaging_resize_cli.swift with the Imaging sources"
cp scripts/bench/imaging_resize_cli.swift "$WORK/main.swift"
swiftc -O -wmo -Xcc "-march=${RINGTRAIN_MARCH:-x86-64-v3}" Sources/Imaging/*.swift "$WORK/main.swift" -o "$WORK/cli"
step "comparing with Pillow $("$VENV/bin/python" -c 'import PIL; print(PIL.__version__)')"
"$VENV/bin/python" scripts/bench/resize_vs_pillow.py "$WORK/cli" "$WORK"
