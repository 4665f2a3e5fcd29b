#!/usr/bin/env python3
"""`vigil hunt` with Elastic's Windows rules over the OTRF datasets converted
to ECS NDJSON (real telemetry, 2.4 GB): MB/s, events/s and peak memory, on one
thread and on all, for the 391 EQL rules (the Hunt issue's target set), the 28 ES|QL
rules alone, and every rule (all 487: EQL, KQL, new_terms, threshold, ES|QL), next to the bare
read of the same file (`vigil query` with a query that matches nothing) to
separate reading from matching, and the start alone (rules loaded, no input)
with the parsed-rule cache filled and without it. The hunt rows run with the
cache filled (an untimed `vigil rules check` fills it first), as every run
after the first does; one row shows a run that parses every rule file. The
data file is read from the page cache in the state a read from disk leaves
(benchlib.warm); one row runs over a copy just written instead.

usage: run_hunt_bench.py VIGIL SHARED_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

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
    print(f"data: {data}: {size / 1e6:.0f} MB, {events} events; rules: {rules}")
    print(f"{'run':52} {'seconds':>8} {'MB/s':>7} {'events/s':>10} {'peak RSS':>9}")

    def row(name, secs, rss):
        print(f"{name:52} {secs:8.2f} {size / secs / 1e6:7.0f} {events / secs:10.0f} {rss / 1024:8.0f}M")

    row(f"read only (vigil query, matches nothing), {os.cpu_count()} threads", read_s, read_rss)
    row("read only, 1 thread", read1_s, read1_rss)
    with tempfile.TemporaryDirectory() as eql_only, tempfile.TemporaryDirectory() as esql_only:
        # The EQL rules alone, and the ES|QL ones: directories of links to them.
        for path in sorted(glob.glob(os.path.join(rules, "*.toml"))):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for pattern, where in ((r'^language = "eql"', eql_only), (r'^type = "esql"', esql_only)):
                if re.search(pattern, text, re.M):
                    os.symlink(os.path.abspath(path), os.path.join(where, os.path.basename(path)))
        for rule_dir in (eql_only, esql_only, rules):
            subprocess.run([vigil, "rules", "check", rule_dir], check=True, capture_output=True)
        for cache, flags in (("cached", []), ("--no-rule-cache", ["--no-rule-cache"])):
            secs, rss, _, _ = min((timed([vigil, "hunt", "-q", "--threads", "1", *flags, "--rules", rules, "-o",
                                          "/dev/null", os.devnull]) for _ in range(3)), key=lambda r: r[0])
            print(f"{'start only (all rules, no input), ' + cache:52} {secs:8.2f} {'':>7} {'':>10} {rss / 1024:8.0f}M")
        secs, rss, _, _ = min((timed([vigil, "hunt", "--threads", "1", "--no-rule-cache", "--rules", rules, "-o",
                                      "/dev/null", data]) for _ in range(2)), key=lambda r: r[0])
        row("vigil hunt, all rules, 1 thread, --no-rule-cache", secs, rss)
        for label, rule_dir in ((f"{len(os.listdir(eql_only))} EQL rules", eql_only),
                                (f"{len(os.listdir(esql_only))} ES|QL rules", esql_only), ("all rules", rules)):
            for threads in ("1", "0"):
                secs, rss, _, err = min((timed([vigil, "hunt", "--threads", threads, "--rules", rule_dir, "-o",
                                                "/dev/null", data]) for _ in range(2)), key=lambda r: r[0])
                loaded = re.search(r"vigil hunt: (\d+) rules", err)
                alerts = re.search(r"(\d+) alert\(s\)", err)
                where = "1 thread" if threads == "1" else f"{os.cpu_count()} threads"
                row(f"vigil hunt, {label}, {where}", secs, rss)
                print(f"{'':52} ({loaded.group(1) if loaded else '?'} rules loaded, "
                      f"{alerts.group(1) if alerts else 0} alerts)")
        # The same hunt over a copy just written, which the page cache holds as the writes left it (4 KB
        # pages here) rather than as a read from disk does (2 MB folios where the file system has large
        # folios): the kernel then maps the file page by page.
        copy = os.path.join(os.path.dirname(data), ".otrf-written.ndjson")
        try:
            shutil.copyfile(data, copy)
            secs, rss, _, _ = min((timed([vigil, "hunt", "--threads", "1", "--rules", eql_only, "-o", "/dev/null",
                                          copy]) for _ in range(2)), key=lambda r: r[0])
            row(f"vigil hunt, {len(os.listdir(eql_only))} EQL rules, 1 thread, just written", secs, rss)
        finally:
            if os.path.exists(copy):
                os.remove(copy)


if __name__ == "__main__":
    main()
