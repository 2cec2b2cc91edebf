#!/usr/bin/env bash
# The Imaging resize against Pillow's Image.resize on one 500x375 RGB photo, same sizes and
# filters, one core, in one session (docs/datasets.md "Resizing").
#   scripts/bench-resize.sh            (RINGTRAIN_MARCH as for the package build; default x86-64-v3)
# Environment:
#   BENCH_VENV   venv with pillow, numpy, scikit-image (default .build-tools/venv-pillow; created)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV="${BENCH_VENV:-.build-tools/venv-pillow}"
MARCH="${RINGTRAIN_MARCH:-x86-64-v3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

ensure_venv "$VENV" "PIL, skimage" pillow numpy scikit-image
step "building scripts/bench/imaging_resize.swift with the Imaging sources (-march=$MARCH)"
cp scripts/bench/imaging_resize.swift "$WORK/main.swift"
swiftc -O -wmo -Xcc "-march=$MARCH" Sources/Imaging/*.swift "$WORK/main.swift" -o "$WORK/imaging_resize"
step "timing Pillow $("$VENV/bin/python" -c 'import PIL; print(PIL.__version__)') (also writes the photo)"
taskset -c 0 "$VENV/bin/python" scripts/bench/pillow_resize.py "$WORK/photo.rgb" > "$WORK/pillow.txt"
step "timing Imaging"
taskset -c 0 "$WORK/imaging_resize" "$WORK/photo.rgb" 500 375 > "$WORK/imaging.txt"

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf "%-9s %-8s %12s %14s %13s %10s\n" filter size "pillow us" "imaging us" "plan reused" "speed-up"
while read -r _ filter size pillow; do
    read -r oneshot reused < <(awk -v f="$filter" -v s="$size" '$2 == f && $3 == s { print $4, $5 }' "$WORK/imaging.txt")
    printf "%-9s %-8s %12s %14s %13s %9.1fx\n" "$filter" "$size" "$pillow" "$oneshot" "$reused" \
        "$(echo "$pillow / $oneshot" | bc -l)"
done < "$WORK/pillow.txt"
grep '^imaging-planar' "$WORK/imaging.txt" | awk '{ printf "planar Float %s 3x64x64 (box) -> 3x%s: %s us\n", $2, $3, $4 }'
grep '^imaging-layout' "$WORK/imaging.txt" | awk '{ printf "interleaved -> planar %s: %s us\n", $3, $4 }'
