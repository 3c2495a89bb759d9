#!/usr/bin/env bash
# Runs the agent benchmarks (builds nothing): one idle certfleet-agent's
# footprint (60 s), fan-out of a new version to 200 real certfleet-agent
# processes and to 5,000 simulated agents (3 rounds each), and the
# coordinator's RSS per connected agent; prints a summary table against the
# targets, then one JSON line. Takes about four minutes.
#
# Needs build/agent/certfleet-agent and build/bench/certfleet-bench-agents
# (+ certfleet-bench-agent-loadgen), e.g. `./scripts/build.sh certfleet-agent
# certfleet-bench-agents certfleet-bench-agent-loadgen`.
# CERTFLEET_BUILD_DIR=build-foo picks another build directory. Extra
# arguments go to certfleet-bench-agents, e.g. --idle-seconds 0 (skip the
# footprint), --real 50, --sim 1000, --rounds 5, --no-health,
# --agent-env MALLOC_ARENA_MAX=2, --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${CERTFLEET_BUILD_DIR:-build}"
for f in "$build/agent/certfleet-agent" "$build/bench/certfleet-bench-agents" \
         "$build/bench/certfleet-bench-agent-loadgen"; do
  if [[ ! -x "$f" ]]; then
    echo "run_agents.sh: $f is missing; build it first" >&2
    exit 2
  fi
done
# 5,000 streams need 5,000+ descriptors in the coordinator and in the load
# generator (each also raises its own soft limit to the hard one).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$build/bench/certfleet-bench-agents" \
  --agent "$build/agent/certfleet-agent" \
  --loadgen "$build/bench/certfleet-bench-agent-loadgen" "$@"
