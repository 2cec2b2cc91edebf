#!/usr/bin/env bash
# Does losing a worker cost accuracy? 3 workers, fashion-cnn on Fashion-MNIST for EPOCHS
# epochs: one undisturbed run, then one run per KILL_AT step in which the third worker is
# SIGKILLed once metrics.jsonl has passed that step (`--min-workers 2 --commit-every COMMIT`);
# the survivors re-form the ring and finish. Prints one row per run (docs/reliability.md).
# A benchmark, not a test: minutes per run. Environment:
#   EPOCHS (3)  KILL_AT ("100 350")  COMMIT (20)  ELASTIC_BATCH (global; or per_worker)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${EPOCHS:-3}"; KILL_AT="${KILL_AT:-100 350}"; COMMIT="${COMMIT:-20}"; ELASTIC_BATCH="${ELASTIC_BATCH:-global}"
swift build -c release --product ringtrain >/dev/null
BIN="$PWD/.build/release/ringtrain"
WORK="$(mktemp -d)"
LAUNCH=""
trap '[ -n "$LAUNCH" ] && kill "$LAUNCH" 2>/dev/null; rm -rf "$WORK"' EXIT
python3 - examples/fashion-cnn.json "$ELASTIC_BATCH" > "$WORK/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["elastic_batch"] = sys.argv[2]; print(json.dumps(c))
PY
common=(--config "$WORK/config.json" --epochs "$EPOCHS" --checkpoint-every 100)

last_train_step() {  # the newest `train` line's step in a run's metrics.jsonl (0 if none)
    python3 - "$1/metrics.jsonl" <<'PY'
import json, sys
step = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r.get("event") == "train": step = r["step"]
except FileNotFoundError: pass
print(step)
PY
}

row() {  # row LABEL RUN_DIR LOG CALM_TOP1
    python3 - "$@" <<'PY'
import json, re, sys
label, run, log, calm = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = json.load(open(run + "/summary.json"))
text = open(log).read() if log != "-" else ""
m = re.search(r"re-forming the ring with \d+ workers .*? from (.*?) \(step (\d+)\); about (\d+) steps are redone(.*)", text)
source = f"{m.group(1)}" if m else "-"
redone = m.group(3) if m else "-"
batch = m.group(4).strip("; ") if m and m.group(4) else "-"
diff = f"{(s['test_top1'] - float(calm)) * 100:+.2f}" if calm else ""
print(f"| {label} | {source} | {redone} | {batch} | {s['final_step']} | {s['test_top1']*100:.2f}% | {diff} |")
PY
}

echo "== 3 workers, fashion-cnn, $EPOCHS epochs, elastic_batch $ELASTIC_BATCH, commit every $COMMIT steps; $(nproc) cores"
echo "| killed after | restarted from | steps redone | batch after the loss | steps in all | test top-1 | vs undisturbed |"
echo "|---|---|---:|---|---:|---:|---:|"
"$BIN" launch --nproc 3 "${common[@]}" --run-dir "$WORK/calm" > /dev/null 2> "$WORK/calm.log"
CALM="$(python3 -c "import json; print(json.load(open('$WORK/calm/summary.json'))['test_top1'])")"
row "(undisturbed)" "$WORK/calm" - ""
for k in $KILL_AT; do
    run="$WORK/kill-$k"
    "$BIN" launch --nproc 3 --min-workers 2 --commit-every "$COMMIT" "${common[@]}" --run-dir "$run" > /dev/null 2> "$WORK/kill-$k.log" &
    LAUNCH=$!
    while [ "$(last_train_step "$run")" -lt "$k" ]; do
        kill -0 "$LAUNCH" 2>/dev/null || { cat "$WORK/kill-$k.log"; exit 1; }
        sleep 0.2
    done
    pid="$(grep -o 'registered: .* pid [0-9]*' "$WORK/kill-$k.log" | sed -n 3p | grep -o '[0-9]*$')"
    kill -9 "$pid"
    wait "$LAUNCH" || { echo "the run with a kill at step $k failed:"; tail -20 "$WORK/kill-$k.log"; exit 1; }
    LAUNCH=""
    row "step ~$k" "$run" "$WORK/kill-$k.log" "$CALM"
done
