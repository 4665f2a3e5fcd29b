#!/usr/bin/env python3
"""Baselines at scale: `vigil baseline learn` over N network events whose
(host, process.name, destination.port) terms are all distinct (10 M by
default), then `vigil hunt --baseline` over the same events, where every
term is looked up in the baseline once. Prints terms/s learned and looked
up, bytes per term on disk, and peak memory.

usage: run_baseline_bench.py VIGIL [N]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed, warm  # noqa: E402


def main():
    vigil = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.join(here, "data", f"terms-{n}.ndjson")
    rule = os.path.join(here, "rules", "rare_port.toml")
    if not os.path.exists(data):
        os.makedirs(os.path.dirname(data), exist_ok=True)
        with open(data, "w") as f:
            per_host = 1000
            for i in range(n):
                host, k = divmod(i, per_host)
                f.write('{"@timestamp":"2026-03-01T%02d:%02d:%02d.%03dZ","event":{"category":["network"]},'
                        '"host":{"name":"WKS-%05d"},"process":{"name":"proc%d.exe"},'
                        '"destination":{"ip":"10.0.0.1","port":%d}}\n'
                        % ((i // 3600000) % 24, (i // 60000) % 60, (i // 1000) % 60, i % 1000, host, k % 10,
                           1024 + k))
    events = warm(data)
    db = os.path.join(here, "data", f"terms-{n}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    learn_s, learn_rss, _, _ = timed([vigil, "baseline", "learn", "-q", "--rules", rule, "-b", db, data])
    size = os.path.getsize(db)
    read_s, _, _, _ = timed([vigil, "query", "--count", "any where false", data])
    hunt_s, hunt_rss, _, _ = timed([vigil, "hunt", "-q", "--no-schedule", "--rules", rule, "--baseline", db,
                                    "-o", "/dev/null", data])
    plain_s, _, _, _ = timed([vigil, "hunt", "-q", "--no-schedule", "--rules", rule, "-o", "/dev/null", data])
    print(f"{events} events, {events} distinct terms; read only: {read_s:.2f} s")
    print(f"learn: {learn_s:.2f} s, {events / learn_s:,.0f} terms/s, peak RSS {learn_rss / 1024:.0f} MB; "
          f"baseline file {size / 1e6:.0f} MB = {size / events:.0f} bytes/term")
    print(f"hunt --baseline (one lookup per term): {hunt_s:.2f} s, peak RSS {hunt_rss / 1024:.0f} MB; "
          f"the same hunt without a baseline: {plain_s:.2f} s; lookups: "
          f"{events / max(hunt_s - plain_s, 1e-9):,.0f} terms/s")


if __name__ == "__main__":
    main()
