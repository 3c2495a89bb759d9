#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of certfleet from
# Debian's archive. Idempotent: packages already present are skipped, so a
# second run does no network work.
set -euo pipefail

BUILD_PKGS=(
  cmake ninja-build ccache g++ pkg-config openssl git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libyaml-cpp-dev libssl-dev libgtest-dev libgmock-dev
  nlohmann-json3-dev libcurl4-openssl-dev libsqlite3-dev libldns-dev
  libcpp-httplib-dev libspdlog-dev libfmt-dev
)
# clang with libFuzzer and the sanitizer runtimes (libclang-rt-14-dev holds
# libclang_rt.fuzzer*.a and libclang_rt.tsan*.a), and llvm-symbolizer for
# readable reports: the fuzz targets (scripts/fuzz.sh) and the
# ThreadSanitizer / -Wthread-safety build (scripts/tsan.sh); clang-format-14
# for scripts/format_check.sh.
FUZZ_PKGS=(clang-14 libclang-rt-14-dev llvm-14 clang-format-14)
# Real servers for integration tests and peers for benchmarks.
LAB_PKGS=(
  pebble bind9 bind9-dnsutils nginx haproxy etcd-server etcd-client
  golang-etcd-server-dev golang-github-gogo-protobuf-dev
  golang-github-grpc-ecosystem-grpc-gateway-dev
  lego certbot python3-certbot-dns-rfc2136 procps psmisc
  # tests/hygiene: systemd-analyze (unit verify, security, syscall filter
  # groups; nothing is started) and strace (the agent's system calls).
  systemd strace
)

missing=()
for p in "${BUILD_PKGS[@]}" "${FUZZ_PKGS[@]}" "${LAB_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all dependencies present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps packaged daemons (bind9, nginx, etcd) from starting; the
# tests run their own instances on loopback.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
