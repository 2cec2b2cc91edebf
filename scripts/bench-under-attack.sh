#!/usr/bin/env bash
# Step time of a 2-worker elastic Fashion-MNIST epoch, undisturbed and then with strangers
# hammering the coordinator's and both workers' ring ports (garbage, oversized blobs, wrong
# handshakes, up to 64 slow-loris connections held open). Prints the median step time
# (rank 0's compute + all-reduce wait per step, from metrics.jsonl) of each and their ratio.
#   scripts/bench-under-attack.sh [EPOCHS]
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
EPOCHS="${1:-1}"
B=.build/release/ringtrain
swift build -c release >/dev/null
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

median_step() {
    python3 - "$1/metrics.jsonl" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = [l["step_compute_seconds"] + l["step_wait_seconds"] for l in lines
     if l.get("event") == "train" and l.get("window_steps", 0) >= 50][1:]
print(f"{statistics.median(t) * 1000:.2f}")
PY
}

run() {
    "$B" launch --nproc 2 --min-workers 1 --config examples/fashion-cnn.json --epochs "$EPOCHS" \
        --run-dir "$OUT/$1" > /dev/null 2> "$OUT/$1.log"
}

step "undisturbed run"
run calm
CALM="$(median_step "$OUT/calm")"

step "run under attack"
run attacked &
RUN_PID=$!
python3 - "$OUT/attacked.log" "$RUN_PID" <<'PY' &
import os, random, re, socket, sys, time
log, pid = sys.argv[1], int(sys.argv[2])
ports = set()
held = []
deadline = time.time() + 3600
attempts = refused = 0
def alive():
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
while alive() and time.time() < deadline:
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    ports |= {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", text)}
    if not ports:
        time.sleep(0.05)
        continue
    port = random.choice(sorted(ports))
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        attempts += 1
        kind = random.random()
        if kind < 0.3:
            s.sendall(os.urandom(256)); s.close()
        elif kind < 0.5:
            s.sendall(b"\xff" * 65536); s.close()
        elif kind < 0.8 and len(held) < 64:
            s.sendall(b"R"); held.append(s)          # slow-loris: one byte, then silence
        else:
            s.sendall(b"RTRN" + os.urandom(44)); s.close()   # a hello with a wrong everything
    except OSError:
        refused += 1
    if len(held) >= 64:
        held.pop(0).close()
    time.sleep(0.02)
print(f"attacker: {attempts} connections to {len(ports)} ports, {refused} refused at connect", file=sys.stderr)
PY
ATTACKER=$!
wait "$RUN_PID"
wait "$ATTACKER" || true
ATTACKED="$(median_step "$OUT/attacked")"
REFUSALS="$(grep -c "refused a connection" "$OUT/attacked.log" || true)"
echo "median step: undisturbed ${CALM} ms, under attack ${ATTACKED} ms, ratio $(python3 -c "print(f'{$ATTACKED / $CALM:.3f}')"); coordinator logged ${REFUSALS} refusals"
