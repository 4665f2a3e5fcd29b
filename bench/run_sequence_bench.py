#!/usr/bin/env python3
"""Sequence benchmarks (Correlation issue):
 1. throughput of a 3-term `sequence by host.id, process.entity_id` over the
    1 GiB suite data (bench/gen_data.py), vigil (buffered and --assume-sorted)
    against the reference EQL implementation on the same file and query;
 2. peak memory with 1 M open partial sequences (1 M distinct join keys that
    never complete), generated here.

The reference engine needs minutes per 100 MB on sequences (and ~10 GB of RAM
per GB of input), so the comparison with it runs on the first --oracle-mb MB
of the same file, with vigil measured on that same subset.

usage: run_sequence_bench.py BUILD_DIR SHARED_EQL_DIR DATA.ndjson [--oracle-mb 100] [--skip-oracle]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed, warm  # noqa: E402

QUERY = ('sequence by host.id, process.entity_id with maxspan=5m '
         '[process where process.name : "*.exe"] [file where true] [process where true]')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("shared_eql")
    ap.add_argument("data")
    ap.add_argument("--skip-oracle", action="store_true")
    ap.add_argument("--oracle-mb", type=int, default=100)
    a = ap.parse_args()
    vigil = f"{a.build}/vigil"
    size = os.path.getsize(a.data)
    events = warm(a.data)
    def measure(path, with_oracle):
        size = os.path.getsize(path)
        events = warm(path)
        print(f"data: {path}: {size / 1e6:.0f} MB, {events} events")
        print(f"{'engine':44} {'seconds':>8} {'MB/s':>8} {'events/s':>11} {'peak RSS':>10}  sequences", flush=True)
        rows = []
        for name, extra in (("vigil query --count (buffered, sorts)", []),
                            ("vigil query --count --assume-sorted", ["--assume-sorted"])):
            # One core, as BENCHMARKS.md's table says.
            secs, rss, out, _ = min((timed([vigil, "query", "--threads", "1", "--count"] + extra + [QUERY, path])
                                     for _ in range(3)), key=lambda r: r[0])
            rows.append((name, secs, rss, out.strip()))
        if with_oracle:
            secs, rss, out, _ = timed(["/usr/bin/python3", f"{a.shared_eql}/oracle/oracle.py", "--es", "--ids",
                                       "event.sequence", QUERY, path])
            rows.append(("reference EQL (oracle.py --es)", secs, rss, str(len(out.split()) // 3)))
        for name, secs, rss, n in rows:
            print(f"{name:44} {secs:8.2f} {size / secs / 1e6:8.1f} {events / secs:11.0f} {rss / 1024:8.0f}MB  {n}")
        # The table claims the engines find the same sequences: check it.
        if len({n for _, _, _, n in rows}) != 1:
            raise SystemExit(f"the engines disagree on the number of sequences: {[(r[0], r[3]) for r in rows]}")
        if with_oracle:
            print(f"reference / vigil (assume-sorted) time: {rows[2][1] / rows[1][1]:.1f}x")
        print(flush=True)

    print(f"query: {QUERY}\n")
    measure(a.data, False)
    if not a.skip_oracle:
        with tempfile.TemporaryDirectory() as tmp:
            subset = os.path.join(tmp, f"first-{a.oracle_mb}mb.ndjson")
            with open(a.data, "rb") as src, open(subset, "wb") as dst:
                dst.write(src.read(a.oracle_mb * 1024 * 1024).rsplit(b"\n", 1)[0] + b"\n")
            measure(subset, True)

    # 1 M open keys: every process starts a sequence that never completes.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "open-keys.ndjson")
        with open(path, "w") as f:
            for i in range(1_000_000):
                f.write('{"@timestamp":"2026-11-01T00:00:00.000Z","event":{"category":["process"]},'
                        f'"host":{{"id":"h{i % 50}"}},"process":{{"entity_id":"{{{i}}}","name":"p.exe"}}}}\n')
        q = 'sequence by host.id, process.entity_id [process where true] [file where true] [network where true]'
        secs, rss, out, err = timed([vigil, "query", "--count", "--assume-sorted", "--max-open-sequences", "1000000",
                                     q, path])
        print(f"1,000,000 open partial sequences (cap 1,000,000): {secs:.2f} s, peak RSS {rss / 1024:.0f} MB, "
              f"{rss * 1024 / 1e6:.0f} bytes per open key")
        secs, rss, out, err = timed([vigil, "query", "--count", "--assume-sorted", "--max-open-sequences", "100000",
                                     q, path])
        print(f"same input, cap 100,000: {secs:.2f} s, peak RSS {rss / 1024:.0f} MB; stderr: {err.strip()}")


if __name__ == "__main__":
    main()
