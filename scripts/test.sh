#!/usr/bin/env bash
# Installs what the tests need, builds RingTrain in release mode, and runs every test.
# Idempotent; fails loudly with the step that failed.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "checking the toolchain"
swift --version

ensure_packages "${BUILD_PACKAGES[@]}" "${DATA_PACKAGES[@]}" iproute2

# Tests run against the release build: the kernels and the real-data tests are 10-100x
# slower in debug, and the command-line tests run the very binary users get.
step "building ringtrain (release)"
swift build -c release

step "running the test suite (release)"
swift test -c release
