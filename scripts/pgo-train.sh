#!/usr/bin/env bash
# The training workload of the profile-guided build (scripts/build.sh --pgo):
# what vigil spends its time on in use — decoding EVTX, converting to ECS
# NDJSON, reading that NDJSON, hunting with every Elastic Windows rule and
# the seed pack on one and on all cores, EQL queries. It reads the EVTX
# attack samples and the Elastic rules in ../shared (or $VIGIL_SHARED), never
# the OTRF datasets the hunt benchmark measures; without them, examples/.
# Usage: scripts/pgo-train.sh VIGIL_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
vigil=$1
shared=${VIGIL_SHARED:-../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rules=(--rules rules/windows)
if [[ -d "$shared/data/evtx-attack-samples" && -d "$shared/rules/elastic/windows" ]]; then
  rules+=(--rules "$shared/rules/elastic/windows")
  evtx=("$shared/data/evtx-attack-samples")
else
  echo "pgo-train: $shared not found; training on examples/ only" >&2
  evtx=(examples/sysmon-events.xml)
fi
"$vigil" convert "${evtx[@]}" -o "$work/events.ndjson" 2>/dev/null
# Several copies: the per-event work should outweigh loading the rules.
for _ in 1 2 3 4; do cat "$work/events.ndjson" examples/windows-ecs.ndjson; done > "$work/train.ndjson"
"$vigil" hunt -q "${rules[@]}" -o /dev/null "$work/train.ndjson"
"$vigil" hunt -q --threads 1 "${rules[@]}" -o /dev/null "$work/train.ndjson"
"$vigil" hunt -q "${rules[@]}" -o /dev/null "${evtx[@]}" 2>/dev/null
"$vigil" query --count 'process where process.name : ("rundll32.exe", "regsvr32.exe") and process.args : "*http*"' \
  "$work/train.ndjson" >/dev/null
grep -v '^//' examples/hunt-queries.eql | while IFS= read -r q; do
  "$vigil" query --threads 1 --count "$q" "$work/train.ndjson" >/dev/null
done
