#!/usr/bin/env bash
# Fuzzes every parser of untrusted input for FUZZ_SECONDS each (default 600: the issue's
# 10 minutes per target). A crash or hang leaves its input in .build-fuzz/<target>.bin and
# makes this script fail.
#   FUZZ_SECONDS=600 FUZZ_SEED=1 scripts/fuzz.sh [target ...]
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
SECONDS_PER_TARGET="${FUZZ_SECONDS:-600}"
SEED="${FUZZ_SEED:-1}"
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(frame handshake safetensors block control config idx image)
step "building ringtrain (release)"
swift build -c release >/dev/null
mkdir -p .build-fuzz
for t in "${TARGETS[@]}"; do
    step "fuzzing $t for $SECONDS_PER_TARGET s (seed $SEED)"
    .build/release/ringtrain fuzz "$t" --seconds "$SECONDS_PER_TARGET" --seed "$SEED" --crash-file ".build-fuzz/$t.bin"
done
