#!/usr/bin/env bash
# A real Slurm cluster on this machine, for tests: N network-namespace "hosts"
# (scripts/netns-cluster.sh), one slurmctld and one slurmd per host, all run as root by hand.
#
#   scripts/slurm-cluster.sh up TAG N     hosts TAG-h1..TAG-hN; prints `export SLURM_CONF=...`
#   scripts/slurm-cluster.sh down TAG     stops every daemon `up` started (by PID), removes the
#                                         namespaces and the private directory (idempotent)
#   scripts/slurm-cluster.sh install      only installs the packages (see install_packages)
#
# Everything lives in the private directory /tmp/ringtrain-slurm-TAG: slurm.conf, the munge key,
# munged's socket, state, spool, logs and one pid file per daemon. Nothing under /etc is read
# or changed and no system service is started, so the machine's own Slurm/munge (if any) is
# untouched. Slurm commands need SLURM_CONF=/tmp/ringtrain-slurm-TAG/slurm.conf and must run
# inside one of the namespaces (the hosts' subnet is unreachable from the root namespace), e.g.
#   SLURM_CONF=/tmp/ringtrain-slurm-TAG/slurm.conf nsenter --net=/run/netns/TAG-h1 sinfo
#
# Why by hand: there is no systemd here. Why `nsenter --net=` and not `ip netns exec`: the
# latter also unshares the mount namespace and remounts /sys, which hides /sys/fs/cgroup from
# slurmd and slurmstepd. Each daemon also gets a UTS namespace whose hostname is its node
# name: slurmctld refuses to start unless `hostname` is the SlurmctldHost, and `hostname` in a
# job then names its node as on a real cluster. Needs root and the Debian packages slurmctld,
# slurmd, slurm-client and munge (installed here when missing).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

cmd="${1:?up|down|install}"
# `install`: only the packages (scripts/test.sh installs everything before building).
if [ "$cmd" = "install" ]; then set -- install slinst; fi
tag="${2:?TAG}"
[[ "$tag" =~ ^[a-z][a-z0-9]{0,7}$ ]] || { echo "slurm-cluster: TAG must be 1-8 lowercase letters/digits" >&2; exit 2; }
# The subnet netns-cluster.sh derives from the tag, to check it is free.
subnet="$(scripts/netns-cluster.sh subnet "$tag")"
DIR="/tmp/ringtrain-slurm-$tag"
PACKAGES=(slurmctld slurmd slurm-client munge)

# Namespace names of this tag's hosts (TAG-h1..), whatever N was.
hosts_of_tag() { ip netns list | awk '{print $1}' | grep -E "^$tag-h[0-9]+$" || true; }

