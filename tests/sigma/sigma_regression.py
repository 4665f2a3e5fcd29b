#!/usr/bin/env python3
"""SigmaHQ's own regression suite, run by vigil: for every case under
regression_data (info.yml: a rule id and an EVTX recording), the rule must
fire on its recording, exactly `match_count` times where the case gives one.
A case whose rule vigil does not run (a log source other than Windows) must be
reported by `vigil rules check` as not run, with its reason.

The expected outcome of every case is pinned: the counts below and, in
tests/sigma/regression_known.toml, each case that does not pass with the
reason. The test fails on any change: a new failure, and also a listed case
that now passes (remove it from the list).

usage: sigma_regression.py VIGIL SIGMAHQ_DIR KNOWN_TOML"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

import yaml

# Cases (EVTX recordings) in the shared copy of the suite.
EXPECTED_CASES = 159


def rule_files(root):
    """Rule id → rule file, for every Sigma rule under `root`."""
    out = {}
    for folder in ("rules", "rules-emerging-threats", "rules-threat-hunting", "rules-placeholder", "deprecated",
                   "unsupported"):
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for f in files:
                if f.endswith((".yml", ".yaml")):
                    path = os.path.join(dirpath, f)
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        m = re.search(r"^id:\s*['\"]?([0-9a-fA-F-]{36})", fh.read(), re.M)
                    if m:
                        out.setdefault(m.group(1).lower(), path)
    return out


def main():
    vigil, root, known_path = sys.argv[1:4]
    with open(known_path, "rb") as f:
        known = {c["rule_id"]: c["reason"] for c in tomllib.load(f).get("case", [])}
    data = os.path.join(root, "regression_data")
    if not os.path.isdir(data):
        print(f"FAIL {data} is missing: this test reads SigmaHQ's regression suite in place")
        sys.exit(1)
    ids = rule_files(root)
    cases = []
    for dirpath, _, files in os.walk(data):
        if "info.yml" not in files:
            continue
        with open(os.path.join(dirpath, "info.yml"), encoding="utf-8") as f:
            info = yaml.safe_load(f)
        rule_id = info["rule_metadata"][0]["id"].lower()
        for t in info.get("regression_tests_info") or []:
            if t.get("type") != "evtx":
                continue
            evtx = os.path.join(root, t["path"])
            cases.append({"rule_id": rule_id, "title": info["rule_metadata"][0].get("title", ""),
                          "evtx": evtx, "match_count": t.get("match_count"), "rule": ids.get(rule_id)})
    cases.sort(key=lambda c: c["evtx"])
    failures = []
    if len(cases) != EXPECTED_CASES:
        failures.append(f"{len(cases)} cases found, {EXPECTED_CASES} expected")

    with tempfile.TemporaryDirectory() as tmp:
        rules = sorted({c["rule"] for c in cases if c["rule"]})
        check = subprocess.run([vigil, "rules", "check", "--no-rule-cache"] + rules, capture_output=True, text=True)
        not_run = {}  # rule file → reason
        for m in re.finditer(r"^(\S+?):\d+:\d+: (warning|error): (.*)$", check.stdout, re.M):
            not_run.setdefault(m.group(1), f"{m.group(2)}: {m.group(3)}")
        # One hunt per case, its rule over its recording, as SigmaHQ's runner
        # does (one hunt over every recording would report an event two
        # recordings share once, under the first file).
        def hunt(c):
            if not c["rule"] or c["rule"] in not_run:
                return 0, ""
            r = subprocess.run([vigil, "hunt", "-q", "--no-rule-cache", "--no-schedule", "--threads", "1",
                                "--rules", c["rule"], c["evtx"]], capture_output=True, text=True)
            if r.returncode != 0:
                return -1, f"hunt exit {r.returncode}: {r.stderr[-400:]}"
            return sum(json.loads(l)["kibana.alert.rule.rule_id"].lower() == c["rule_id"]
                       for l in r.stdout.splitlines() if l.strip()), ""
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            counts = list(pool.map(hunt, cases))
        for c, (n, err) in zip(cases, counts):
            c["fired"] = n
            if err:
                failures.append(f"{c['rule_id']}: {err}")

    passed = skipped = 0
    outcome = {}
    for c in cases:
        rid = c["rule_id"]
        if not c["rule"]:
            outcome[rid] = "no rule file with this id in the corpus"
        elif c["rule"] in not_run:
            outcome[rid] = "not run: " + not_run[c["rule"]]
        else:
            n = c["fired"]
            want = c["match_count"]
            if n == 0:
                outcome[rid] = "did not fire"
            elif want is not None and n != want:
                outcome[rid] = f"fired {n} times, match_count {want}"
            else:
                outcome[rid] = None
        result = outcome[rid]
        if result is None:
            passed += 1
            if rid in known:
                failures.append(f"{rid} ({c['title']}) passes now: remove it from {os.path.basename(known_path)}")
            continue
        skipped += result.startswith("not run")
        if rid not in known:
            failures.append(f"{rid} ({c['title']}): {result} [{os.path.relpath(c['evtx'], root)}]")
        else:
            print(f"known  {rid} ({c['title']}): {result} — {known[rid]}")
    for rid in known:
        if rid not in outcome:
            failures.append(f"{rid} is listed in {os.path.basename(known_path)} but is no case of the suite")
    print(f"SigmaHQ regression suite: {len(cases)} cases, {passed} pass, {len(cases) - passed} listed as known "
          f"({skipped} whose rule vigil does not run)")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
