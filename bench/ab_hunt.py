#!/usr/bin/env python3
"""Two (or more) vigil binaries, `vigil hunt -q --threads 1` (or --threads N) over the same
input with the same rules, run in turn N times each: wall time, and user
and system time from getrusage, min and median per binary. On a VM whose
speed drifts within the hour, only runs taken in turn compare.

Each binary gets its own rule cache (VIGIL_CACHE_DIR under a scratch
directory): a cache holds two builds of SigmaHQ's and Elastic's rules since
session 24 (8,192 entries; at 4,096 they evicted each other and runs parsed
the rules again), and a third binary would still push one out. The first
run of each binary fills its cache and is not counted. The input (a file,
or every file under a directory) is first put in the page cache as the
other benchmarks put theirs (benchlib.warm).

usage: ab_hunt.py --rules DIR [--rules DIR ...] --input FILE|DIR [-n N] [--threads T] VIGIL VIGIL [...]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import warm  # noqa: E402


def run(binary, rules, data, cache, out, threads):
    env = dict(os.environ, VIGIL_CACHE_DIR=cache)
    args = [binary, "hunt", "-q", "--threads", str(threads)]
    for r in rules:
        args += ["--rules", r]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(args + [data, "-o", out], env=env, stderr=subprocess.DEVNULL, check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", action="append", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("-n", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("vigil", nargs="+")
    a = ap.parse_args()
    if len(a.vigil) < 2:
        sys.exit("name two binaries or more")
    # In the page cache as a read from disk leaves it, as the other benchmarks
    # (a directory: every file under it, the EVTX samples).
    inputs = [a.input] if os.path.isfile(a.input) else sorted(
        os.path.join(d, f) for d, _, files in os.walk(a.input) for f in files)
    for path in inputs:
        warm(path)
    with tempfile.TemporaryDirectory() as tmp:
        caches = [os.path.join(tmp, f"cache-{i}") for i in range(len(a.vigil))]
        outs = [os.path.join(tmp, f"alerts-{i}.ndjson") for i in range(len(a.vigil))]
        for b, c, o in zip(a.vigil, caches, outs):
            run(b, a.rules, a.input, c, o, a.threads)  # fills the cache; not counted
        times = [[] for _ in a.vigil]
        for _ in range(a.n):
            for i, (b, c, o) in enumerate(zip(a.vigil, caches, outs)):
                times[i].append(run(b, a.rules, a.input, c, o, a.threads))
        alerts = [sum(1 for _ in open(o, "rb")) for o in outs]
    print(f"{a.n} runs each, in turn, --threads {a.threads}; seconds")
    print(f"{'binary':40s} {'wall min':>9s} {'median':>7s} {'user min':>9s} {'median':>7s} {'sys med':>8s} {'alerts':>7s}")
    for b, t, n in zip(a.vigil, times, alerts):
        w, u, s = ([x[k] for x in t] for k in range(3))
        print(f"{b[-40:]:40s} {min(w):9.2f} {statistics.median(w):7.2f} {min(u):9.2f} {statistics.median(u):7.2f} "
              f"{statistics.median(s):8.2f} {n:7d}")
    if len(set(alerts)) != 1:
        sys.exit("the binaries made different numbers of alerts")


if __name__ == "__main__":
    main()
