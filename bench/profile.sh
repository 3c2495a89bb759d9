#!/usr/bin/env bash
# Profiles the coordinator's CPU during one measured pass: runs the issuance
# benchmark for N certificates (default 200) with the measured pass under
# `perf record -e cpu-clock --call-graph dwarf`, then prints where the CPU
# went (bench/perf_summary.py) and perf's own inclusive report.
#   bench/profile.sh [N] [OUT_DIR]
# Needs perf (Debian: linux-perf); hardware counters are not needed.
# CERTFLEET_COORDINATOR=/path/to/certfleet-coordinator profiles another
# coordinator binary instead of build/coordinator/certfleet-coordinator.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
OUT="${2:-/tmp/certfleet-profile}"
mkdir -p "$OUT"
if ! perf record -e cpu-clock -o "$OUT/check.data" true >/dev/null 2>&1; then
  echo "perf cannot record here (perf_event_paranoid? missing linux-perf?)" >&2
  exit 1
fi
./scripts/build.sh certfleet-coordinator certfleet-bench-issuance
build/bench/certfleet-bench-issuance \
  --coordinator "${CERTFLEET_COORDINATOR:-build/coordinator/certfleet-coordinator}" \
  --n "$N" --skip-lego --skip-wildcard \
  --wrap "perf record -q -e cpu-clock -F 1999 --call-graph dwarf,16384 -o $OUT/perf.data --" \
  | tee "$OUT/bench.txt"
perf script -i "$OUT/perf.data" 2>/dev/null > "$OUT/perf.txt"
bench/perf_summary.py "$OUT/perf.txt" --certificates "$N" | tee "$OUT/summary.txt"
perf report -i "$OUT/perf.data" --children --sort sym -g none --percent-limit 2 \
  2>/dev/null | grep -v '^#' | grep -v '^$' | grep -v '0x0000' \
  > "$OUT/perf-children.txt" || true
echo "perf data, its text and summaries are in $OUT"
