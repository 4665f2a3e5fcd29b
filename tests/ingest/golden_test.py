#!/usr/bin/env python3
"""Golden tests of the Windows → ECS mapping on real records: each input in
tests/ingest/golden/ (event XML as wevtutil exports it, or an OTRF JSON line;
SOURCES.md says where each comes from) is converted with `vigil convert` and
must give exactly the document in NAME.expected.json.

usage: golden_test.py VIGIL GOLDEN_DIR [--update]
"""
import glob
import json
import os
import subprocess
import sys

import strict_json


def main():
    vigil, golden = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv
    inputs = sorted(glob.glob(os.path.join(golden, "*.xml")) + glob.glob(os.path.join(golden, "*.json")))
    inputs = [p for p in inputs if not p.endswith(".expected.json")]
    failures = []
    for path in inputs:
        r = subprocess.run([vigil, "convert", path], capture_output=True)
        try:
            docs = [strict_json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        except ValueError as e:
            failures.append(f"{path}: {e}")
            continue
        expected_path = os.path.splitext(path)[0] + ".expected.json"
        if r.returncode != 0 or len(docs) != 1:
            failures.append(f"{path}: exit {r.returncode}, {len(docs)} documents: {r.stderr.decode()[:300]}")
            continue
        if update:
            with open(expected_path, "w") as f:
                json.dump(docs[0], f, indent=2, sort_keys=True, ensure_ascii=False)
                f.write("\n")
            continue
        with open(expected_path) as f:
            expected = json.load(f)
        if docs[0] != expected:
            diff = [k for k in sorted(set(expected) | set(docs[0])) if expected.get(k) != docs[0].get(k)]
            failures.append(f"{os.path.basename(path)}: differs in {diff}: got {json.dumps(docs[0])[:600]}")
    for f in failures:
        print("FAIL", f)
    print(f"{len(inputs) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
