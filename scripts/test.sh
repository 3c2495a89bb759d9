#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: unit tests
# and the integration tests against real Pebble and BIND9 started on
# loopback by the test harness; then builds the fuzz targets (clang, in
# build-fuzz) and runs each for CERTFLEET_CI_FUZZ_SECONDS (default 10) from
# its seeds. This is exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/build.sh
(cd build && ctest -j2 --output-on-failure --timeout 900)
# A separate clang build tree: the fuzz targets cannot share the gcc one.
./scripts/fuzz.sh "${CERTFLEET_CI_FUZZ_SECONDS:-10}"
