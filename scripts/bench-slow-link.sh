#!/usr/bin/env bash
# Does compression pay on a slow link, and does `--codec auto` pick right? HOSTS namespace
# "hosts" (one worker each) whose egress is capped (tc tbf), fashion-cnn for EPOCHS epochs on
# part of Fashion-MNIST, one run per codec, one after the other, side by side.
# A benchmark, not a test; needs root (network namespaces). Environment:
#   HOSTS (4)  RATE (100mbit; "none": no cap)  CODECS ("none zstd:1 bf16-zstd:1 auto")
#   FRACTION (0.5 held out for validation)  EPOCHS (1)
# Columns: wall time; training throughput (images/s over training steps only) and its ratio
# to the first codec's; compression ratio; per-step compute and all-reduce wait of rank 0;
# test top-1; for auto, what it chose.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
HOSTS="${HOSTS:-4}"; RATE="${RATE:-100mbit}"; CODECS="${CODECS:-none zstd:1 bf16-zstd:1 auto}"
FRACTION="${FRACTION:-0.5}"; EPOCHS="${EPOCHS:-1}"
TAG="rtbench"
swift build -c release --product ringtrain >/dev/null
BIN="$PWD/.build/release/ringtrain"
WORK="$(mktemp -d)"
trap 'scripts/netns-cluster.sh down "$TAG"; rm -rf "$WORK"' EXIT
CAP=(); [ "$RATE" != "none" ] && CAP=("$RATE")
scripts/netns-cluster.sh up "$TAG" "$HOSTS" "${CAP[@]}" > "$WORK/hosts"
echo "== $HOSTS hosts, egress cap ${RATE} each; fashion-cnn, $EPOCHS epoch(s) on $(python3 -c "print(round((1-$FRACTION)*60000))") images, 1 worker per host, 1 thread per worker; $(nproc) cores"
printf "%-13s %8s %9s %8s %7s %11s %10s %10s  %s\n" codec "wall s" "images/s" "vs first" ratio "compute ms" "wait ms" "test top-1" "auto chose"
FIRST=""
for codec in $CODECS; do
    name="${codec%%:*}"; level="${codec#*:}"; [ "$level" = "$codec" ] && level=1
    run="$WORK/run-$name-$level"
    deploy/launch.sh --hostfile "$WORK/hosts" --agent scripts/netns-agent.sh --bin "$BIN" -- \
        --config examples/fashion-cnn.json --epochs "$EPOCHS" --validation-fraction "$FRACTION" --threads 1 \
        --codec "$name" --zstd-level="$level" --checkpoint-every 0 --run-dir "$run" > "$WORK/log" 2>&1 \
        || { cat "$WORK/log"; exit 1; }
    FIRST="$(python3 - "$run/summary.json" "$codec" "$FIRST" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
first = float(sys.argv[3]) if sys.argv[3] else s['images_per_sec']
steps = max(s['final_step'], 1)
wait = s['communication_wait_seconds'] / steps
compute = s['compute_seconds'] / steps - wait
chose = ", ".join(f"{d['chosen']} at step {d['step']} (none {d['none_step_seconds']*1000:.0f} ms, zstd {d['zstd_step_seconds']*1000:.0f} ms)"
                  for d in s.get('codec_auto') or [])
print(f"{sys.argv[2]:<13} {s['wall_seconds']:8.1f} {s['images_per_sec']:9.0f} {s['images_per_sec']/first:7.2f}x {s['compression_ratio']:7.2f} "
      f"{compute*1000:11.0f} {wait*1000:10.0f} {s['test_top1']*100:9.2f}%  {chose}", file=sys.stderr)
print(first)
PY
)"
done
