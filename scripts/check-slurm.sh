#!/usr/bin/env bash
# End-to-end check of deploy/slurm/ringtrain.sbatch against a real Slurm (issue #7): a Slurm
# cluster of 3 network-namespace hosts (scripts/slurm-cluster.sh), a tiny generated dataset,
#   1. `sbatch --nodes=3 --ntasks-per-node=1 deploy/slurm/ringtrain.sbatch --config CFG`,
#      cancelled (`scancel`, as a preemption or a time limit would) after its first checkpoint;
#   2. the very same sbatch command again, which must resume that run (its directory, from its
#      checkpoint) and complete it: summary.json with world_size 3 and every step done.
#
#   scripts/check-slurm.sh [--bin PATH]     (default .build/release/ringtrain; copied first)
#
# Needs root (namespaces, daemons); installs slurmctld, slurmd, slurm-client and munge when
# missing. Every daemon, namespace and temporary file is removed on exit, also on failure or
# Ctrl-C. Last line `check-slurm: OK (...)`, exit 0; otherwise the reason, the job logs and the
# daemons' logs, and a non-zero exit (77: cannot run here, i.e. not root).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

BIN="$PWD/.build/release/ringtrain"
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) BIN="${2:?--bin PATH}"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-slurm: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "check-slurm: needs root (network namespaces, Slurm daemons); not run" >&2
    exit 77
fi
[ -x "$BIN" ] || { echo "check-slurm: no ringtrain binary at $BIN (build it, or give --bin)" >&2; exit 2; }
STARTED=$(date +%s.%N)

# A tag of our own whose subnet (netns-cluster.sh derives it from the tag) no other namespace
# cluster on this machine uses right now.
TAG=""
for _ in $(seq 20); do
    t="sl$(head -c 64 /dev/urandom | tr -dc 'a-z' | head -c 5)"
    [ "${#t}" -eq 7 ] || continue
    if [ -z "$(ip route show "$(scripts/netns-cluster.sh subnet "$t").0/24")" ] && ! ip netns list | grep -q "^$t-" && [ ! -e "/tmp/ringtrain-slurm-$t" ]; then
        TAG="$t"; break
    fi
done
[ -n "$TAG" ] || { echo "check-slurm: found no free namespace subnet" >&2; exit 1; }
SLURM_DIR="/tmp/ringtrain-slurm-$TAG"
WORK="$(mktemp -d /tmp/ringtrain-check-slurm.XXXXXX)"
# Where sbatch starts the job (--chdir): runs/ and the job logs go here.
JOBDIR="$WORK/job"

