#!/usr/bin/env python3
"""`vigil report` at 1 k, 10 k and 100 k alerts: the time to write the page,
its size, and the time to first render in headless Chromium (from navigation
start to the page drawn, as the page measures it: performance.now() when its
script finished; the median of 3 loads), for the overview and for the alert
list.

The alerts are those of the EVTX attack samples (Elastic's rules and the seed
pack, as `vigil hunt` writes them), repeated with fresh ids, hosts (200) and
times so that the interning sees realistic variety: every copy has its own id
and time, reasons and hosts repeat as they do in a fleet.

usage: run_report_bench.py VIGIL REPO SHARED [--sizes 1000,10000,100000]
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed  # noqa: E402


def render_ms(chromium, page, fragment):
    profile = tempfile.mkdtemp(prefix="vigil-bench-chromium-")
    try:
        r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--user-data-dir=" + profile, "--virtual-time-budget=60000", "--dump-dom",
                            "file://" + page + "#" + fragment], capture_output=True, timeout=600)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    m = re.search(rb'data-render-ms="(\d+)"', r.stdout)
    s = re.search(rb'data-script-ms="(\d+)"', r.stdout)
    if not m:
        sys.exit(f"the page did not render: {r.stderr.decode()[-500:]}")
    return int(m.group(1)), int(s.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("repo")
    ap.add_argument("shared")
    ap.add_argument("--sizes", default="1000,10000,100000")
    a = ap.parse_args()
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is not installed (scripts/install-deps.sh)")
    tmp = tempfile.mkdtemp(prefix="vigil-report-bench-")
    base = os.path.join(tmp, "base.ndjson")
    subprocess.run([a.vigil, "hunt", "--quiet", "--rules", os.path.join(a.repo, "rules", "windows"), "--rules",
                    os.path.join(a.shared, "rules", "elastic", "windows"),
                    os.path.join(a.shared, "data", "evtx-attack-samples"), "-o", base], check=True)
    alerts = [json.loads(l) for l in open(base, encoding="utf-8") if l.strip()]
    print(f"{len(alerts)} alerts from the EVTX samples")
    print(f"{'alerts':>8} {'write s':>8} {'peak MB':>8} {'page MB':>8} {'overview ms':>12} {'alerts ms':>10} {'script ms':>10}")
    for n in [int(x) for x in a.sizes.split(",")]:
        src = os.path.join(tmp, f"alerts-{n}.ndjson")
        with open(src, "w", encoding="utf-8") as f:
            for i in range(n):
                doc = dict(alerts[i % len(alerts)])
                copy = i // len(alerts)
                doc["kibana.alert.uuid"] = hashlib.md5(f"{i}".encode()).hexdigest()
                if copy:
                    host = dict(doc.get("host", {}))
                    host["name"] = f"WKS{(copy * 7 + i) % 200:03d}.example.corp"
                    doc["host"] = host
                    if "kibana.alert.group.id" in doc:
                        doc["kibana.alert.group.id"] = hashlib.md5(f"{doc['kibana.alert.group.id']}{copy}".encode()).hexdigest()
                f.write(json.dumps(doc) + "\n")
        page = os.path.join(tmp, f"report-{n}.html")
        secs, rss, _, _ = timed([a.vigil, "report", src, "-o", page])
        overview = sorted(render_ms(chromium, page, "view=overview") for _ in range(3))[1]
        listing = sorted(render_ms(chromium, page, "view=alerts") for _ in range(3))[1]
        print(f"{n:>8} {secs:>8.2f} {rss / 1024:>8.0f} {os.path.getsize(page) / 1e6:>8.1f} {overview[0]:>12} "
              f"{listing[0]:>10} {listing[1]:>10}")
        os.remove(src)
    shutil.rmtree(tmp, ignore_errors=True)


main()
