#!/usr/bin/env bash
# Configures and builds certfleet (ninja, ccache) into ./build.
# Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCERTFLEET_WERROR=ON -DCERTFLEET_SKIP_DIRS="" >/dev/null
ninja -C build "$@"
