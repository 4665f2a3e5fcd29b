#!/usr/bin/env python3
"""What a SigmaHQ hunt's time is made of, and what a target rate leaves for
the rules: runs taken in turn over the same input (-n rounds, medians; the
first round fills the rule caches and is not counted):

  simdjson           bench/simdjson_scan --strings: a bare simdjson parse
                     (DOM) reading every string of every document (the file
                     load excluded)
  read only          vigil query --threads 1 --count, a query matching
                     nothing: the NDJSON reader alone
  one rule           vigil hunt with one SigmaHQ process-creation rule: the
                     reader, the pipeline, triage context, one rule
  start              vigil hunt with the whole corpus over an empty file
  corpus - keywords  vigil hunt with the corpus less "Mimikatz Use", the one
                     keyword rule that searches every text of every event
  corpus             vigil hunt with SigmaHQ's Windows rules

then the time --target events/s per core allows, and what is left of it for
the 2,398 rules beyond the one: target - one rule - start.

usage: run_sigma_floor.py VIGIL SIMDJSON_SCAN SHARED_DIR INPUT.ndjson [-n N] [--target EVENTS_PER_S]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import warm  # noqa: E402

ONE_RULE = "process_creation/proc_creation_win_whoami_all_execution.yml"
KEYWORD_RULE = "builtin/win_alert_mimikatz_keywords.yml"


def wall(cmd, env):
    start = time.monotonic()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    secs = time.monotonic() - start
    if out.returncode not in (0, 1):
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return secs, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("simdjson_scan")
    ap.add_argument("shared")
    ap.add_argument("input")
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--target", type=float, default=500000)
    a = ap.parse_args()
    sigma = os.path.join(a.shared, "rules", "sigma", "sigmahq", "rules", "windows")
    events = warm(a.input)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, VIGIL_CACHE_DIR=os.path.join(tmp, "cache"))
        one = os.path.join(tmp, "one")
        os.makedirs(one)
        shutil.copy(os.path.join(sigma, ONE_RULE), one)
        less = os.path.join(tmp, "less")
        shutil.copytree(sigma, less)
        os.remove(os.path.join(less, KEYWORD_RULE))
        empty = os.path.join(tmp, "empty.ndjson")
        open(empty, "w").close()
        out = os.path.join(tmp, "alerts.ndjson")

        def hunt(rules, data):
            return [a.vigil, "hunt", "-q", "--threads", "1", "--rules", rules, data, "-o", out]

        runs = [
            ("simdjson", [a.simdjson_scan, "--strings", a.input]),
            ("read only",
             [a.vigil, "query", "--threads", "1", "--count", 'process where process.name == "-"', a.input]),
            ("one rule", hunt(one, a.input)),
            ("start", hunt(sigma, empty)),
            ("corpus - keywords", hunt(less, a.input)),
            ("corpus", hunt(sigma, a.input)),
        ]
        times = {name: [] for name, _ in runs}
        for round_ in range(a.n + 1):
            for name, cmd in runs:
                secs, stdout = wall(cmd, env)
                if name == "simdjson":
                    secs = float(re.search(r"parse_seconds=([\d.]+)", stdout).group(1))
                if round_ > 0:
                    times[name].append(secs)
    budget = events / a.target
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"{a.input}: {events} events, {os.path.getsize(a.input) / 1e6:.0f} MB; "
          f"medians of {a.n} rounds taken in turn")
    print(f"{'run':20} {'median s':>9} {'min s':>7} {'events/s':>10}")
    for name, t in times.items():
        rate = "" if name == "start" else f"{events / median[name]:10.0f}"
        print(f"{name:20} {median[name]:9.2f} {min(t):7.2f} {rate}")
    left = budget - median["one rule"] - median["start"]
    print(f"target {a.target:.0f} events/s: {budget:.2f} s; left for the rules beyond one "
          f"(target - one rule - start): {left:.2f} s = {left / events * 1e6:.2f} us per event; "
          f"the corpus takes {median['corpus'] - median['one rule'] - median['start']:.2f} s there, "
          f"its keyword rule alone {median['corpus'] - median['corpus - keywords']:.2f} s")


if __name__ == "__main__":
    main()
