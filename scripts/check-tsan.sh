#!/usr/bin/env bash
# ThreadSanitizer over the Collectives, Transport and Cluster test suites: a debug build with
# -sanitize=thread in its own build directory (.build-tsan), so the release build is left
# alone. Kept out of scripts/test.sh (about 6 minutes on 2 cores: a 2-minute build from
# scratch, then the tests under the sanitizer); docs/reliability.md records its last result. Exit 0 only when ThreadSanitizer reports nothing.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh >/dev/null
ensure_packages "${BUILD_PACKAGES[@]}"

scratch=.build-tsan
step "building the tests with ThreadSanitizer ($scratch)"
swift build --build-tests --sanitize=thread --scratch-path "$scratch"

log="$scratch/tsan.log"
step "running CollectivesTests, TransportTests, ClusterTests under ThreadSanitizer (log: $log)"
set +e
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1" \
    swift test --skip-build --sanitize=thread --scratch-path "$scratch" --disable-swift-testing \
    --filter 'CollectivesTests\.|TransportTests\.|ClusterTests\.' >"$log" 2>&1
status=$?
set -e
grep -E "Executed [0-9]+ tests" "$log" | tail -1 || true
reports=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
echo "ThreadSanitizer reports: $reports (test exit status $status)"
if [ "$reports" != "0" ]; then
    grep -A12 "WARNING: ThreadSanitizer" "$log" | head -80
    exit 1
fi
exit "$status"
