#!/usr/bin/env python3
"""End-to-end query benchmark (the Foundation issue's targets):
  vigil query --count 'process where process.name : "*.exe"' FILE
against (a) a bare simdjson On-Demand scan that reads process.name from
every document (bench/simdjson_scan) and (b) the reference EQL
implementation (../shared/eql/oracle) on the same file and query.
Prints wall time, MB/s, events/s and peak RSS for each, and the ratios.

usage: run_query_bench.py BUILD_DIR SHARED_EQL_DIR DATA.ndjson [--runs 3] [--skip-oracle]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed, warm  # noqa: E402

QUERY = 'process where process.name : "*.exe"'


def best_of(cmd, runs):
    results = [timed(cmd) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("shared_eql")
    ap.add_argument("data")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-oracle", action="store_true")
    a = ap.parse_args()
    size = os.path.getsize(a.data)
    events = warm(a.data)
    rows = []
    scan = best_of([f"{a.build}/bench/simdjson_scan", a.data], a.runs)
    rows.append(("simdjson On-Demand scan (baseline)", scan[0], scan[1], ""))
    # One core against the (one-core) baseline; then every core.
    vig = best_of([f"{a.build}/vigil", "query", "--threads", "1", "--count", QUERY, a.data], a.runs)
    rows.append(("vigil query --count --threads 1", vig[0], vig[1], vig[2].strip()))
    every = best_of([f"{a.build}/vigil", "query", "--count", QUERY, a.data], a.runs)
    rows.append((f"vigil query --count ({os.cpu_count()} threads)", every[0], every[1], every[2].strip()))
    oracle = None
    if not a.skip_oracle:
        oracle = timed(["/usr/bin/python3", f"{a.shared_eql}/oracle/oracle.py", "--es", "--ids", "event.sequence",
                        QUERY, a.data])
        rows.append(("reference EQL (oracle.py --es)", oracle[0], oracle[1], str(len(oracle[2].split()))))
    print(f"data: {a.data}: {size / 1e6:.0f} MB, {events} events; query: {QUERY}")
    print(f"{'engine':38} {'seconds':>8} {'MB/s':>8} {'events/s':>11} {'peak RSS':>10}  matches")
    for name, secs, rss, matches in rows:
        print(f"{name:38} {secs:8.2f} {size / secs / 1e6:8.1f} {events / secs:11.0f} {rss / 1024:8.0f}MB  {matches}")
    print(f"vigil (1 thread) / baseline time: {vig[0] / scan[0]:.2f}x (target <= 3x)")
    if oracle:
        print(f"reference / vigil (1 thread) time: {oracle[0] / vig[0]:.1f}x (target >= 20x)")
        if oracle[2].split() and len(oracle[2].split()) != int(vig[2].strip()):
            print("WARNING: match counts differ")


if __name__ == "__main__":
    main()
