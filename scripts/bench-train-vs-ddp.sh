#!/usr/bin/env bash
# End-to-end training throughput and accuracy: PyTorch DDP (gloo) against `ringtrain launch`,
# same model (fashion-cnn), processes, threads, batch per process, optimizer and schedule,
# on Fashion-MNIST, alternating. A benchmark, not a test. Environment:
#   BENCH_VENV  venv with torch + numpy (default .build-bench/venv; created if missing)
#   NPROC (2)  THREADS (1)  BATCH (128)  EPOCHS (1)  ROUNDS (1)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV="${BENCH_VENV:-.build-bench/venv}"
NPROC="${NPROC:-2}"; THREADS="${THREADS:-1}"; BATCH="${BATCH:-128}"; EPOCHS="${EPOCHS:-1}"; ROUNDS="${ROUNDS:-1}"
ensure_venv "$VENV" "torch, numpy" torch numpy
echo "== building ringtrain (release)"
swift build -c release --product ringtrain >/dev/null
BIN=.build/release/ringtrain
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== fashion-cnn, $NPROC processes x $THREADS threads, batch $BATCH per process, $EPOCHS epoch(s)"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
for r in $(seq "$ROUNDS"); do
    ddp="$("$VENV/bin/python" scripts/bench/pytorch_ddp_fashion.py "$NPROC" "$THREADS" "$BATCH" "$EPOCHS" | tail -1)"
    "$BIN" launch --nproc "$NPROC" --threads "$THREADS" --batch-size "$BATCH" --epochs "$EPOCHS" \
        --validation-fraction 0 --config examples/fashion-cnn.json --checkpoint-every 0 \
        --run-dir "$OUT/run-$r" --json > "$OUT/summary-$r.json" 2> "$OUT/log-$r.txt"
    ours="$(cat "$OUT/summary-$r.json")"
    python3 - "$ddp" "$ours" <<'PY'
import json, sys
d, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"pytorch-ddp  {d['images_per_sec']:8.0f} img/s  train {d['train_seconds']:7.1f} s  test top-1 {d['test_top1']*100:5.2f}%")
print(f"ringtrain    {o['images_per_sec']:8.0f} img/s  train {o['wall_seconds']:7.1f} s  test top-1 {o['test_top1']*100:5.2f}%"
      f"  (comm wait {o['communication_wait_seconds']:.1f} s of {o['compute_seconds']:.1f} s)")
print(f"ratio        {o['images_per_sec']/d['images_per_sec']:8.2f}x")
PY
done
