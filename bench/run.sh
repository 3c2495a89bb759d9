#!/usr/bin/env bash
# Builds certfleet-coordinator and the issuance benchmark, then runs the
# default benchmark: N = 200 and N = 1,000 single-name certificates through
# the coordinator (fresh Pebble + BIND9 per run), the wildcard + apex
# end-to-end median, and lego beside it when lego is installed.
# Extra arguments go to certfleet-bench-issuance (e.g. --skip-lego, --n 1000,
# --repeat 3, --nonce-reject 0). Takes about four minutes, most of it lego.
# CERTFLEET_COORDINATOR=/path/to/certfleet-coordinator benchmarks another
# coordinator binary (e.g. one built from an older commit) instead.
# docs/benchmarks.md has the results and how to read them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh certfleet-coordinator certfleet-bench-issuance
exec build/bench/certfleet-bench-issuance \
  --coordinator "${CERTFLEET_COORDINATOR:-build/coordinator/certfleet-coordinator}" "$@"
