#!/usr/bin/env bash
# Runs the reconnect-storm benchmark (builds nothing): a real
# certfleet-coordinator on SQLite with 10,000 simulated agents that
# reconnect by themselves (certfleet-bench-agent-loadgen --reconnect); the
# coordinator is killed and started again, and the bench times until every
# agent holds a stream again and its inventory is in the store. Takes
# about 3 minutes (most of it enrolling the agents and their first
# connections).
#
# Needs build/coordinator/certfleet-coordinator and
# build/bench/certfleet-bench-reconnect (+ certfleet-bench-agent-loadgen),
# e.g. `./scripts/build.sh certfleet-coordinator certfleet-bench-reconnect
# certfleet-bench-agent-loadgen`. CERTFLEET_BUILD_DIR=build-foo picks another
# build directory; CERTFLEET_COORDINATOR=/path/to/certfleet-coordinator
# measures another coordinator binary (one built from an older commit).
# Extra arguments go to certfleet-bench-reconnect, e.g. --agents 5000,
# --rounds 3, --restart term, --down 10s, --perf DIR (then
# `perf script -i DIR/perf-1.data > DIR/perf.txt &&
#  bench/perf_summary.py DIR/perf.txt --storm 10000`), --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${CERTFLEET_BUILD_DIR:-build}"
coordinator="${CERTFLEET_COORDINATOR:-$build/coordinator/certfleet-coordinator}"
for f in "$coordinator" "$build/bench/certfleet-bench-reconnect" \
         "$build/bench/certfleet-bench-agent-loadgen"; do
  if [[ ! -x "$f" ]]; then
    echo "run_reconnect.sh: $f is missing; build it first" >&2
    exit 2
  fi
done
# 10,000 streams need 10,000+ descriptors in the coordinator and in the load
# generator, which inherit this limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$build/bench/certfleet-bench-reconnect" --agents 10000 \
  --coordinator "$coordinator" \
  --loadgen "$build/bench/certfleet-bench-agent-loadgen" "$@"
