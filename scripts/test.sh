#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: unit tests
# and the integration tests against real Pebble and BIND9 started on
# loopback by the test harness. This is exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/build.sh
cd build
ctest -j2 --output-on-failure --timeout 900
