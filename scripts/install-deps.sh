#!/usr/bin/env bash
# Installs every Debian package vigil's build, tests and benchmarks need.
# Idempotent; run as root on Debian 12 (bookworm).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # libraries vigil links
  libsimdjson-dev libre2-dev libvectorscan-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  zlib1g-dev libzstd-dev libarchive-dev libpugixml-dev libsqlite3-dev libyaml-cpp-dev
  # the vigil binary's allocator (src/cli/allocator.cpp)
  libjemalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # reference EQL implementation used by the differential test (run, never linked)
  python3 python3-lark python3-toml
  # the Sigma tests' independent evaluator reads the rules' YAML
  python3-yaml
  # reference EVTX decoders: the comparison test and the benchmark run them (never linked)
  python3-evtx libevtx-utils
  # streaming: the NATS C client vigil links, and the server its tests start on loopback
  libnats-dev nats-server
  # the HTML report's tests and benchmark load it in a real browser (headless)
  chromium fonts-dejavu-core
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