# The PIDs `down` stops (in PIDS):
# 1. every process inside this tag's host namespaces: slurmctld, the slurmds, and what they
#    started (slurmstepd, job scripts, srun, ringtrain), which a slurmd's death would otherwise
#    orphan. `ip netns pids` lists exactly the PIDs in a namespace we created;
# 2. every daemon by the PID `up` recorded (DIR/run/*.started) or it wrote itself
#    (DIR/run/*.pid): munged, which lives in the root namespace (it only needs its Unix
#    socket), and the others again should their namespace be gone already; only while that PID
#    is still our daemon (its command line names $DIR), never a recycled one.
collect_pids() {
    local ns pid f
    PIDS=()
    for ns in $(hosts_of_tag); do
        for pid in $(ip netns pids "$ns" 2>/dev/null || true); do PIDS+=("$pid"); done
    done
    for f in "$DIR"/run/*.started "$DIR"/run/*.pid; do
        [ -f "$f" ] || continue
        pid="$(cat "$f" 2>/dev/null || true)"
        if [[ "$pid" =~ ^[0-9]+$ ]] && { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$DIR/"; then
            PIDS+=("$pid")
        fi
    done
}

# alive_pids: those of PIDS still running (into ALIVE).
alive_pids() {
    local pid
    ALIVE=()
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && ALIVE+=("$pid"); done
    return 0
}

down() {
    local round pid i
    # Twice: the second round catches anything started while the first one stopped things.
    for round in 1 2; do
        collect_pids
        [ "${#PIDS[@]}" -eq 0 ] && break
        for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        # slurmstepd ignores SIGTERM: what is left after 2 s gets SIGKILL.
        for i in $(seq 20); do alive_pids; [ "${#ALIVE[@]}" -eq 0 ] && break; sleep 0.1; done
        if [ "${#ALIVE[@]}" -gt 0 ]; then
            for pid in "${ALIVE[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
            # A namespace lingers while a process is still in it: wait for the last exit.
            for i in $(seq 50); do alive_pids; [ "${#ALIVE[@]}" -eq 0 ] && break; sleep 0.1; done
        fi
    done
    scripts/netns-cluster.sh down "$tag"
    rm -rf "$DIR"
}

# apt may start the packages' init scripts on install (munge's would start a system-wide
# munged): forbid that for the install when the machine has no policy-rc.d of its own.
install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ -e /usr/sbin/policy-rc.d ]; then
        ensure_packages "${PACKAGES[@]}"
    else
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        local rc=0
        ensure_packages "${PACKAGES[@]}" || rc=$?
        rm -f /usr/sbin/policy-rc.d
        return "$rc"
    fi
}

# start NAME LOG COMMAND...: runs COMMAND in the background with no terminal or pipe of ours
# (a caller reading our output to EOF must not wait on a daemon), records its PID.
start() {
    local name="$1" log="$2"; shift 2
    "$@" </dev/null >>"$log" 2>&1 &
    echo $! > "$DIR/run/$name.started"
}

# on_host NS HOSTNAME COMMAND... sets ON_HOST to the command line that runs COMMAND in
# host NS's network namespace and in a UTS namespace of its own named HOSTNAME. nsenter,
# unshare and sh all exec (no fork), so the PID `start` records is the daemon's own.
on_host() {
    local ns="$1" name="$2"; shift 2
    ON_HOST=(nsenter --net="/run/netns/$ns" unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' "$name" "$@")
}

# slurm COMMAND...: a Slurm client command against this cluster, from host 1's namespace.
slurm() { SLURM_CONF="$DIR/slurm.conf" nsenter --net="/run/netns/$tag-h1" "$@"; }

# Each daemon's own output (in the foreground, Slurm's daemons copy their log to it, and it
# also holds what they print before their log file is open).
show_logs() {
    local f
    for f in "$DIR"/log/*.out; do
        [ -f "$f" ] || continue
        echo "--- $f (last 30 lines)" >&2
        tail -n 30 "$f" >&2 || true
    done
}

case "$cmd" in
    install) install_packages ;;
    down) down ;;
    up)
        n="${3:?N}"
        [[ "$n" =~ ^[1-9][0-9]?$ ]] || { echo "slurm-cluster: N must be 1-99" >&2; exit 2; }
        [ "$(id -u)" -eq 0 ] || { echo "slurm-cluster: needs root (namespaces, daemons)" >&2; exit 2; }
        # netns-cluster.sh's own cleanup would delete the subnet's unreachable route even if
        # another tag with the same subnet owns it: refuse unless the subnet is ours or free.
        if [ ! -d "$DIR" ] && [ -n "$(ip route show "$subnet.0/24" 2>/dev/null)" ]; then
            echo "slurm-cluster: subnet $subnet.0/24 (from tag $tag) is in use by another cluster; pick another tag" >&2
            exit 2
        fi
        install_packages
        down
        trap 'rc=$?; echo "slurm-cluster: up failed (exit $rc) at step: $CURRENT_STEP" >&2; show_logs; down; exit $rc' ERR
        step "namespaces $tag-h1..$tag-h$n"
        mkdir -p -m 700 "$DIR"
        mkdir -p "$DIR/run" "$DIR/log" "$DIR/state" "$DIR/munge"
        chmod 700 "$DIR/munge"
        scripts/netns-cluster.sh up "$tag" "$n" > "$DIR/hosts"

        step "munged (socket $DIR/munge/munge.socket)"
        # A key of our own; munged refuses a key file others can read.
        ( umask 077; head -c 1024 /dev/urandom > "$DIR/munge/munge.key" )
        start munged "$DIR/log/munged.out" /usr/sbin/munged --foreground --force \
            --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
            --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
            --seed-file="$DIR/munge/munged.seed"
        for _ in $(seq 100); do [ -S "$DIR/munge/munge.socket" ] && break; sleep 0.1; done
        munge --socket="$DIR/munge/munge.socket" -n | unmunge --socket="$DIR/munge/munge.socket" >/dev/null

        step "slurm.conf"
        {
            echo "# Written by scripts/slurm-cluster.sh up $tag $n (a test cluster; removed by down)."
            echo "ClusterName=rt$tag"
            echo "SlurmctldHost=$tag-h1($subnet.1)"
            echo "AuthType=auth/munge"
            echo "CredType=cred/munge"
            # auth/munge and cred/munge find our munged by this socket, not the system one.
            echo "AuthInfo=socket=$DIR/munge/munge.socket"
            echo "SlurmUser=root"
            echo "SlurmdUser=root"
            echo "StateSaveLocation=$DIR/state/slurmctld"
            echo "SlurmdSpoolDir=$DIR/state/slurmd-%n"
            echo "SlurmctldPidFile=$DIR/run/slurmctld.pid"
            echo "SlurmdPidFile=$DIR/run/slurmd-%n.pid"
            echo "SlurmctldLogFile=$DIR/log/slurmctld.log"
            echo "SlurmdLogFile=$DIR/log/slurmd-%n.log"
            echo "SlurmctldDebug=info"
            echo "SlurmdDebug=info"
            # No cgroups: processes are tracked through /proc; no accounting daemon.
            echo "ProctrackType=proctrack/linuxproc"
            echo "TaskPlugin=task/none"
            echo "JobAcctGatherType=jobacct_gather/none"
            echo "AccountingStorageType=accounting_storage/none"
            echo "JobCompType=jobcomp/none"
            echo "SelectType=select/cons_tres"
            echo "SelectTypeParameters=CR_CPU"
            echo "MpiDefault=none"
            echo "SwitchType=switch/none"
            echo "MailProg=/bin/true"
            echo "ReturnToService=2"
            # The nodes' CPUs are what this file says, not what the machine has.
            echo "SlurmdParameters=config_overrides"
            # Short waits, for a test: SIGKILL 2 s after SIGTERM on cancel; nodes answer fast.
            echo "KillWait=2"
            echo "MessageTimeout=5"
            echo "SchedulerParameters=sched_interval=2"
            for i in $(seq "$n"); do
                echo "NodeName=$tag-h$i NodeAddr=$subnet.$i NodeHostname=$tag-h$i CPUs=2 State=UNKNOWN"
            done
            echo "PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
        } > "$DIR/slurm.conf"
        # Slurm reads its other files (cgroup.conf, plugstack.conf, ...) next to slurm.conf.
        : > "$DIR/plugstack.conf"

        step "slurmctld on $tag-h1"
        mkdir -p "$DIR/state/slurmctld"
        on_host "$tag-h1" "$tag-h1" slurmctld -D -f "$DIR/slurm.conf"
        start slurmctld "$DIR/log/slurmctld.out" "${ON_HOST[@]}"
        for i in $(seq "$n"); do
            step "slurmd on $tag-h$i"
            mkdir -p -m 755 "$DIR/state/slurmd-$tag-h$i"
            on_host "$tag-h$i" "$tag-h$i" slurmd -D -N "$tag-h$i" -f "$DIR/slurm.conf"
            start "slurmd-$tag-h$i" "$DIR/log/slurmd-$tag-h$i.out" "${ON_HOST[@]}"
        done

        step "waiting for $n idle nodes"
        idle=0
        for _ in $(seq 150); do
            idle="$(slurm sinfo -h -N -o '%N %t' 2>/dev/null | grep -c ' idle$' || true)"
            [ "$idle" -eq "$n" ] && break
            for f in "$DIR"/run/*.started; do
                pid="$(cat "$f")"
                kill -0 "$pid" 2>/dev/null || { echo "slurm-cluster: $(basename "$f" .started) (pid $pid) exited" >&2; false; }
            done
            sleep 0.2
        done
        [ "$idle" -eq "$n" ] || { echo "slurm-cluster: $idle of $n nodes idle after 30 s" >&2; slurm sinfo -N -l >&2 || true; false; }
        trap - ERR
        echo "export SLURM_CONF=$DIR/slurm.conf"
        sed 's/^/# /' "$DIR/hosts"
        ;;
    *) echo "slurm-cluster: up TAG N | down TAG" >&2; exit 2 ;;
esac
