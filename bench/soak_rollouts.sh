#!/usr/bin/env bash
# Memory over time: N consecutive renewals of one certificate, each rolled
# out to the same real agents (canary, then everyone, no bake), against a
# real certfleet-coordinator on SQLite, Pebble, BIND9 and one nginx per
# agent. After every rollout it records the coordinator's anonymous memory
# (/proc/PID/smaps_rollup "Anonymous"), each agent's, and the store's size
# on disk; at the end it prints the growth per rollout after the warm-up.
#
#   bench/soak_rollouts.sh [--rollouts 1000] [--agents 4] [--warmup 100]
#                          [--heaptrack] [--dir DIR]
#
# CERTFLEET_SOAK_LOG_LEVEL (default warning) sets the daemons' --log-level.
# --heaptrack runs the coordinator under heaptrack and prints, at the end,
# the allocation sites holding the most memory at the heap's peak: a heap
# profile of the soak.
#
# Prints one line per sample (every --every rollouts, default 50) and a
# summary with one JSON line. Exit status: 0 when every rollout completed, 1
# otherwise (the logs are kept in DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

ROLLOUTS=1000
AGENTS=4
WARMUP=100
EVERY=50
HEAPTRACK=0
DIR="${CERTFLEET_SOAK_DIR:-/tmp/certfleet-soak}"
while [ $# -gt 0 ]; do
  case "$1" in
    --rollouts) ROLLOUTS=$2; shift 2 ;;
    --agents) AGENTS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --every) EVERY=$2; shift 2 ;;
    --heaptrack) HEAPTRACK=1; shift ;;
    --dir) DIR=$2; shift 2 ;;
    *) echo "usage: $0 [--rollouts N] [--agents N] [--warmup N] [--every N] [--heaptrack] [--dir DIR]" >&2; exit 2 ;;
  esac
done
[ "$WARMUP" -lt "$ROLLOUTS" ] || { echo "--warmup must be below --rollouts" >&2; exit 2; }

./scripts/bootstrap.sh >/dev/null
BIN="${CERTFLEET_BUILD_DIR:-$PWD/build}"
if [ -z "${CERTFLEET_BUILD_DIR:-}" ]; then
  ./scripts/build.sh certfleet-coordinator certfleet-agent certfleetctl certfleet-lab >/dev/null
fi
COORDINATOR="$BIN/coordinator/certfleet-coordinator"
AGENT="$BIN/agent/certfleet-agent"
CTL="$BIN/ctl/certfleetctl"
[ -x "$CTL" ] || CTL=$(find "$BIN" -name certfleetctl -type f -perm -u+x | head -n 1)
AGENT_CONFIG="$PWD/deploy/examples/agent.yaml"

rm -rf "$DIR"
mkdir -p -m 0700 "$DIR"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

LAB_ARGS=(--dir "$DIR")
for h in $(seq 1 "$AGENTS"); do LAB_ARGS+=(--nginx "$DIR/agent-$h/nginx"); done
"$BIN/tests/lab/certfleet-lab" "${LAB_ARGS[@]}" >"$DIR/lab.log" 2>&1 &
PIDS+=($!)
wait_for 60 "the lab" test -f "$DIR/lab.env"
set -a
# shellcheck disable=SC1091
. "$DIR/lab.env"
set +a

AGENT_PORT=$(free_port)
ADMIN_PORT=$(free_port)
CONFIG="$DIR/coordinator.yaml"
# One certificate, delivered to every soak agent: a canary, then the rest;
# no bake, so the soak measures the coordinator's work per rollout, not
# waiting.
cat >"$CONFIG" <<EOF
store:
  path: $DIR/coordinator.db
key_encryption_key_file: $DIR/kek
dns:
  resolvers: ["127.0.0.1:$CERTFLEET_LAB_DNS_PORT"]
  nameserver_port: $CERTFLEET_LAB_DNS_PORT
  propagation_interval: 50ms
issuers:
  - name: pebble
    directory: https://127.0.0.1:$CERTFLEET_LAB_ACME_PORT/dir
    trust_bundle: $DIR/pebble-ca.pem
    limits:
      new_orders_per_window: 0
dns_providers:
  - name: lab-bind
    type: rfc2136
    zones: [example.test]
    rfc2136:
      server: "127.0.0.1:$CERTFLEET_LAB_DNS_PORT"
      tsig_key_name: certfleet
      tsig_secret_file: $DIR/tsig.secret
