#!/usr/bin/env bash
# Does compression pay on a slow link? Two namespace "hosts" whose egress is capped (tc tbf),
# fashion-cnn on half of Fashion-MNIST (one epoch), one run per codec, side by side.
# A benchmark, not a test; needs root (network namespaces). Environment:
#   RATE (100mbit)  CODECS ("none zstd:-1 zstd:1 bf16-zstd:-1")  FRACTION (0.5 held out for validation)
set -Eeuo pipefail
cd "$(dirname "$0")/.."
RATE="${RATE:-100mbit}"; CODECS="${CODECS:-none zstd:-1 zstd:1 bf16-zstd:-1}"; FRACTION="${FRACTION:-0.5}"
TAG="rtbench"
swift build -c release --product ringtrain >/dev/null
BIN="$PWD/.build/release/ringtrain"
WORK="$(mktemp -d)"
trap 'scripts/netns-cluster.sh down "$TAG"; rm -rf "$WORK"' EXIT
scripts/netns-cluster.sh up "$TAG" 2 "$RATE" > "$WORK/hosts"
echo "== 2 hosts, egress capped at $RATE each; fashion-cnn, 1 epoch on $(python3 -c "print(round((1-$FRACTION)*60000))") images, 1 thread per worker"
printf "%-14s %10s %12s %10s %14s\n" codec "wall s" "images/s" ratio "test top-1"
for codec in $CODECS; do
    name="${codec%%:*}"; level="${codec#*:}"; [ "$level" = "$codec" ] && level=1
    deploy/launch.sh --hostfile "$WORK/hosts" --agent scripts/netns-agent.sh --bin "$BIN" -- \
        --config examples/fashion-cnn.json --epochs 1 --validation-fraction "$FRACTION" --threads 1 \
        --codec "$name" --zstd-level="$level" --checkpoint-every 0 --run-dir "$WORK/run-$name-$level" > "$WORK/log" 2>&1
    python3 - "$WORK/run-$name-$level/summary.json" "$codec" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<14} {s['wall_seconds']:10.1f} {s['images_per_sec']:12.0f} {s['compression_ratio']:10.2f} {s['test_top1']*100:13.2f}%")
PY
done
