#!/usr/bin/env bash
# Installs what the tests need, builds RingTrain in release mode, and runs every test.
# Idempotent; fails loudly with the step that failed.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "checking the toolchain"
swift --version

ensure_packages "${BUILD_PACKAGES[@]}" "${DATA_PACKAGES[@]}" "${BROWSER_PACKAGES[@]}" iproute2 strace
# A real Slurm (slurmctld, slurmd, munge) for scripts/check-slurm.sh, installed without
# letting apt start system services.
scripts/slurm-cluster.sh install
# TensorBoard's own event reader checks our event files (scripts/check-tensorboard.sh).
ensure_venv .build-tools/venv-tensorboard tensorboard tensorboard
# onnx.checker and onnxruntime check every exported model (scripts/check-onnx.sh).
ensure_venv .build-tools/venv-onnx "onnx, onnxruntime, numpy" onnx onnxruntime numpy

# Every target's imports against its dependencies in Package.swift, both ways.
step "checking imports against Package.swift"
python3 scripts/check-imports.py

# Tests run against the release build: the kernels and the real-data tests are 10-100x
# slower in debug, and the command-line tests run the very binary users get.
step "building ringtrain (release)"
swift build -c release

step "running the test suite (release)"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
# XCTest only (there are no Swift Testing tests), so the run closes on XCTest's own count.
# A bound on the whole run: a test that hangs (or a crash caught by a signal handler that
# faults again) ends the run with a message here instead of running into CI's limit.
# Today the suite takes about 8 minutes on 2 cores.
TEST_LIMIT_S="${TEST_LIMIT_S:-2400}"
# (|| keeps a failing run from tripping the ERR trap before the count below is printed.)
STATUS=0
timeout -k 30 "$TEST_LIMIT_S" swift test -c release --disable-swift-testing 2>&1 | tee "$LOG" || STATUS=$?
if [ "$STATUS" -eq 124 ] || [ "$STATUS" -eq 137 ]; then
    echo "scripts/test.sh: the test run did not finish within ${TEST_LIMIT_S} s; the last test seen starting:" >&2
    grep -E "^Test Case '.*' started" "$LOG" | tail -1 >&2 || true
    exit 1
fi

# One plain closing line, "N passed, M failed" (", S skipped" when some were), from XCTest's
# total. XCTest writes "Executed 257 tests, with 2 tests skipped and 0 failures" when tests
# skip themselves (the AVX-512 ones on a CPU without it), so the pattern allows that clause.
TOTAL="$(grep -E "Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$LOG" | tail -1)"
EXECUTED="$(echo "$TOTAL" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')"
FAILED="$(echo "$TOTAL" | sed -E 's/.*[^0-9]([0-9]+) failures?.*/\1/')"
SKIPPED="$(echo "$TOTAL" | sed -nE 's/.*with ([0-9]+) tests? skipped.*/\1/p')"
SKIPPED="${SKIPPED:-0}"
if [ -z "$EXECUTED" ] || [ "$EXECUTED" -eq 0 ]; then
    echo "scripts/test.sh: no test was executed" >&2
    exit 1
fi
if [ "$SKIPPED" -gt 0 ]; then
    echo "$((EXECUTED - FAILED - SKIPPED)) passed, $FAILED failed, $SKIPPED skipped"
else
    echo "$((EXECUTED - FAILED)) passed, $FAILED failed"
fi
# A crash ends XCTest before its total: the count above covers what ran, the status says so.
if [ "$STATUS" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
    echo "scripts/test.sh: swift test exited with status $STATUS" >&2
    exit 1
fi
