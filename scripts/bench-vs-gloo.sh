#!/usr/bin/env bash
# Ring all-reduce vs torch.distributed (gloo) on loopback, side by side and alternating
# (gloo, ours, gloo, ours, ...) so both see the same machine load. Prints a table and writes
# JSON lines to ${OUT:-.build-bench/allreduce-vs-gloo.jsonl}.
#
#   BENCH_VENV=/path/to/venv-with-torch scripts/bench-vs-gloo.sh
#   SIZES="1686568 16M 64M" RANKS="2 3" CODECS="none zstd:-1 bf16-zstd" ROUNDS=3 scripts/bench-vs-gloo.sh
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

BENCH_VENV=${BENCH_VENV:-.build-bench/venv}
SIZES=${SIZES:-"1686568 16M 64M"}        # 1686568 B = one fashion-cnn gradient (421,642 floats)
RANKS=${RANKS:-"2 3"}
CODECS=${CODECS:-"none"}
ROUNDS=${ROUNDS:-3}
ITERS=${ITERS:-20}
OUT=${OUT:-.build-bench/allreduce-vs-gloo.jsonl}

ensure_venv "$BENCH_VENV" torch torch --index-url https://download.pytorch.org/whl/cpu

step "building ringtrain (release)"
swift build -c release --product ringtrain >/dev/null
RINGTRAIN=.build/release/ringtrain

bytes() {
    case "$1" in
        *K) echo $(( ${1%K} * 1024 ));; *M) echo $(( ${1%M} * 1048576 ));; *G) echo $(( ${1%G} * 1073741824 ));;
        *) echo "$1";;
    esac
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

mkdir -p "$(dirname "$OUT")"
: > "$OUT"
step "measuring (rounds=$ROUNDS, iters=$ITERS); each cell: median over rounds of per-run median ms"
printf "%-6s %-10s %-12s %12s %12s %12s %12s %8s\n" ranks size codec gloo_ms ours_ms gloo_busbw ours_busbw speedup
for n in $RANKS; do
    for s in $SIZES; do
        b=$(bytes "$s")
        for codec in $CODECS; do
            g_ms=(); o_ms=()
            for ((i = 0; i < ROUNDS; i++)); do
                g=$("$BENCH_VENV/bin/python" scripts/bench/gloo_allreduce.py --nproc "$n" --size "$b" --iters "$ITERS" 2>/dev/null | tail -1)
                echo "$g" >> "$OUT"
                g_ms+=("$(echo "$g" | field median_ms)")
                o=$("$RINGTRAIN" bench allreduce --nproc "$n" --size "$b" --codec "$codec" --iters "$ITERS" --json | tail -1)
                echo "$o" >> "$OUT"
                o_ms+=("$(echo "$o" | field median_ms)")
            done
            gm=$(printf "%s\n" "${g_ms[@]}" | median)
            om=$(printf "%s\n" "${o_ms[@]}" | median)
            python3 - "$n" "$b" "$codec" "$gm" "$om" <<'PY'
import sys
n, b, codec, gm, om = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
f = 2 * (n - 1) / n
gbw = b / (gm / 1e3) / 1e9 * f
obw = b / (om / 1e3) / 1e9 * f
print(f"{n:<6d} {b:<10d} {codec:<12s} {gm:12.3f} {om:12.3f} {gbw:12.3f} {obw:12.3f} {gm / om:7.2f}x")
PY
        done
    done
done
echo "raw results: $OUT"
