#!/usr/bin/env python3
"""Runs the ES|QL semantics cases: every tests/esql/semantics/*.toml holds
[[case]] tables with a `query`, its input `events` (JSON documents, one per
string), the time NOW() returns (`now`, optional) and either the expected
result `rows` (JSON objects, one per string; in order unless `ordered =
false`) or the expected `error` code (`vigil query --esql` exits 2 and names
it). Each case runs `vigil query --esql QUERY EVENTS --format ndjson`.

usage: semantics.py VIGIL CASES_DIR
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import tomllib


def main():
    vigil, cases_dir = sys.argv[1:3]
    failures, passed = [], 0
    for path in sorted(glob.glob(os.path.join(cases_dir, "*.toml"))):
        with open(path, "rb") as f:
            cases = tomllib.load(f)["case"]
        for case in cases:
            label = f"{os.path.basename(path)}: {case['name']}"
            with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as events:
                for e in case.get("events", []):
                    events.write(json.dumps(json.loads(e)) + "\n")
            cmd = [vigil, "query", "--esql", case["query"], events.name, "--format", "ndjson",
                   "--now", case.get("now", "2024-05-01T12:00:00Z")]
            run = subprocess.run(cmd, capture_output=True, text=True)
            os.unlink(events.name)
            if "error" in case:
                if run.returncode != 2 or case["error"] not in run.stderr:
                    failures.append(f"{label}: expected error {case['error']}, got exit {run.returncode}: {run.stderr.strip()}")
                else:
                    passed += 1
                continue
            if run.returncode != 0:
                failures.append(f"{label}: exit {run.returncode}: {run.stderr.strip()}")
                continue
            got = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
            want = [json.loads(r) for r in case["rows"]]
            if not case.get("ordered", True):
                got = sorted(got, key=lambda r: json.dumps(r, sort_keys=True))
                want = sorted(want, key=lambda r: json.dumps(r, sort_keys=True))
            # Columns in order, as ES|QL returns them.
            if [list(r.items()) for r in got] != [list(r.items()) for r in want]:
                failures.append(f"{label}:\n    got  {got}\n    want {want}")
            else:
                passed += 1
    for f in failures:
        print("FAIL", f)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
