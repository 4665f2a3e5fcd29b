#!/usr/bin/env python3
"""`vigil hunt` with SigmaHQ's Windows rules (the corpus in ../shared), alone
and with Elastic's 391 EQL rules in the same pass: events/s on one thread and
on all, and peak memory, over the first --events events of the OTRF datasets
as ECS NDJSON (bench/data/otrf.ndjson, made by run_hunt_bench.py) and over
the EVTX attack samples; next to the bare read of the same input and the
start alone (rules loaded and compiled, no input; with the parsed-rule
cache the earlier runs filled, and with an empty one). Fails unless the combined
run makes exactly the alerts of the two separate runs.

usage: run_sigma_bench.py VIGIL SHARED_DIR [--events N]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed, warm  # noqa: E402


def alert_ids(path):
    with open(path, encoding="utf-8") as f:
        return sorted(json.loads(l)["kibana.alert.uuid"] for l in f if l.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("shared")
    ap.add_argument("--events", type=int, default=500000)
    a = ap.parse_args()
    vigil, shared = a.vigil, a.shared
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "otrf.ndjson")
    if not os.path.exists(source):
        sys.exit(f"{source} is missing: run bench/run_hunt_bench.py first (it converts the OTRF datasets)")
    sigma = os.path.join(shared, "rules", "sigma", "sigmahq", "rules", "windows")
    elastic = os.path.join(shared, "rules", "elastic", "windows")
    samples = os.path.join(shared, "data", "evtx-attack-samples")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "otrf-slice.ndjson")
        with open(source, "rb") as src, open(data, "wb") as out:
            for i, line in enumerate(src):
                if i == a.events:
                    break
                out.write(line)
        eql_only = os.path.join(tmp, "eql")
        os.makedirs(eql_only)
        for path in sorted(glob.glob(os.path.join(elastic, "*.toml"))):
            with open(path, encoding="utf-8") as f:
                if re.search(r'^language = "eql"', f.read(), re.M):
                    os.symlink(os.path.abspath(path), os.path.join(eql_only, os.path.basename(path)))
        check = subprocess.run([vigil, "rules", "check", sigma], capture_output=True, text=True)
        m = re.search(r"(\d+) rules in \d+ files: (\d+) compiled, (\d+) failed", check.stdout)
        print(f"SigmaHQ Windows rules: {m.group(1)} files, {m.group(2)} compiled, {m.group(3)} failed "
              f"(the rest not run: log source not mapped)" if m else check.stdout[-400:])
        subprocess.run([vigil, "rules", "check", eql_only], check=True, capture_output=True)

        for name, path in (("OTRF slice", data), ("EVTX attack samples", samples)):
            files = [path] if os.path.isfile(path) else sorted(glob.glob(os.path.join(path, "**", "*.evtx"),
                                                                            recursive=True))
            size = sum(os.path.getsize(f) for f in files)
            for f in files:
                warm(f)
            count = subprocess.run([vigil, "query", "--count", "any where true", path], capture_output=True,
                                   text=True, check=True)
            events = int(count.stdout.strip().splitlines()[-1])
            print(f"\n{name}: {size / 1e6:.0f} MB, {events} events")
            print(f"{'run':58} {'seconds':>8} {'events/s':>10} {'peak RSS':>9} {'alerts':>7}")

            def run(label, rules, threads, out):
                args = [vigil, "hunt", "-q", "-o", out]
                if threads:
                    args += ["--threads", str(threads)]
                for r in rules:
                    args += ["--rules", r]
                secs, rss, _, _ = min((timed(args + [path]) for _ in range(3)), key=lambda r: r[0])
                n = len(alert_ids(out))
                print(f"{label:58} {secs:8.2f} {events / secs:10.0f} {rss / 1024:8.0f}M {n:7}")
                return secs

            secs, rss, _, _ = min((timed([vigil, "query", "--threads", "1", "--count", "any where false", path])
                                   for _ in range(3)), key=lambda r: r[0])
            print(f"{'read only (vigil query, matches nothing), 1 thread':58} {secs:8.2f} {events / secs:10.0f} "
                  f"{rss / 1024:8.0f}M")
            secs, rss, _, _ = min((timed([vigil, "hunt", "-q", "--threads", "1", "--rules", sigma, "-o", "/dev/null",
                                          os.devnull]) for _ in range(3)), key=lambda r: r[0])
            print(f"{'start only (Sigma corpus loaded and compiled, no input)':58} {secs:8.2f} {'':>10} "
                  f"{rss / 1024:8.0f}M")
            # The same with an empty parsed-rule cache: a first run, or --no-rule-cache.
            cold = []
            for n in range(3):
                cache = os.path.join(tmp, f"cold-cache-{name[:4]}-{n}")
                cold.append(timed(["env", f"VIGIL_CACHE_DIR={cache}", vigil, "hunt", "-q", "--threads", "1",
                                   "--rules", sigma, "-o", "/dev/null", os.devnull]))
            secs, rss, _, _ = min(cold, key=lambda r: r[0])
            print(f"{'start only, empty rule cache (first run)':58} {secs:8.2f} {'':>10} {rss / 1024:8.0f}M")
            e_out, s_out, b_out = (os.path.join(tmp, f"{k}.ndjson") for k in ("e", "s", "b"))
            run("391 Elastic EQL rules, 1 thread", [eql_only], 1, e_out)
            run("SigmaHQ Windows rules, 1 thread", [sigma], 1, s_out)
            run("both, one pass, 1 thread", [sigma, eql_only], 1, b_out)
            if alert_ids(b_out) != sorted(alert_ids(e_out) + alert_ids(s_out)):
                sys.exit("the combined run's alerts differ from the two separate runs'")
            run(f"both, one pass, {os.cpu_count()} threads", [sigma, eql_only], 0, b_out)
        print("\ncombined runs: the alerts of the two separate runs, exactly")


if __name__ == "__main__":
    main()
