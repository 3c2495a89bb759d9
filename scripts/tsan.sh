#!/usr/bin/env bash
# Builds the product code and the unit tests with clang 14 into ./build-tsan,
# once for two checks:
#   - the lock annotations (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED...)
#     under -Wthread-safety, as errors (CERTFLEET_WERROR);
#   - ThreadSanitizer (CERTFLEET_TSAN): the unit tests (ctest label `unit`,
#     not the integration suite) run instrumented; any report fails them.
# Debian's abseil, gRPC, protobuf and OpenSSL are not instrumented:
# tests/tsan/ tells ThreadSanitizer about abseil's mutexes, and tsan.supp
# lists what it ignores inside those libraries, and why.
# Usage: scripts/tsan.sh [CTEST_REGEX]
#   TSAN_JOBS (default 2): tests run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${1:-.}

./scripts/bootstrap.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
# -O1 without NDEBUG, as the sanitizer documentation advises: assertions on,
# tests not much slower than -O2. -gline-tables-only: reports still name
# every frame's file and line (inlined ones too), and compiling takes about
# 15 % less than with -g.
cmake -S . -B build-tsan -G Ninja -DCERTFLEET_TSAN=ON -DCERTFLEET_WERROR=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" >/dev/null
# The unit tests (and what they run: certfleetctl) and the two daemons, so
# that every product source file goes through -Wthread-safety.
ninja -C build-tsan unit_tests certfleet-coordinator certfleet-agent

cd build-tsan
# The options and suppressions (tests/tsan/tsan.supp) are compiled into each
# executable: a report fails its test (exit status 66), whoever runs it.
ctest -L unit -R "$only" -j "${TSAN_JOBS:-2}" --timeout 900 \
  --output-on-failure
