#!/usr/bin/env bash
# Runs one libFuzzer target for a while on a fresh copy of its seeds and
# says how it went. The ctest test of each target (tests/fuzz/CMakeLists.txt)
# and scripts/fuzz.sh call it.
#
# Usage: run_fuzzer.sh FUZZER SEED_DIR WORK_DIR [SECONDS]
#   SECONDS defaults to $CERTFLEET_FUZZ_SECONDS, else 10.
# WORK_DIR is emptied, then holds corpus/ (the seeds plus what the run
# found; the seed directory itself is only read), artifacts/ (the input of a
# crash, leak, timeout or out-of-memory), log (libFuzzer's output) and
# summary (the line printed at the end). Exit status 0 when the run ended
# without a finding, 1 otherwise.
set -uo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 FUZZER SEED_DIR WORK_DIR [SECONDS]" >&2
  exit 2
fi
fuzzer=$1 seeds=$2 work=$3
duration=${4:-${CERTFLEET_FUZZ_SECONDS:-10}}
name=$(basename "$fuzzer")
name=${name%_fuzzer}

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
if [ -x "$symbolizer" ]; then export ASAN_SYMBOLIZER_PATH=$symbolizer; fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# New inputs go to the first directory (the copy), never to the seeds.
# -timeout: one input taking longer is a finding (a parser that hangs);
# -rss_limit_mb: so is one needing that much memory.
"$fuzzer" -max_total_time="$duration" -timeout=25 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/corpus" "$seeds" >"$work/log" 2>&1
status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
runs=${runs:-0}
inputs=$(find "$work/corpus" -type f | wc -l)
finding=$(find "$work/artifacts" -type f | head -1)
if [ "$status" -eq 0 ] && [ -z "$finding" ]; then
  line="$name: $runs executions in ${duration}s, $inputs new inputs, no crash"
  echo "$line" | tee "$work/summary"
  exit 0
fi
line="$name: FAILED after $runs executions (exit $status)"
if [ -n "$finding" ]; then line="$line; input saved at $finding"; fi
line="$line; log at $work/log"
echo "$line" | tee "$work/summary"
# The sanitizer's or the check's report, for the CI log.
grep -n -m1 -A40 -E '^==[0-9]+==ERROR|runtime error|FUZZ_CHECK|deadly signal|ERROR: libFuzzer' \
  "$work/log" >&2
exit 1
