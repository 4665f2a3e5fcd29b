#!/usr/bin/env bash
# Quick start: install, build, and hunt through the shipped sample telemetry.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
sample=examples/windows-ecs.ndjson
run() {
  echo
  echo "\$ build/vigil query '$1' $sample"
  build/vigil query "$1" "$sample"
}
run 'process where process.name : "regsvr32.exe" and process.args : ("/i:http*", "-i:http*")'
run 'registry where registry.path : ("HKLM\\SYSTEM\\ControlSet*\\Services\\*\\ServiceDLL", "HKLM\\SYSTEM\\ControlSet*\\Services\\*\\ImagePath")'
run 'library where dll.code_signature.status : "unsigned" and dll.path : ("?:\\Users\\*", "?:\\ProgramData\\*")'
echo
echo "\$ build/vigil query --count 'any where true' $sample"
build/vigil query --count 'any where true' "$sample"
echo
echo "\$ build/vigil query 'sequence by process.pid with maxspan=1m [process where process.name : \"regsvr32.exe\"] [network where true] [library where dll.code_signature.status : \"unsigned\"]' $sample"
build/vigil query 'sequence by process.pid with maxspan=1m [process where process.name : "regsvr32.exe"] [network where true] [library where dll.code_signature.status : "unsigned"]' "$sample"
echo
echo "\$ build/vigil query --fields event.code,process.name,process.parent.name 'process where event.code == \"1\"' examples/sysmon-events.xml"
build/vigil query --fields event.code,process.name,process.parent.name 'process where event.code == "1"' examples/sysmon-events.xml
echo
alerts="${TMPDIR:-/tmp}/vigil-demo-alerts.ndjson"
rules=(--rules rules/windows)
[[ -d ../shared/rules/elastic/windows ]] && rules+=(--rules ../shared/rules/elastic/windows)
report="${TMPDIR:-/tmp}/vigil-demo-report.html"
echo "\$ build/vigil hunt ${rules[*]} examples/sysmon-events.xml $sample -o $alerts --report $report"
build/vigil hunt "${rules[@]}" examples/sysmon-events.xml "$sample" -o "$alerts" --report "$report"
echo
echo "first alert document ($alerts):"
head -n 1 "$alerts" | cut -c 1-1500
echo
echo "\$ build/vigil coverage --rules rules/windows examples/sysmon-events.xml"
build/vigil coverage --rules rules/windows examples/sysmon-events.xml
echo
echo "The triage report of these alerts (one offline HTML file; open it in any browser): $report"
