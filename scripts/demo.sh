#!/usr/bin/env bash
# The main job, locally: starts a lab (Pebble + BIND9 on loopback), runs the
# coordinator on SQLite with deploy/examples/coordinator.yaml, issues the
# example certificates once (among them *.example.test + example.test with
# ECDSA P-384) and prints what was issued and where it is stored.
#
# CERTFLEET_DEMO_DIR (default /tmp/certfleet-demo) holds the lab's files, the
# key-encryption key and the SQLite store; it is recreated on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/build.sh certfleet-coordinator certfleet-lab

export CERTFLEET_DEMO_DIR="${CERTFLEET_DEMO_DIR:-/tmp/certfleet-demo}"
rm -rf "$CERTFLEET_DEMO_DIR"
mkdir -p -m 0700 "$CERTFLEET_DEMO_DIR"
BIN="$PWD/build"
CONFIG="$PWD/deploy/examples/coordinator.yaml"

echo "== starting the lab (Pebble + BIND9 on loopback)"
"$BIN/tests/lab/certfleet-lab" --dir "$CERTFLEET_DEMO_DIR" &
LAB_PID=$!
trap 'kill "$LAB_PID" 2>/dev/null || true; wait "$LAB_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ -f "$CERTFLEET_DEMO_DIR/lab.env" ] && break
  kill -0 "$LAB_PID" 2>/dev/null || { echo "the lab failed to start" >&2; exit 1; }
  sleep 0.1
done
set -a
# shellcheck disable=SC1091
. "$CERTFLEET_DEMO_DIR/lab.env"
set +a

echo "== checking the configuration"
"$BIN/coordinator/certfleet-coordinator" check-config "$CONFIG"

echo "== issuing the example certificates (one pass of the coordinator)"
"$BIN/coordinator/certfleet-coordinator" serve --config "$CONFIG" --once

echo "== a second pass issues nothing: every certificate is stored and not due"
"$BIN/coordinator/certfleet-coordinator" serve --config "$CONFIG" --once \
  --log-level warning | head -n 1
