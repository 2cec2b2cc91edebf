#!/usr/bin/env bash
# Fashion-MNIST as image folders, made from the IDX files with `ringtrain data export-images`:
#   OUT/png/{train,test}/NN-<class>/<index>.png     lossless: every pixel is the IDX pixel
#   OUT/jpeg/{train,test}/NN-<class>/<index>.jpg    JPEG quality 90
# <index> is the image's position in its IDX file. OUT defaults to .build-bench/fashion-folders.
# Used by scripts/bench-image-folders.sh and by the real-data test of image folders.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

OUT="${1:-.build-bench/fashion-folders}"
ensure_packages "${BUILD_PACKAGES[@]}" "${DATA_PACKAGES[@]}"
BIN="${RINGTRAIN_BIN:-$(swift build -c release --show-bin-path)/ringtrain}"
[ -x "$BIN" ] || { step "building ringtrain (release)"; swift build -c release >/dev/null; }
for FORMAT in png jpeg; do
    if [ -d "$OUT/$FORMAT/test" ]; then
        step "$OUT/$FORMAT exists"
        continue
    fi
    step "writing Fashion-MNIST as $FORMAT files into $OUT/$FORMAT"
    rm -rf "$OUT/$FORMAT"
    "$BIN" data export-images /usr/share/datasets/fashion-mnist --out "$OUT/$FORMAT" --format "$FORMAT" --quality 90
done
