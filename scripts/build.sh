#!/usr/bin/env bash
# Installs dependencies (Debian packages) and builds vigil into build/.
# Usage: scripts/build.sh [--pgo] [extra cmake args...]
#   --pgo  profile-guided build of build-pgo/vigil: an instrumented build
#          (build-pgo-train/) runs scripts/pgo-train.sh, then build-pgo/ is
#          compiled with its profiles (tests not built unless
#          -DVIGIL_BUILD_TESTS=ON is passed). build/ is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
pgo=0
if [[ "${1:-}" == "--pgo" ]]; then
  pgo=1
  shift
fi
scripts/install-deps.sh
if [[ $pgo == 0 ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIGIL_PGO=OFF "$@" >/dev/null
  cmake --build build --parallel "$(nproc)"
  exit 0
fi
profiles="$PWD/build-pgo/profiles"
rm -rf "$profiles"
common=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DVIGIL_PGO_DIR="$profiles" -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF)
cmake -S . -B build-pgo-train "${common[@]}" -DVIGIL_PGO=generate "$@" >/dev/null
cmake --build build-pgo-train --parallel "$(nproc)" --target vigil
scripts/pgo-train.sh build-pgo-train/vigil
cmake -S . -B build-pgo "${common[@]}" -DVIGIL_PGO=use "$@" >/dev/null
cmake --build build-pgo --parallel "$(nproc)"
echo "build-pgo/vigil: built with the profiles of scripts/pgo-train.sh"
