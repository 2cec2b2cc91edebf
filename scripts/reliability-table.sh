#!/usr/bin/env bash
# Runs the fault-tolerance and security scenario tests (release build) and prints the table
# of docs/reliability.md from their results: one row per scenario, the test that checks it,
# its outcome and its time. Build first (scripts/test.sh does), or this builds.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh >/dev/null

swift build -c release --build-tests >/dev/null

row() {
    local scenario="$1" filter="$2"
    local out
    out="$(swift test -c release --disable-swift-testing --skip-build --filter "$filter" 2>&1 || true)"
    local total
    total="$(echo "$out" | grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" | tail -1)"
    local n f t
    n="$(echo "$total" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')"
    f="$(echo "$total" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')"
    t="$(echo "$total" | sed -E 's/.* in ([0-9.]+) \(.*/\1/')"
    local result="passed"
    if [ -z "$n" ] || [ "$n" = "0" ]; then result="NOT RUN"; elif [ "$f" != "0" ]; then result="FAILED ($f of $n)"; fi
    printf '| %s | `%s` | %s | %.1f s |\n' "$scenario" "$filter" "$result" "${t:-0}"
}

echo "| scenario | test | result | time |"
echo "|---|---|---|---:|"
row "worker SIGKILLed, 3 workers, --min-workers 2: ring re-formed from the survivors within 10 s, at most --commit-every steps redone, the global batch kept: as many steps and the same accuracy as undisturbed" "ElasticTests.testAKilledWorkerIsDroppedAndTheSurvivorsFinishTheRun"
row "a host's link cut for 60 s (namespaces): dropped within the heartbeat bound, the ring of 2 goes on, the host rejoins after the link returns" "LinkCutTests"
row "below --min-workers: exit 3, resumable" "ElasticTests.testBelowTheMinimumTheRunStopsWithExitThree"
row "worker lost without elasticity: exit 3 at once, no straggler" "LaunchCommandTests.testLostWorkerEndsRunWithExitThreeAndNoStragglers"
row "coordinator SIGKILLed: workers exit 3 at once, --resume continues" "CoordinatorLossTests"
row "wrong token, garbage, oversized blob, slow-loris: refused, logged, job unaffected; 2,000 silent connections while workers register: the run finishes, the coordinator's threads and descriptors stay bounded" "SecurityTests"
row "silent strangers on every ring port before, during and after formation: the ring forms, and re-forms within 10 s after a worker is killed" "ElasticTests.testSilentStrangersOnTheRingPortsDelayNoFormation"
row "ring formation: strangers' handshakes side by side with the neighbour's, bounded; a failed right hop stops the acceptor at once" "RingStrangerTests"
row "stall inspector names the frozen rank (SIGSTOP) before any timeout" "StallTests"
row "stall inspector logic" "StallInspectorTests"
row "checkpoint truncated at every offset / a flipped byte anywhere: detected" "SafeTensorsTests"
row "corrupt newest checkpoint, missing or garbage latest: previous good one used" "CheckpointStoreTests"
row "checkpoint of another model: skipped with a warning" "TrainCommandTests.testResumeSkipsACheckpointOfAnotherModel"
row "full disk (tmpfs): checkpoint fails with a clear error, training and the previous checkpoint survive" "FullDiskTests"
row "a checkpoint save made 40 s slow (strace delays its fsync): every worker stays in the run, exit 0" "SlowCheckpointTests"
row "handshake refusals, frame limits, deadlines on the data plane" "TransportTests"
row "a token file others can read: refused, naming the fix" "ClusterTokenTests"
row "every parser of untrusted bytes fuzzed briefly (frames, handshake, blocks, control, checkpoints, configs, IDX, images); the harness catches a crash" "FuzzTests"
