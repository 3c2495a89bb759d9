#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, AddressSanitizer,
# UndefinedBehaviorSanitizer) into ./build-fuzz and runs each one for
# SECONDS (default 60), two at a time, on a fresh copy of its seed corpus
# (tests/fuzz/corpus/<target>/ is only read). Prints, per target, the
# executions and whether it found anything; exits 1 when one did, leaving
# the input in build-fuzz/fuzz-runs/<target>/artifacts/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET_REGEX]
#   FUZZ_JOBS (default 2): targets run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
each=${1:-60}
only=${2:-.}
if ! [[ "$each" =~ ^[0-9]+$ ]] || [ "$each" -lt 1 ]; then
  echo "usage: $0 [SECONDS] [TARGET_REGEX]" >&2
  exit 2
fi

./scripts/bootstrap.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
# -O1 without NDEBUG: assertions stay on (nlohmann's among them) and the
# sanitizers keep useful stacks.
cmake -S . -B build-fuzz -G Ninja -DCERTFLEET_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
ninja -C build-fuzz fuzzers

cd build-fuzz
rm -rf fuzz-runs
status=0
# One ctest test per target (label "fuzz"); each runs tests/fuzz/run_fuzzer.sh.
CERTFLEET_FUZZ_SECONDS=$each ctest -L fuzz -R "fuzz\.($only)" \
  -j "${FUZZ_JOBS:-2}" --timeout $((each + 300)) --output-on-failure \
  >fuzz-ctest.log 2>&1 || status=1

echo
echo "Fuzzing, ${each}s per target:"
for summary in fuzz-runs/*/summary; do
  [ -f "$summary" ] && echo "  $(cat "$summary")"
done
if [ "$status" -ne 0 ]; then
  echo "A target found something or did not finish; see build-fuzz/fuzz-ctest.log" >&2
  grep -A40 -E '^[0-9]+/[0-9]+ Test +#[0-9]+: fuzz\.[a-z_]+ .*(Failed|Timeout)' \
    fuzz-ctest.log >&2 || true
fi
exit "$status"
