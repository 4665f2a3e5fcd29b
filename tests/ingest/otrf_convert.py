#!/usr/bin/env python3
"""Converts OTRF Security-Datasets (JSON inside .zip / .tar.gz / .gz) with
`vigil convert` and checks that no record is lost: the output has one event
per JSON record of the dataset, each Windows record keeps its EventID as
event.code. Prints, over all datasets, the Windows events that have no ECS
mapping per provider and event ID (vigil reports them too), so nothing is
left unmapped silently.

usage: otrf_convert.py VIGIL OTRF_DIR [--every N]   (N>1: every Nth dataset, for CI)
"""
import argparse
import collections
import glob
import gzip
import io
import json
import os
import subprocess
import sys

import strict_json
import tarfile
import tempfile
import zipfile


def records(path):
    """The JSON records of a dataset file, as Python objects (None for a malformed line)."""
    def from_stream(stream):
        for line in io.TextIOWrapper(stream, encoding="utf-8", errors="replace"):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    yield None
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if not name.endswith("/"):
                    yield from from_stream(zf.open(name))
    elif path.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tf:
            for m in tf.getmembers():
                if m.isfile():
                    yield from from_stream(tf.extractfile(m))
    elif path.endswith(".gz"):
        yield from from_stream(gzip.open(path))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("otrf_dir")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--expect", type=int, default=None, help="fail unless exactly this many datasets are converted")
    a = ap.parse_args()
    datasets = sorted(p for p in glob.glob(os.path.join(a.otrf_dir, "**", "*"), recursive=True)
                      if p.endswith((".zip", ".gz")))[::a.every]
    unmapped = collections.Counter()
    failures = []
    if a.expect is not None and len(datasets) != a.expect:
        failures.append(f"{len(datasets)} datasets found under {a.otrf_dir}, expected {a.expect}")
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.ndjson")
        for path in datasets:
            expected = [r for r in records(path)]
            r = subprocess.run([a.vigil, "convert", path, "-o", out], capture_output=True)
            if r.returncode != 0:
                failures.append(f"{path}: exit {r.returncode}: {r.stderr.decode()[:300]}")
                continue
            try:
                with open(out, encoding="utf-8") as f:
                    got = [strict_json.loads(l) for l in f if l.strip()]
            except strict_json.DuplicateKey as e:
                failures.append(f"{path}: a written document has a {e}")
                continue
            good = [e for e in expected if isinstance(e, dict)]
            if len(got) != len(good):
                failures.append(f"{path}: {len(got)} events written, the dataset has {len(good)} JSON records "
                                f"({len(expected) - len(good)} malformed): {r.stderr.decode()[:300]}")
                continue
            total += len(got)
            for src, doc in zip(good, got):
                eid = src.get("EventID")
                code = doc.get("event", {}).get("code") if isinstance(doc.get("event"), dict) else None
                code = code or doc.get("event.code")
                if src.get("SourceName") and eid is not None and str(code) != str(eid):
                    failures.append(f"{path}: record with EventID {eid} came out with event.code {code!r}")
                    break
                # Every member of the record is kept: where it was, or under export.* when ECS
                # uses its name (NXLog's "host" string next to ECS host.name).
                lost = [k for k, v in src.items()
                        if k != "@timestamp" and doc.get(k) != v and (doc.get("export") or {}).get(k) != v]
                if lost:
                    failures.append(f"{path}: record with EventID {eid} lost its members {lost[:5]}")
                    break
                if src.get("SourceName") and eid is not None and "category" not in (doc.get("event") or {}):
                    unmapped[(src["SourceName"], str(eid))] += 1
    print(f"{len(datasets)} datasets, {total} events, none lost" if not failures else f"{len(failures)} failures")
    if unmapped:
        print(f"Windows events without an ECS mapping ({sum(unmapped.values())}), by provider and event ID:")
        for (provider, eid), n in sorted(unmapped.items(), key=lambda x: -x[1]):
            print(f"  {n:9d}  {provider} {eid}")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
