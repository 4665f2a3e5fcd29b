#!/usr/bin/env python3
"""`vigil hunt` with every Elastic Windows EQL rule over the OTRF datasets
converted to ECS NDJSON (real telemetry, 2.4 GB): MB/s, events/s and peak
memory, next to the bare read of the same file (`vigil query` with a query
that matches nothing) to separate reading from matching.

usage: run_hunt_bench.py VIGIL SHARED_DIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed, warm  # noqa: E402


def main():
    vigil, shared = sys.argv[1], sys.argv[2]
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "otrf.ndjson")
    if not os.path.exists(data):
        subprocess.run([vigil, "convert", os.path.join(shared, "data", "otrf-security-datasets"), "-o", data],
                       check=True, stderr=subprocess.DEVNULL)
    size = os.path.getsize(data)
    events = warm(data)
    rules = os.path.join(shared, "rules", "elastic", "windows")
    read_s, read_rss, _, _ = min((timed([vigil, "query", "--count", "any where false", data]) for _ in range(3)),
                                 key=lambda r: r[0])
    read1_s, read1_rss, _, _ = min((timed([vigil, "query", "--threads", "1", "--count", "any where false", data])
                                    for _ in range(3)), key=lambda r: r[0])
    hunt_s, hunt_rss, _, err = min((timed([vigil, "hunt", "--rules", rules, "-o", "/dev/null", data])
                                    for _ in range(2)), key=lambda r: r[0])
    one_s, one_rss, _, _ = min((timed([vigil, "hunt", "--threads", "1", "--rules", rules, "-o", "/dev/null", data])
                                for _ in range(2)), key=lambda r: r[0])
    alerts = re.search(r"(\d+) alert\(s\)", err)
    print(f"data: {data}: {size / 1e6:.0f} MB, {events} events; rules: {rules}")
    print(f"{'run':52} {'seconds':>8} {'MB/s':>7} {'events/s':>10} {'peak RSS':>9}")
    print(f"{f'read only (vigil query, matches nothing), {os.cpu_count()} threads':52} {read_s:8.2f} {size / read_s / 1e6:7.0f} "
          f"{events / read_s:10.0f} {read_rss / 1024:8.0f}M")
    print(f"{'read only, 1 thread':52} {read1_s:8.2f} {size / read1_s / 1e6:7.0f} "
          f"{events / read1_s:10.0f} {read1_rss / 1024:8.0f}M")
    print(f"{'vigil hunt, all rules, 1 thread':52} {one_s:8.2f} {size / one_s / 1e6:7.0f} "
          f"{events / one_s:10.0f} {one_rss / 1024:8.0f}M")
    print(f"{f'vigil hunt, all rules, {os.cpu_count()} threads':52} {hunt_s:8.2f} {size / hunt_s / 1e6:7.0f} "
          f"{events / hunt_s:10.0f} {hunt_rss / 1024:8.0f}M")
    print(f"alerts: {alerts.group(1) if alerts else 0}")


if __name__ == "__main__":
    main()
