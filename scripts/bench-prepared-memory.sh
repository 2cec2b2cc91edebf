#!/usr/bin/env bash
# A worker's resident memory on a prepared dataset far larger than it should hold, and the
# time its training thread waits for batches with image augmentation on:
#   1. an 8.8 GB prepared dataset of 3x64x64 records (scripts/bench/make_prepared_dataset.py);
#   2. `ringtrain train` on it with random-resized-crop + flip + colour jitter, a small CNN,
#      batch 128, for SECONDS (default 180) of training, then stopped (SIGTERM);
#   3. VmHWM and VmRSS from /proc/PID/status (peak and last), the images trained, and from
#      metrics.jsonl the time waiting for the next batch as a share of step time.
# GB (8.2 GiB of records), SECONDS, THREADS (all cores), KEEP=1 keeps the dataset.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

GB="${GB:-8.2}"; SECONDS_TO_RUN="${SECONDS:-180}"; T="${THREADS:-0}"
DATA=".build-bench/prepared-${GB}g"
BIN="$(swift build -c release --show-bin-path)/ringtrain"
[ -x "$BIN" ] || swift build -c release >/dev/null
[ -f "$DATA/manifest.json" ] || python3 scripts/bench/make_prepared_dataset.py "$DATA" "$GB"
RUN="$(mktemp -d)"
trap 'rm -rf "$RUN"; [ "${KEEP:-1}" = 1 ] || rm -rf "$DATA"' EXIT
cat > "$RUN/config.json" <<JSON
{"layers": [{"type": "conv", "out": 32, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
            {"type": "conv", "out": 64, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
            {"type": "flatten"}, {"type": "linear", "out": 128}, {"type": "relu"}, {"type": "linear"}],
 "epochs": 1, "batch_size": 128, "lr": 0.05, "validation_fraction": 0, "threads": $T, "progress_seconds": 30,
 "augmentation": {"horizontal_flip": true, "random_resized_crop": {},
                  "color_jitter": {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4}}}
JSON
step "dataset $(du -sh "$DATA" | cut -f1) in $DATA; training for $SECONDS_TO_RUN s"
"$BIN" train --config "$RUN/config.json" --data "$DATA" --run-dir "$RUN/run" > "$RUN/stdout" 2> "$RUN/stderr" &
PID=$!
PEAK=0
END=$(( $(date +%s) + SECONDS_TO_RUN ))
while kill -0 "$PID" 2>/dev/null && [ "$(date +%s)" -lt "$END" ]; do
    sleep 2
    HWM=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0)
    RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0)
    [ "${HWM:-0}" -gt "$PEAK" ] && PEAK=$HWM
done
kill -TERM "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
python3 - "$RUN/run/metrics.jsonl" "$PEAK" "${RSS:-0}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"event": "train"' in l or '"event":"train"' in l]
last = rows[-1] if rows else {}
compute = sum(r["step_compute_seconds"] * r["window_steps"] for r in rows)
data = sum(r.get("step_data_wait_seconds", 0) * r["window_steps"] for r in rows)
steps = last.get("step", 0)
print("steps %d (%d images), VmHWM %.0f MB, last VmRSS %.0f MB" % (steps, steps * 128, int(sys.argv[2]) / 1024, int(sys.argv[3]) / 1024))
print("waiting for batches: %.3f s of %.1f s of steps (%.2f%%)" % (data, compute + data, 100 * data / max(compute + data, 1e-9)))
PY