show_logs() {
    local f
    for f in "$JOBDIR"/ringtrain-*.log; do
        [ -f "$f" ] || continue
        echo "----- job log $f (first 20 and last 40 lines; JSON summary and validation lines left out)" >&2
        grep -v -e '^ ' -e '^validation after epoch' "$f" | awk '{ l[NR] = $0 } END { for (i = 1; i <= NR; i++) if (i <= 20 || i > NR - 40) print l[i]; else if (i == 21) print "..." }' >&2 || true
    done
    for f in "$SLURM_DIR"/log/*.log; do
        [ -f "$f" ] || continue
        echo "----- $f (last 15 lines)" >&2
        tail -n 15 "$f" >&2 || true
    done
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ "$rc" -ne 0 ] && show_logs
    scripts/slurm-cluster.sh down "$TAG" >/dev/null 2>&1 || scripts/slurm-cluster.sh down "$TAG" || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "check-slurm: FAILED: $*" >&2
    exit 1
}

# Slurm commands run inside host 1's namespace: the hosts are unreachable from the root one.
# The caller's own RUN_DIR, MASTER_ADDR, token ... must not leak into the job's environment.
slurm() {
    nsenter --net="/run/netns/$TAG-h1" env -u RUN_DIR -u MASTER_ADDR -u MASTER_PORT -u RANK -u WORLD_SIZE \
        -u RINGTRAIN_TOKEN -u RINGTRAIN_COORDINATOR_PORT \
        SLURM_CONF="$SLURM_DIR/slurm.conf" RINGTRAIN_BIN="$WORK/ringtrain" "$@"
}
# The job's state (PENDING, RUNNING, COMPLETED, CANCELLED, ...), while slurmctld remembers it.
job_state() { slurm scontrol show job "$1" -o 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p'; }
job_field() { slurm scontrol show job "$1" -o 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# wait_job_end ID SECONDS: until the job has left the queue (and its processes are gone).
wait_job_end() {
    local deadline=$(( $(date +%s) + $2 )) state
    while :; do
        state="$(job_state "$1")"
        case "$state" in
            PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|RESIZING|SIGNALING|STAGE_OUT|"") ;;
            *) return 0 ;;
        esac
        [ "$(date +%s)" -lt "$deadline" ] || fail "job $1 still $state after $2 s"
        sleep 0.2
    done
}
# The one sbatch command both submissions use.
submit() {
    slurm sbatch --parsable --nodes=3 --ntasks-per-node=1 --chdir="$JOBDIR" \
        deploy/slurm/ringtrain.sbatch --config "$WORK/config.json"
}
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

step "Slurm cluster of 3 namespace hosts ($TAG-h1..3)"
cp "$BIN" "$WORK/ringtrain"   # a rebuild during the check must not swap the binary under the job
mkdir -p "$JOBDIR" "$WORK/data"
scripts/slurm-cluster.sh up "$TAG" 3 > "$WORK/cluster.txt"
slurm sinfo -N

step "a tiny dataset (IDX, 8x8 images, 4 classes) and config"
# 6000 training images, 20% held out: 100 steps of 3x16 images per epoch; 100 epochs are
# about 10 s, long enough to cancel the first job after its first checkpoint (step 200).
python3 - "$WORK/data" 6000 200 <<'EOF'
import random, struct, sys
d, ntrain, ntest = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
side, classes = 8, 4
rng = random.Random(3)
def write(name, dims, payload):
    with open(f"{d}/{name}", "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", x) for x in dims) + bytes(payload))
for prefix, n in (("train", ntrain), ("t10k", ntest)):
    pixels, labels = bytearray(), bytearray()
    for i in range(n):
        label = i % classes
        labels.append(label)
        for y in range(side):
            for x in range(side):
                inside = x // 4 == label % 2 and y // 4 == label // 2
                pixels.append(180 + rng.randrange(64) if inside else 2 * rng.randrange(64))
    write(f"{prefix}-images-idx3-ubyte", [n, side, side], pixels)
    write(f"{prefix}-labels-idx1-ubyte", [n], labels)
EOF
EPOCHS=100
cat > "$WORK/config.json" <<EOF
{"layers": [{"type": "conv", "out": 4, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
            {"type": "flatten"}, {"type": "linear"}],
 "data": "$WORK/data", "epochs": $EPOCHS, "batch_size": 16, "lr": 0.05, "threads": 1, "seed": 1,
 "validation_fraction": 0.2, "checkpoint_every": 200, "keep_checkpoints": 3, "progress_seconds": 2}
EOF

step "first submission, cancelled after its first checkpoint"
J1="$(submit)"
[[ "$J1" =~ ^[0-9]+$ ]] || fail "sbatch printed '$J1', not a job id"
RUN1="$JOBDIR/runs/slurm-$J1"
deadline=$(( $(date +%s) + 90 ))
until [ -s "$RUN1/checkpoints/latest" ]; do
    state="$(job_state "$J1")"
    case "$state" in PENDING|CONFIGURING|RUNNING|"") ;; *) fail "job $J1 ended ($state) before its first checkpoint" ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || fail "no checkpoint from job $J1 after 90 s (state $state)"
    sleep 0.1
done
slurm scancel "$J1"
wait_job_end "$J1" 60
STATE1="$(job_state "$J1")"
[ "$STATE1" = "CANCELLED" ] || fail "job $J1 is $STATE1 after scancel, not CANCELLED"
[ ! -f "$RUN1/summary.json" ] || fail "job $J1 finished its training before the cancel reached it (make the run longer)"
CKPT1="$(cat "$RUN1/checkpoints/latest")"
STEP1="$(printf '%s' "$CKPT1" | tr -dc '0-9' | sed 's/^0*//')"
[ -n "$STEP1" ] && [ "$STEP1" -gt 0 ] || fail "job $J1's latest checkpoint '$CKPT1' names no step"
echo "job $J1 cancelled; its run directory runs/slurm-$J1 holds $CKPT1"

step "the same sbatch command again: it resumes runs/slurm-$J1 and completes"
J2="$(submit)"
[[ "$J2" =~ ^[0-9]+$ ]] || fail "sbatch printed '$J2', not a job id"
[ "$J2" != "$J1" ] || fail "the resubmission got the same job id $J1"
wait_job_end "$J2" 180
STATE2="$(job_state "$J2")"; EXIT2="$(job_field "$J2" ExitCode)"
[ "$STATE2" = "COMPLETED" ] && [ "$EXIT2" = "0:0" ] || fail "job $J2 is $STATE2 (exit $EXIT2), not COMPLETED (0:0)"
LOG2="$JOBDIR/ringtrain-$J2.log"
grep -q "run directory runs/slurm-$J1 (resuming)" "$LOG2" || fail "job $J2 did not pick up runs/slurm-$J1 (see its log)"
RESUMED_AT="$(sed -n 's/^\[coordinator\] resuming from .*(step \([0-9]*\))$/\1/p' "$LOG2" | head -n 1)"
[ -n "$RESUMED_AT" ] || fail "job $J2's coordinator did not resume from a checkpoint"
[ "$RESUMED_AT" -ge "$STEP1" ] || fail "job $J2 resumed at step $RESUMED_AT, before job $J1's checkpoint (step $STEP1)"
[ ! -e "$JOBDIR/runs/slurm-$J2" ] || fail "job $J2 also made its own run directory runs/slurm-$J2"
[ -f "$RUN1/summary.json" ] || fail "no summary.json in runs/slurm-$J1 after job $J2"
WORLD="$(json "$RUN1/summary.json" "['world_size']")"
FINAL="$(json "$RUN1/summary.json" "['final_step']")"
EPOCHS_DONE="$(json "$RUN1/summary.json" "['epochs_completed']")"
[ "$WORLD" = "3" ] || fail "summary.json says world_size $WORLD, not 3"
[ "$EPOCHS_DONE" = "$EPOCHS" ] || fail "summary.json says $EPOCHS_DONE epochs completed, not $EPOCHS"
[ "$FINAL" -gt "$RESUMED_AT" ] || fail "summary.json's final step $FINAL is not past the resume point $RESUMED_AT"
LATEST="$(cat "$RUN1/checkpoints/latest")"
[ -f "$RUN1/checkpoints/$LATEST" ] || fail "runs/slurm-$J1/checkpoints/latest names $LATEST, which is missing"
# One metrics.jsonl: a `start` record of the resumed run, and (truncated at the resume point,
# then continued) no training step twice.
python3 - "$RUN1/metrics.jsonl" <<'EOF' || fail "runs/slurm-$J1/metrics.jsonl: no resumed start record, or a training step twice"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
steps = [r["step"] for r in records if r.get("event") == "train" and "step" in r]
resumed = [r for r in records if r.get("event") == "start" and r.get("resumed")]
sys.exit(0 if resumed and steps and len(steps) == len(set(steps)) else 1)
EOF

ELAPSED="$(python3 -c "import time; print(round(time.time() - $STARTED))")"
echo "check-slurm: OK (3 Slurm nodes; job $J1 cancelled at checkpoint step $STEP1, job $J2 resumed runs/slurm-$J1 at step $RESUMED_AT and completed $EPOCHS_DONE epochs, $FINAL steps, world_size $WORLD; ${ELAPSED} s)"
