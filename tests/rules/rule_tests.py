#!/usr/bin/env python3
"""Runs the seed pack's rule tests: for every rule in RULES_DIR, the cases in
TESTS_DIR/<rule file stem>/cases.toml. Each case runs `vigil hunt
--no-schedule --rules RULE INPUT` and checks the number of alerts (sequence
building blocks not counted) and, when given, the values of one field of the
alerting events, and with `reason_contains = "text"` that every alert's
kibana.alert.reason contains the text. A case with `baseline = [INPUT...]` first learns a baseline
from those inputs with the same rule (`vigil baseline learn`) and hunts with
it (`--baseline`). Every rule must have cases.

A case with `schedule = true` hunts with the rule's schedule (threshold rules:
their windows are the point). With --only-with-cases, rules without a cases
directory are skipped (Elastic's rules: only those with tests here).

usage: rule_tests.py VIGIL RULES_DIR TESTS_DIR SHARED_DATA [--only-with-cases]
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import tomllib


def field(doc, path):
    """The value at a dotted path, through nested objects and dotted keys alike
    ("kibana.alert.threshold_result.count" is key "kibana.alert.threshold_result", then "count")."""
    if path in doc:
        return doc[path]
    parts = path.split(".")
    for i in range(1, len(parts)):
        head = ".".join(parts[:i])
        if isinstance(doc.get(head), dict):
            found = field(doc[head], ".".join(parts[i:]))
            if found is not None:
                return found
    return None


def main():
    vigil, rules_dir, tests_dir, shared = sys.argv[1:5]
    only_with_cases = "--only-with-cases" in sys.argv[5:]
    failures, passed = [], 0
    rules = sorted(glob.glob(os.path.join(rules_dir, "**", "*.toml"), recursive=True))
    for rule in rules:
        stem = os.path.splitext(os.path.basename(rule))[0]
        cases_file = os.path.join(tests_dir, stem, "cases.toml")
        if not os.path.exists(cases_file):
            if not only_with_cases:
                failures.append(f"{stem}: no {cases_file}")
            continue
        with open(cases_file, "rb") as f:
            cases = tomllib.load(f)["case"]
        def where(src):
            return os.path.join(shared, src[7:]) if src.startswith("shared:") else os.path.join(tests_dir, stem, src)

        for case in cases:
            path = where(case["input"])
            extra = []
            if "baseline" in case:
                tmp = tempfile.mkdtemp()
                db = os.path.join(tmp, "baseline.db")
                learned = subprocess.run([vigil, "baseline", "learn", "-q", "--rules", rule, "-b", db] +
                                         [where(b) for b in case["baseline"]], capture_output=True)
                if learned.returncode != 0:
                    failures.append(f"{stem}: {case['name']}: baseline learn exit {learned.returncode}: "
                                    f"{learned.stderr.decode()[:300]}")
                    continue
                extra = ["--baseline", db]
            timing = [] if case.get("schedule") else ["--no-schedule"]
            r = subprocess.run([vigil, "hunt"] + timing + ["-q", "--rules", rule] + extra + [path],
                               capture_output=True)
            alerts = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
            alerts = [a for a in alerts if "kibana.alert.building_block_type" not in a]
            label = f"{stem}: {case['name']}"
            if r.returncode != 0:
                failures.append(f"{label}: exit {r.returncode}: {r.stderr.decode()[:300]}")
            elif len(alerts) != case["alerts"]:
                failures.append(f"{label}: {len(alerts)} alerts, expected {case['alerts']}")
            elif "expect_field" in case and sorted((field(a, case["expect_field"]) for a in alerts), key=json.dumps) != sorted(case["expect_values"], key=json.dumps):
                failures.append(f"{label}: {case['expect_field']} = {[field(a, case['expect_field']) for a in alerts]}, "
                                f"expected {case['expect_values']}")
            elif "reason_contains" in case and any(case["reason_contains"] not in a.get("kibana.alert.reason", "")
                                                   for a in alerts):
                failures.append(f"{label}: a reason lacks {case['reason_contains']!r}: "
                                f"{[a.get('kibana.alert.reason') for a in alerts]}")
            else:
                passed += 1
    for f in failures:
        print("FAIL", f)
    if only_with_cases and passed + len(failures) == 0:
        failures.append(f"no rule of {rules_dir} has cases in {tests_dir}")
    print(f"{len(rules)} rules, {passed} cases passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
