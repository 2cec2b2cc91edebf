#!/usr/bin/env bash
# A remote-shell agent for network-namespace "hosts": `scripts/netns-agent.sh NS COMMAND`
# runs the shell command inside namespace NS (the ssh calling convention, for deploy/launch.sh).
ns="$1"; shift
exec ip netns exec "$ns" bash -c "$*"
