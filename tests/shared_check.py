#!/usr/bin/env python3
"""Checks that ../shared holds what the tests read, file counts pinned: the
CTest fixture `shared_data` runs this first, and every test that reads
../shared requires it, so with ../shared missing or short those tests show as
failed ("Not Run", named in CTest's summary) instead of passing on nothing.

usage: shared_check.py SHARED_DIR
"""
import glob
import os
import sys

# (what, glob under SHARED_DIR, how many files it holds today)
EXPECTED = [
    ("EVTX attack samples", "data/evtx-attack-samples/**/*.evtx", 277),
    ("EVTX edge cases", "data/evtx-edge-cases/**/*.evtx", 23),
    ("OTRF datasets (archives)", "data/otrf-security-datasets/**/*.zip", 116),
    ("OTRF datasets (tar.gz)", "data/otrf-security-datasets/**/*.tar.gz", 7),
    ("more samples", "data/more-samples/*/*", 10),
    ("Elastic Windows rules", "rules/elastic/windows/*.toml", 487),
    ("EQL conformance suites", "eql/**/*.toml", 13),
    ("EQL reference implementation", "eql/oracle/oracle.py", 1),
    ("Sysmon configurations", "sysmon-configs/*.xml", 4),
    ("SigmaHQ Windows rules", "rules/sigma/sigmahq/rules/windows/**/*.yml", 2407),
    ("SigmaHQ regression recordings", "rules/sigma/sigmahq/regression_data/**/*.evtx", 159),
]


def main():
    shared = sys.argv[1]
    problems = []
    if not os.path.isdir(shared):
        problems.append(f"{shared} does not exist: the tests that read ../shared cannot run")
    else:
        for what, pattern, expected in EXPECTED:
            n = len(glob.glob(os.path.join(shared, pattern), recursive=True))
            if n != expected:
                problems.append(f"{what}: {n} files match {pattern}, expected {expected}")
    for p in problems:
        print("FAIL", p)
    if not problems:
        print(f"{shared}: every pinned count matches ({len(EXPECTED)} checks)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
