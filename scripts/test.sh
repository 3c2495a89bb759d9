#!/usr/bin/env bash
# Installs what is missing, checks the formatting (clang-format), builds
# everything and runs every test: unit tests and the integration tests
# against real Pebble and BIND9 started on loopback by the test harness; then
# builds the product and the unit tests with clang under ThreadSanitizer and
# -Wthread-safety (build-tsan) and runs the unit tests there; then builds the
# fuzz targets (clang, in build-fuzz) and runs each for
# CERTFLEET_CI_FUZZ_SECONDS (default 10) from its seeds. This is exactly what
# CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/format_check.sh
./scripts/build.sh
# Every test is labelled unit or integration (tests/CMakeLists.txt): an
# unlabelled one would silently be left out of the ThreadSanitizer run.
unlabelled=$(cd build && ctest -N -LE '^(unit|integration)$' |
  sed -n 's/^Total Tests: //p')
if [ "$unlabelled" != "0" ]; then
  echo "tests with neither label unit nor integration:" >&2
  (cd build && ctest -N -LE '^(unit|integration)$') >&2
  exit 1
fi
(cd build && ctest -j2 --output-on-failure --timeout 900)
# Separate clang build trees: the sanitizers cannot share the gcc one, nor
# ThreadSanitizer the fuzzers' AddressSanitizer.
./scripts/tsan.sh
./scripts/fuzz.sh "${CERTFLEET_CI_FUZZ_SECONDS:-10}"
