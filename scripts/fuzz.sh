#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + ASan + UBSan) of the parsers that read
# attacker-controlled input: NDJSON documents, EQL text, rule TOML, KQL, ES|QL,
# EVTX files, Windows event XML, Sigma YAML and Sysmon configurations; and events through the whole hunt.
# Builds build-fuzz/ with Clang, seeds each target from examples/, rules/
# and ../shared (or $VIGIL_SHARED), then runs each for SECONDS (default 60).
# A crash, leak, hang (> 10 s) or sanitizer report stops with the input
# saved as build-fuzz/crash-*; the script then exits 1.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   (targets: ndjson eql rule kql esql evtx event_xml hunt sigma sysmon_config; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(ndjson eql rule kql esql evtx event_xml hunt sigma sysmon_config)
shared=${VIGIL_SHARED:-../shared}

scripts/install-deps.sh
for p in clang-14 libclang-rt-14-dev; do  # the compiler; libFuzzer and the sanitizer runtimes
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$p"
  fi
done
CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_FUZZ=ON \
  -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF -DVIGIL_WERROR=OFF >/dev/null
cmake --build build-fuzz --parallel "$(nproc)" --target "${targets[@]/#/fuzz_}"

corpus=build-fuzz/corpus
seed() {  # seed TARGET NAME < bytes
  mkdir -p "$corpus/$1"
  cat > "$corpus/$1/seed-$2"
}
# What fuzzing found before and the hand-written seeds (CTest replays both).
for dir in fuzz/regressions/* fuzz/seeds/*; do
  for f in "$dir"/*; do seed "$(basename "$dir")" "$(basename "$f")" < "$f"; done
done
n=0
while IFS= read -r line; do seed ndjson "example-$((n++))" <<< "$line"; done < examples/windows-ecs.ndjson
n=0
grep -v '^//' examples/hunt-queries.eql | while IFS= read -r q; do seed eql "example-$((n++))" <<< "$q"; done
for f in rules/windows/*.toml; do seed rule "$(basename "$f")" < "$f"; done
seed event_xml example < examples/sysmon-events.xml
for f in rules/tests/*/events.ndjson; do seed hunt "$(basename "$(dirname "$f")")" < "$f"; done
seed hunt example < examples/windows-ecs.ndjson
seed kql example <<< 'event.category:process and process.name:(cmd.exe or "power shell.exe" or pw*) and not user.id:"S-1-5-18"'
if [[ -d "$shared" ]]; then
  for f in "$shared"/rules/elastic/windows/*.toml; do
    [[ $((RANDOM % 20)) == 0 ]] && seed rule "$(basename "$f")" < "$f"
    if grep -q '^language = "kuery"' "$f"; then
      sed -n "/^query = '''/,/^'''/p" "$f" | sed '1d;$d' | seed kql "$(basename "$f")"
    fi
    if grep -q '^language = "esql"' "$f"; then
      sed -n "/^query = '''/,/^'''/p" "$f" | sed '1d;$d' | seed esql "$(basename "$f")"
    fi
  done
  # A sample of SigmaHQ's Windows rules.
  while IFS= read -r f; do
    [[ $((RANDOM % 40)) == 0 ]] && seed sigma "$(basename "$f")" < "$f"
  done < <(find "$shared"/rules/sigma/sigmahq/rules/windows -name '*.yml' | sort)
  for f in "$shared"/sysmon-configs/*.xml; do seed sysmon_config "$(basename "$f")" < "$f"; done
  # The file header and first chunk of a Sysmon log.
  head -c 69632 "$shared/data/evtx-edge-cases/sysmon.evtx" | seed evtx sysmon
fi

declare -A max_len=([ndjson]=8192 [eql]=2048 [rule]=16384 [kql]=2048 [esql]=16384 [evtx]=69632 [event_xml]=32768 [hunt]=16384 [sigma]=16384 [sysmon_config]=262144)
status=0
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t"
  echo "== fuzz_$t: $seconds s"
  if ! (cd build-fuzz && fuzz/fuzz_"$t" -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "corpus/$t" 2>&1 | tail -12); then
    status=1
  fi
done
exit $status
