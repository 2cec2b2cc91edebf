#!/usr/bin/env bash
# Starts a RingTrain job on several hosts through a remote-shell agent.
#
#   deploy/launch.sh --hostfile FILE [--agent CMD] [--coordinator-port P] [--bin PATH]
#                    [--interface NAME | --subnet CIDR] -- [ringtrain options]
#
# Hostfile: one host per line, `host [slots=N] [address]` (the Horovod/MPI convention; `#`
# starts a comment). The coordinator runs on the first host, listening on its address
# (third column, else the host name); every host runs `slots` workers (default 1).
# The agent runs a command "on" a host: `AGENT HOST COMMAND` (default `ssh -o BatchMode=yes`;
# `ip netns exec` works too). The run's token is generated here and written to each remote
# process's standard input, never onto a command line visible in `ps`. Every line of output
# is prefixed with its host and role. On Ctrl-C, on SIGTERM, or when the coordinator ends,
# every remote process group is stopped: each remote wrapper kills its process group as soon
# as its standard input closes, which also happens when the agent itself dies. A worker
# that fails (before it even reaches the coordinator, e.g. a bad --interface) stops the job
# too, unless the run is elastic (--min-workers), where the coordinator decides.
# --interface/--subnet go to every worker: the address its ring neighbours connect to.
# Exit code: the coordinator's (0 done, 1 failed, 2 bad input, 3 a peer was lost; resumable),
# or the failed worker's.
set -Eeuo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

HOSTFILE=""; AGENT="ssh -o BatchMode=yes"; PORT=29500; BIN="ringtrain"; WORKER_ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --hostfile) HOSTFILE="$2"; shift 2 ;;
        --agent) AGENT="$2"; shift 2 ;;
        --coordinator-port) PORT="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        --interface|--subnet) WORKER_ARGS+=("$1" "$2"); shift 2 ;;
        --) shift; break ;;
        -h|--help) usage ;;
        *) echo "launch.sh: unknown option $1 (ringtrain options go after --)" >&2; exit 2 ;;
    esac
done
[ -n "$HOSTFILE" ] || { echo "launch.sh: --hostfile FILE is required" >&2; exit 2; }
[ -r "$HOSTFILE" ] || { echo "launch.sh: cannot read hostfile $HOSTFILE" >&2; exit 2; }

HOSTS=(); SLOTS=(); ADDRS=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line="${line%%#*}"
    read -r -a f <<< "$line" || true
    [ "${#f[@]}" -eq 0 ] && continue
    host="${f[0]}"; slots=1; addr="$host"
    for extra in "${f[@]:1}"; do
        case "$extra" in
            slots=*) slots="${extra#slots=}"
                     [[ "$slots" =~ ^[1-9][0-9]*$ ]] || { echo "launch.sh: $HOSTFILE:$lineno: bad slots '$extra'" >&2; exit 2; } ;;
            *=*) echo "launch.sh: $HOSTFILE:$lineno: unknown field '$extra'" >&2; exit 2 ;;
            *) addr="$extra" ;;
        esac
    done
    HOSTS+=("$host"); SLOTS+=("$slots"); ADDRS+=("$addr")
done < "$HOSTFILE"
[ "${#HOSTS[@]}" -gt 0 ] || { echo "launch.sh: $HOSTFILE lists no host" >&2; exit 2; }

WORLD=0
for s in "${SLOTS[@]}"; do WORLD=$((WORLD + s)); done
COORD="${ADDRS[0]}:$PORT"
TOKEN="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
WORK="$(mktemp -d)"
PIDS=(); FDS=(); declare -A NAMES=()

# The remote side: read the token, start ringtrain in its own process group, and kill that
# group as soon as standard input closes (launcher finished, interrupted, or agent gone).
wrapper() {
    local cmd; cmd="$(printf '%q ' "$@")"
    # (A background job's stdin is /dev/null unless redirected, hence the explicit 3<&0 / <&3.)
    printf '%s' "read -r RINGTRAIN_TOKEN; export RINGTRAIN_TOKEN; exec 3<&0; setsid $cmd </dev/null & p=\$!; " \
        "( cat <&3 >/dev/null; kill -TERM -- -\$p 2>/dev/null; sleep 3; kill -KILL -- -\$p 2>/dev/null ) >/dev/null 2>&1 & " \
        "wait \$p; rc=\$?; exit \$rc"
}

start() {  # start HOST PREFIX ringtrain-args...
    local host="$1" prefix="$2"; shift 2
    local fifo="$WORK/in-${#PIDS[@]}"
    mkfifo "$fifo"
    # shellcheck disable=SC2086
    # The subshell must not inherit the write ends of the other processes' token pipes, or
    # their wrappers would never see end-of-input.
    ( for f in "${FDS[@]}"; do eval "exec $f>&-"; done
      set -o pipefail; $AGENT "$host" "$(wrapper "$BIN" "$@")" < "$fifo" 2>&1 | sed -u "s/^/[$prefix] /" ) &
    PIDS+=("$!")
    local fd
    exec {fd}> "$fifo"
    printf '%s\n' "$TOKEN" >&"$fd"
    FDS+=("$fd")
}

stop_all() {
    for fd in "${FDS[@]}"; do exec {fd}>&- 2>/dev/null || true; done
    FDS=()
    local deadline=$((SECONDS + 10))
    for p in "${PIDS[@]}"; do
        while kill -0 "$p" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap 'echo "[launch] interrupted: stopping every process" >&2; stop_all; exit 130' INT TERM

echo "[launch] coordinator on ${HOSTS[0]} ($COORD); $WORLD workers on ${#HOSTS[@]} host(s)" >&2
start "${HOSTS[0]}" "${HOSTS[0]} coordinator" coordinator --listen "$COORD" --world-size "$WORLD" "$@"
COORD_PID="${PIDS[0]}"
for i in "${!HOSTS[@]}"; do
    for s in $(seq "${SLOTS[$i]}"); do
        start "${HOSTS[$i]}" "${HOSTS[$i]} worker $s" worker --coordinator "$COORD" "${WORKER_ARGS[@]}"
        NAMES[${PIDS[-1]}]="${HOSTS[$i]} worker $s"
    done
done
ELASTIC=0
for a in "$@"; do [ "$a" = "--min-workers" ] && ELASTIC=1; done

# Until the coordinator ends: a worker that fails ends the job at once (the coordinator would
# otherwise wait for it until its rendezvous timeout), except in elastic runs.
set +e
LIVE=("${PIDS[@]}")
while true; do
    DONE=""
    wait -n -p DONE "${LIVE[@]}"
    RC=$?
    [ -z "$DONE" ] || [ "$DONE" = "$COORD_PID" ] && break
    if [ "$RC" -ne 0 ] && [ "$ELASTIC" -eq 0 ]; then
        echo "[launch] ${NAMES[$DONE]:-a worker} exited with $RC: stopping every process" >&2
        stop_all
        exit "$RC"
    fi
    for k in "${!LIVE[@]}"; do [ "${LIVE[$k]}" = "$DONE" ] && unset 'LIVE[k]'; done
done
set -e
stop_all
echo "[launch] coordinator exited with $RC" >&2
exit "$RC"
