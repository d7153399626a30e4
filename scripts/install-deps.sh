#!/usr/bin/env bash
# Installs the build and test dependencies from Debian 12's packages; with --bench also the
# benchmark's tools and the proxies it compares Hermes with (nginx, HAProxy, Caddy). Idempotent:
# when everything is present it only checks, which takes well under a second.
set -euo pipefail

bench=0
case "${1:-}" in
  "") ;;
  --bench) bench=1 ;;
  *) echo "usage: scripts/install-deps.sh [--bench]" >&2; exit 2 ;;
esac

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libssl-dev libspdlog-dev libsqlite3-dev libyaml-cpp-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libxxhash-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev  # make fuzz (libFuzzer)
  curl python3 procps
)
(( bench )) && packages+=(wrk)
# Services: installed with no service started, and kept from starting at boot (bench/compare
# runs each on its own config and ports).
peers=()
(( bench )) && peers=(nginx-light haproxy caddy)

missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
mapfile -t missing_packages < <(missing "${packages[@]}")
mapfile -t missing_peers < <(missing "${peers[@]}")
[ ${#missing_packages[@]} -eq 0 ] && [ ${#missing_peers[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ ${#missing_packages[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing_packages[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing_packages[@]}"
fi
if [ ${#missing_peers[@]} -gt 0 ]; then
  echo "install-deps: installing the benchmark peers ${missing_peers[*]} (not started, not enabled at boot)"
  source "$(dirname "$0")/service-guard.sh"
  without_service_starts $SUDO apt-get install -y -qq --no-install-recommends "${missing_peers[@]}"
  for p in "${missing_peers[@]}"; do
    service=${p%-light}
    if command -v systemctl >/dev/null; then
      $SUDO systemctl disable --quiet "$service" 2>/dev/null || true
    fi
    if [ -x "/etc/init.d/$service" ] && command -v update-rc.d >/dev/null; then
      $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
  done
fi
