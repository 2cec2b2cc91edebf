#!/usr/bin/env bash
# A remote-shell agent for tests: runs the command on this machine, ignoring the host name
# (`scripts/local-agent.sh HOST COMMAND`, the same shape as `ssh HOST COMMAND`).
shift
exec bash -c "$*"
