#!/usr/bin/env bash
# The main job, locally: starts a lab (Pebble + BIND9 + two nginx on
# loopback), runs the coordinator on SQLite with
# deploy/examples/coordinator.yaml, issues the example certificates once
# (among them *.example.test + example.test with ECDSA P-384), enrolls two
# agents with deploy/examples/agent.yaml — one per nginx — and waits until
# both nginx serve the wildcard certificate, installed, reloaded and
# health-checked by their agents. Prints an `openssl s_client` line per host.
#
# CERTFLEET_DEMO_DIR (default /tmp/certfleet-demo) holds the lab's files, the
# key-encryption key, the SQLite store and the agents' directories; it is
# recreated on every run. The coordinator listens for agents on
# 127.0.0.1:7443 and serves metrics on 127.0.0.1:9464 (see the example).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/build.sh certfleet-coordinator certfleet-agent certfleet-lab

export CERTFLEET_DEMO_DIR="${CERTFLEET_DEMO_DIR:-/tmp/certfleet-demo}"
rm -rf "$CERTFLEET_DEMO_DIR"
mkdir -p -m 0700 "$CERTFLEET_DEMO_DIR"
BIN="$PWD/build"
COORDINATOR="$BIN/coordinator/certfleet-coordinator"
AGENT="$BIN/agent/certfleet-agent"
CONFIG="$PWD/deploy/examples/coordinator.yaml"
AGENT_CONFIG="$PWD/deploy/examples/agent.yaml"
export CERTFLEET_COORDINATOR_PORT=7443
HOSTS=(1 2)

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

echo "== starting the lab (Pebble + BIND9 + two nginx on loopback)"
LAB_ARGS=(--dir "$CERTFLEET_DEMO_DIR")
for h in "${HOSTS[@]}"; do
  LAB_ARGS+=(--nginx "$CERTFLEET_DEMO_DIR/agent-$h/nginx")
done
"$BIN/tests/lab/certfleet-lab" "${LAB_ARGS[@]}" &
PIDS+=($!)
wait_for 60 "the lab" test -f "$CERTFLEET_DEMO_DIR/lab.env"
set -a
# shellcheck disable=SC1091
. "$CERTFLEET_DEMO_DIR/lab.env"
set +a

echo "== checking the configurations"
"$COORDINATOR" check-config "$CONFIG"

echo "== issuing the example certificates (one pass of the coordinator)"
"$COORDINATOR" serve --config "$CONFIG" --once

echo "== a second pass issues nothing: every certificate is stored and not due"
"$COORDINATOR" serve --config "$CONFIG" --once --log-level warning | head -n 1

echo "== serving agents on 127.0.0.1:$CERTFLEET_COORDINATOR_PORT"
"$COORDINATOR" serve --config "$CONFIG" --log-level warning \
  >"$CERTFLEET_DEMO_DIR/coordinator.log" 2>&1 &
PIDS+=($!)
wait_for 30 "the coordinator's agent service" \
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$CERTFLEET_COORDINATOR_PORT"

# agent_env H: the environment deploy/examples/agent.yaml reads, for host H.
agent_env() {
  local h=$1 port conf prefix log
  port=CERTFLEET_LAB_NGINX${h}_PORT conf=CERTFLEET_LAB_NGINX${h}_CONF
  prefix=CERTFLEET_LAB_NGINX${h}_PREFIX log=CERTFLEET_LAB_NGINX${h}_LOG
  echo "CERTFLEET_AGENT_DIR=$CERTFLEET_DEMO_DIR/agent-$h" \
    "CERTFLEET_NGINX_PORT=${!port}" "CERTFLEET_NGINX_CONF=${!conf}" \
    "CERTFLEET_NGINX_PREFIX=${!prefix}" "CERTFLEET_NGINX_LOG=${!log}"
}

for h in "${HOSTS[@]}"; do
  # shellcheck disable=SC2046
  env $(agent_env "$h") "$AGENT" check-config "$AGENT_CONFIG" >/dev/null
  echo "== host $h: a bootstrap token (single use, 1 h), enrollment, agent"
  TOKEN=$("$COORDINATOR" token create --config "$CONFIG" --labels role=web \
    --ttl 1h | head -n 1)
  # shellcheck disable=SC2046
  printf '%s\n' "$TOKEN" | env $(agent_env "$h") "$AGENT" enroll \
    --config "$AGENT_CONFIG" --token-file -
  # shellcheck disable=SC2046
  env $(agent_env "$h") "$AGENT" run --config "$AGENT_CONFIG" \
    >"$CERTFLEET_DEMO_DIR/agent-$h.log" 2>&1 &
  PIDS+=($!)
done

# The serial of the wildcard certificate's newest version, from the store.
WILDCARD_SERIAL=$("$COORDINATOR" status --config "$CONFIG" -o json |
  python3 -c 'import json,sys
for c in json.load(sys.stdin)["certificates"]:
    if c["name"] == "wildcard-example": print(c["serial"])')

# served_serial H: the serial nginx of host H presents, lower-case hex
# without leading zeros (as the coordinator prints it).
served_serial() {
  local port=CERTFLEET_LAB_NGINX${1}_PORT
  openssl s_client -connect "127.0.0.1:${!port}" \
    -servername www.example.test </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null |
    sed 's/^serial=0*//' | tr 'A-F' 'a-f'
}
serves() { [ "$(served_serial "$1")" = "${WILDCARD_SERIAL#"${WILDCARD_SERIAL%%[!0]*}"}" ]; }
for h in "${HOSTS[@]}"; do
  wait_for 60 "nginx of host $h to serve the wildcard certificate" serves "$h" ||
    { tail -n 20 "$CERTFLEET_DEMO_DIR/agent-$h.log" >&2; exit 1; }
done

echo
echo "== *.example.test was issued once and both nginx serve it:"
for h in "${HOSTS[@]}"; do
  port=CERTFLEET_LAB_NGINX${h}_PORT
  printf 'host %s 127.0.0.1:%s  ' "$h" "${!port}"
  openssl s_client -connect "127.0.0.1:${!port}" -servername www.example.test \
    </dev/null 2>/dev/null |
    openssl x509 -noout -subject -serial -enddate -ext subjectAltName |
    tr '\n' ' ' | sed 's/X509v3 Subject Alternative Name: *//; s/  */ /g'
  echo
done
echo
for h in "${HOSTS[@]}"; do
  echo "== host $h: certfleet-agent status"
  # shellcheck disable=SC2046
  env $(agent_env "$h") "$AGENT" status --config "$AGENT_CONFIG"
done
echo
echo "logs: $CERTFLEET_DEMO_DIR/{coordinator,agent-1,agent-2}.log"