agents:
  listen: 127.0.0.1:$AGENT_PORT
  server_names: [127.0.0.1]
admin:
  listen: 127.0.0.1:$ADMIN_PORT
rollout:
  waves: [1, 100%]
  max_unavailable: 100%
  bake_time: 0s
  health_timeout: 1m
certificates:
  - name: soak
    names: ["*.example.test", example.test]
    key_type: ec256
    issuer: pebble
    targets:
      - agents: {role: web}
        target: nginx
EOF
"$COORDINATOR" check-config "$CONFIG" >/dev/null

COORD_CMD=("$COORDINATOR" serve --config "$CONFIG" --log-level "${CERTFLEET_SOAK_LOG_LEVEL:-warning}")
if [ "$HEAPTRACK" = 1 ]; then
  COORD_CMD=(heaptrack -o "$DIR/coordinator.heaptrack" "${COORD_CMD[@]}")
fi
"${COORD_CMD[@]}" >"$DIR/coordinator.log" 2>&1 &
PIDS+=($!)
wait_for 60 "the coordinator's admin API" \
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$ADMIN_PORT"
COORD_PID=$(pgrep -n -f "certfleet-coordinator serve --config $CONFIG")

"$COORDINATOR" admin-identity create --config "$CONFIG" --name soak \
  --out "$DIR/admin.pem" >/dev/null
export CERTFLEET_COORDINATOR="127.0.0.1:$ADMIN_PORT" CERTFLEET_IDENTITY="$DIR/admin.pem"

agent_env() {
  local h=$1 port conf prefix log
  port=CERTFLEET_LAB_NGINX${h}_PORT conf=CERTFLEET_LAB_NGINX${h}_CONF
  prefix=CERTFLEET_LAB_NGINX${h}_PREFIX log=CERTFLEET_LAB_NGINX${h}_LOG
  echo "CERTFLEET_AGENT_DIR=$DIR/agent-$h" "CERTFLEET_DEMO_DIR=$DIR" \
    "CERTFLEET_COORDINATOR_PORT=$AGENT_PORT" \
    "CERTFLEET_NGINX_PORT=${!port}" "CERTFLEET_NGINX_CONF=${!conf}" \
    "CERTFLEET_NGINX_PREFIX=${!prefix}" "CERTFLEET_NGINX_LOG=${!log}"
}
AGENT_PIDS=()
for h in $(seq 1 "$AGENTS"); do
  # shellcheck disable=SC2046
  "$CTL" token create --labels role=web --ttl 1h | head -n 1 |
    env $(agent_env "$h") "$AGENT" enroll --config "$AGENT_CONFIG" \
      --token-file - >/dev/null
  # shellcheck disable=SC2046
  env $(agent_env "$h") "$AGENT" run --config "$AGENT_CONFIG" \
    --log-level "${CERTFLEET_SOAK_LOG_LEVEL:-warning}" >"$DIR/agent-$h.log" 2>&1 &
  PIDS+=($!)
  AGENT_PIDS+=($!)
done

# newest_version: the newest version number of "soak" (0 when none).
newest_version() {
  "$CTL" versions soak -o json 2>/dev/null | python3 -c '
import json, sys
vs = json.load(sys.stdin).get("versions", [])
print(max([v["version"] for v in vs], default=0))'
}
# rollout_done N: the latest rollout of soak moved every host to soak/N.
rollout_done() {
  "$CTL" rollout status soak -o json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
to = r.get("to_version")
ok = r.get("phase") == "complete" and str(to) in (sys.argv[1], "soak/" + sys.argv[1])
sys.exit(0 if ok else 1)' "$1"
}
# every agent serves version N (its status, read from disk).
agents_serve() {
  for h in $(seq 1 "$AGENTS"); do
    # shellcheck disable=SC2046
    env $(agent_env "$h") "$AGENT" status --config "$AGENT_CONFIG" 2>/dev/null |
      grep -q "soak/$1 " || return 1
  done
}
anon_kb() { awk '/^Anonymous:/ {print $2}' "/proc/$1/smaps_rollup"; }
# The database file itself: the WAL beside it is recycled at each checkpoint
# (SQLite's default: every 1,000 pages), so it is a bounded cost, not growth.
store_bytes() { stat -c %s "$DIR/coordinator.db"; }

