#!/usr/bin/env bash
# A test cluster of network namespaces on this machine: N "hosts" joined by a bridge that
# lives in a namespace of its own, so the root namespace gets no address on that network.
#
#   scripts/netns-cluster.sh up TAG N [RATE]   hosts TAG-h1..TAG-hN at 10.77.X.1..N (X from TAG),
#                                             optional egress cap per host (tc tbf, e.g. 100mbit)
#   scripts/netns-cluster.sh down TAG          removes everything `up` made (idempotent)
#   scripts/netns-cluster.sh subnet TAG        prints the subnet prefix of TAG (10.77.X)
#
# The root namespace gets an `unreachable` route for 10.77.X.0/24, so no packet for these
# hosts can ever leave the machine, and nothing here addresses them from the root namespace.
# `up` prints the hostfile lines (`TAG-hI slots=1 10.77.X.I`); it exits 3 when another tag's
# cluster holds the same subnet.
set -Eeuo pipefail

cmd="${1:?up|down|subnet}"; tag="${2:?TAG}"
[[ "$tag" =~ ^[a-z][a-z0-9]{0,7}$ ]] || { echo "netns-cluster: TAG must be 1-8 lowercase letters/digits" >&2; exit 2; }
subnet_octet=$(( $(printf '%s' "$tag" | cksum | cut -d' ' -f1) % 200 + 20 ))
subnet="10.77.$subnet_octet"

down() {
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$tag-(h[0-9]+|sw)$" || true); do
        ip netns del "$ns" 2>/dev/null || true
    done
    ip route del unreachable "$subnet.0/24" 2>/dev/null || true
}

case "$cmd" in
    subnet) echo "$subnet" ;;
    down) down ;;
    up)
        n="${3:?N}"; rate="${4:-}"
        # Another tag may map to the same subnet: never take over (or, in `down`, delete) the
        # route of a cluster that is not ours. Exit 3: pick another tag.
        if [ -n "$(ip route show "$subnet.0/24" 2>/dev/null)" ] && ! ip netns list | grep -q "^$tag-sw\b"; then
            echo "netns-cluster: subnet $subnet.0/24 (from tag $tag) belongs to another cluster; pick another tag" >&2
            exit 3
        fi
        down
        trap 'down' ERR
        ip route add unreachable "$subnet.0/24"
        ip netns add "$tag-sw"
        ip -n "$tag-sw" link add br0 type bridge
        ip -n "$tag-sw" link set br0 up
        for i in $(seq "$n"); do
            ns="$tag-h$i"
            ip netns add "$ns"
            ip link add "$tag-v$i" type veth peer name "$tag-p$i"
            ip link set "$tag-v$i" netns "$ns"
            ip link set "$tag-p$i" netns "$tag-sw"
            ip -n "$ns" link set "$tag-v$i" name eth0
            ip -n "$ns" addr add "$subnet.$i/24" dev eth0
            ip -n "$ns" link set eth0 up
            ip -n "$ns" link set lo up
            ip -n "$tag-sw" link set "$tag-p$i" master br0
            ip -n "$tag-sw" link set "$tag-p$i" up
            if [ -n "$rate" ]; then
                ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$rate" burst 64kb latency 50ms
            fi
            echo "$ns slots=1 $subnet.$i"
        done
        ;;
    *) echo "netns-cluster: up|down|subnet" >&2; exit 2 ;;
esac
