# Shell helpers shared by scripts/demo.sh and the benchmark scripts; source
# it after `cd` to the repository root.
#
#   . scripts/lib.sh
#   start_bg some-server --flag      # remembered in PIDS, stopped at exit
#   wait_for 30 "the server" test -f ready

# Background processes started for this run, stopped (last first) at exit.
PIDS=()
stop_started() {
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
}
trap stop_started EXIT

# wait_for SECONDS WHAT COMMAND...: runs COMMAND every 0.1 s until it
# succeeds; after SECONDS says what it waited for and fails.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "timed out after ${seconds}s waiting for $what" >&2
  return 1
}