# The first version reaches everyone without a rollout; wait for it.
issued() { [ "$(newest_version)" -ge 1 ]; }
wait_for 120 "the first version" issued
first=$(newest_version)
wait_for 120 "every agent to serve soak/$first" agents_serve "$first"

SAMPLES="$DIR/samples.tsv"
printf 'rollouts\tseconds\tcoordinator_anon_kb\tagent_anon_kb\tstore_bytes\n' >"$SAMPLES"
sample() {
  local n=$1 agents_kb=""
  for p in "${AGENT_PIDS[@]}"; do agents_kb+="$(anon_kb "$p"),"; done
  printf '%d\t%d\t%d\t%s\t%d\n' "$n" "$SECONDS" "$(anon_kb "$COORD_PID")" \
    "${agents_kb%,}" "$(store_bytes)" | tee -a "$SAMPLES"
}
printf 'ROLLOUTS\tSECONDS\tCOORD_ANON_KB\tAGENTS_ANON_KB\tSTORE_BYTES\n'
SECONDS=0
sample 0
version=$first
for n in $(seq 1 "$ROLLOUTS"); do
  "$CTL" renew soak >/dev/null
  version=$((version + 1))
  if ! wait_for 120 "rollout $n (soak/$version)" rollout_done "$version"; then
    tail -n 20 "$DIR/coordinator.log" >&2
    exit 1
  fi
  if [ $((n % EVERY)) -eq 0 ] || [ "$n" -eq "$WARMUP" ]; then sample "$n"; fi
done
[ $((ROLLOUTS % EVERY)) -eq 0 ] || sample "$ROLLOUTS"

python3 - "$SAMPLES" "$WARMUP" "$ROLLOUTS" <<'EOF'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
warm, total = int(sys.argv[2]), int(sys.argv[3])
by_n = {int(r[0]): r for r in rows}
a, b = by_n[warm], by_n[total]
span = total - warm
coord = (int(b[2]) - int(a[2])) / span
agents_a = [int(x) for x in a[3].split(",")]
agents_b = [int(x) for x in b[3].split(",")]
agent = max((y - x) / span for x, y in zip(agents_a, agents_b))
store = (int(b[4]) - int(a[4])) / span
secs = int(b[1]) / total
print(f"\nafter the first {warm} rollouts, per rollout over the next {span}:")
print(f"  coordinator anonymous memory  {coord:+.2f} KB  ({a[2]} -> {b[2]} KB)")
print(f"  agents' anonymous memory      {agent:+.2f} KB at most")
print(f"  store on disk                 {store/1024:+.2f} KB  ({int(a[4])//1024} -> {int(b[4])//1024} KB)")
print(f"  seconds per rollout           {secs:.2f}")
print(json.dumps({"rollouts": total, "warmup": warm,
                  "coordinator_anon_kb_per_rollout": round(coord, 3),
                  "agent_anon_kb_per_rollout_max": round(agent, 3),
                  "store_kb_per_rollout": round(store / 1024, 3),
                  "seconds_per_rollout": round(secs, 3)}))
EOF

if [ "$HEAPTRACK" = 1 ]; then
  kill "$COORD_PID"
  wait "${PIDS[1]}" 2>/dev/null || true
  # heaptrack compresses with zstd, or gzip where it lacks zstd; the other
  # pattern matches nothing (and ls fails on it: hence the || true).
  profile=$(ls "$DIR"/coordinator.heaptrack*.zst "$DIR"/coordinator.heaptrack*.gz 2>/dev/null | head -n 1 || true)
  echo
  echo "== heap profile: $profile"
  # What the heap held at its peak, by allocation site: in a soak that
  # only grows, the peak is the end, so this is what the rollouts left
  # behind (a graceful stop frees everything, so "leaks" say nothing here).
  # No --print-flamegraph: unlike the other --print-* switches it takes the
  # path of a file to write, so "--print-flamegraph 0" wrote a stack dump
  # named "0" into the repository root (committed by mistake in d4a1ba0).
  heaptrack_print -f "$profile" --print-leaks 0 --print-peaks 1 \
    --print-allocators 0 --print-temporary 0 --print-histogram 0 \
    -n 12 -s 0 2>/dev/null |
    grep -A2 "peak memory consumed" | grep -v '^--$' | paste - - - |
    cut -c1-160
fi
