#!/usr/bin/env bash
# Runs the HA fan-out benchmark of issue 12 (builds nothing): three
# certfleet-coordinator replicas on a 3-member etcd, issuing for real
# through Pebble + BIND9, with 10,000 simulated agents spread over them
# (certfleet-bench-agent-loadgen, one per replica); `certfleetctl renew` on
# the leader, timed until every agent installed and reported the new
# version. `--store sqlite` runs the same on one coordinator with SQLite.
# Takes about 7 minutes for 10,000 agents on etcd, 3 on SQLite (most of it
# enrolling them and their first connections).
#
# Needs build/coordinator/certfleet-coordinator, build/ctl/certfleetctl,
# build/bench/certfleet-bench-fanout and certfleet-bench-agent-loadgen, e.g.
# `./scripts/build.sh certfleet-coordinator certfleetctl
# certfleet-bench-fanout certfleet-bench-agent-loadgen`.
# CERTFLEET_BUILD_DIR=build-foo picks another build directory;
# CERTFLEET_COORDINATOR=/path/to/certfleet-coordinator measures another
# coordinator binary. Extra arguments go to certfleet-bench-fanout, e.g.
# --store sqlite, --agents 3000, --rounds 3, --etcd-max-request-bytes 8388608
# (needed for 10,000 agents on etcd: docs/benchmarks.md, "HA fan-out"),
# --perf DIR (then `perf script -i DIR/perf-1.data > DIR/perf.txt &&
# bench/perf_summary.py DIR/perf.txt --storm 10000`, whose per-agent split of
# the hub, the agent service and TLS fits a fan-out too), --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${CERTFLEET_BUILD_DIR:-build}"
coordinator="${CERTFLEET_COORDINATOR:-$build/coordinator/certfleet-coordinator}"
for f in "$coordinator" "$build/ctl/certfleetctl" \
         "$build/bench/certfleet-bench-fanout" \
         "$build/bench/certfleet-bench-agent-loadgen"; do
  if [[ ! -x "$f" ]]; then
    echo "run_fanout.sh: $f is missing; build it first" >&2
    exit 2
  fi
done
# 10,000 streams need 10,000+ descriptors in the coordinators and in the
# load generators, which inherit this limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$build/bench/certfleet-bench-fanout" --agents 10000 \
  --coordinator "$coordinator" --ctl "$build/ctl/certfleetctl" \
  --loadgen "$build/bench/certfleet-bench-agent-loadgen" "$@"
