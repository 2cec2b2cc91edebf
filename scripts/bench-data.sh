#!/usr/bin/env bash
# `ringtrain data prepare` against Pillow on the same photo-sized JPEGs (500x375, quality 90,
# cut from the real photographs scikit-image ships), side by side in alternating rounds:
#   Pillow:    Image.open(f).convert("RGB").resize((N, N), BICUBIC)    (scripts/bench/pillow_prepare.py)
#   RingTrain: ringtrain data prepare DIR --out TMP --size N --resize stretch --interpolation bicubic --rebuild
#              (decode, resize, hashes, data checks, shards written and fsynced: the whole prepare)
# at N = 64 and 224, on 1 thread/process and on all cores. Prints medians and ratios.
# ROUNDS (default 5), COUNT (photos, default 400), BENCH_VENV (default .build-tools/venv-images).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ROUNDS="${ROUNDS:-5}"
COUNT="${COUNT:-400}"
VENV="${BENCH_VENV:-.build-tools/venv-images}"
PHOTOS=".build-bench/photos-$COUNT"
CORES="$(nproc)"

ensure_packages "${BUILD_PACKAGES[@]}"
ensure_venv "$VENV" "PIL, skimage, numpy" pillow scikit-image numpy
step "building ringtrain (release)"
swift build -c release >/dev/null
BIN="$(swift build -c release --show-bin-path)/ringtrain"
if [ ! -d "$PHOTOS" ]; then
    step "making $COUNT photo-sized JPEGs in $PHOTOS"
    "$VENV/bin/python" scripts/data/make_photo_folders.py bench "$PHOTOS" --count "$COUNT"
fi
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

rate() { sed -nE 's/.*"images_per_sec" *: *([0-9.]+).*/\1/p' | tr -d '\n'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

step "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $CORES cores; $(ls -R "$PHOTOS" | grep -c jpg) files"
printf "%-6s %-8s %12s %12s %8s\n" size threads pillow ringtrain ratio
for SIZE in 64 224; do
    for T in 1 "$CORES"; do
        P=(); R=()
        for ((i = 0; i < ROUNDS; i++)); do
            P+=("$("$VENV/bin/python" scripts/bench/pillow_prepare.py "$PHOTOS" "$SIZE" "$T" | rate)")
            R+=("$("$BIN" data prepare "$PHOTOS" --out "$OUT/p" --size "$SIZE" --resize stretch --interpolation bicubic \
                 --threads "$T" --rebuild --test-fraction 0 --keep-duplicates --json 2>/dev/null | rate)")
        done
        PM="$(printf "%s\n" "${P[@]}" | median)"; RM="$(printf "%s\n" "${R[@]}" | median)"
        printf "%-6s %-8s %12.0f %12.0f %7.2fx\n" "$SIZE" "$T" "$PM" "$RM" "$(echo "$RM / $PM" | bc -l)"
    done
done
