#!/usr/bin/env python3
"""EVTX decoding throughput: vigil against libevtx's evtxexport (Debian
libevtx-utils) and python3-evtx, on the same files in the same run.

Every .evtx file under DATA_DIR is decoded by each tool; the figure is the
total bytes and records over the total wall time. vigil decodes every record
into an event (`vigil query --count 'any where true' FILES...`, one process,
with --threads 1 and with one decoding thread per core: chunks of a file and
files after the current one are decoded ahead, in parallel); evtxexport writes XML (one process per file, as the tool
takes one file); python3-evtx renders every record's XML in one process.

A second table decodes one large file: every chunk of those files written
after one file header (bench/data/all-chunks.evtx, EVTX chunks being
self-contained), where the chunks of one file are decoded on all cores.

usage: run_evtx_bench.py VIGIL DATA_DIR
"""
import glob
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed  # noqa: E402


def main():
    vigil, data_dir = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(os.path.join(data_dir, "**", "*.evtx"), recursive=True))
    size = sum(os.path.getsize(f) for f in files)
    for f in files:  # page cache
        with open(f, "rb") as h:
            h.read()
    rows = []  # (decoder, seconds, peak RSS, records it decoded, files it failed on)
    for threads, label in ((1, "vigil query --count (--threads 1)"), (0, f"vigil query --count ({os.cpu_count()} threads)")):
        secs, rss, out, _ = min((timed([vigil, "query", "--threads", str(threads), "--count", "any where true"] + files)
                                 for _ in range(5)), key=lambda r: r[0])
        records = int(out.strip())
        rows.append((label, secs, rss, records, 0))
    # The other decoders: each one's own record count and failures, not vigil's.
    start = time.perf_counter()
    exported = failed = 0
    for f in files:
        r = subprocess.run(["evtxexport", "-f", "xml", f], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        exported += r.stdout.count(b"<Event ")
        failed += r.returncode != 0
    rows.append(("evtxexport -f xml (libevtx 20181227)", time.perf_counter() - start, 0, exported, failed))
    script = ("import sys, Evtx.Evtx as e\n"
              "n = failed = 0\n"
              "for p in sys.argv[1:]:\n"
              "    try:\n"
              "        with e.Evtx(p) as log:\n"
              "            for r in log.records():\n"
              "                r.xml()\n"
              "                n += 1\n"
              "    except Exception:\n"
              "        failed += 1\n"
              "print(n, failed)\n")
    secs, rss, out, _ = timed(["/usr/bin/python3", "-c", script] + files)
    py_records, py_failed = (int(x) for x in out.split())
    rows.append(("python3-evtx 0.6.1 (xml)", secs, rss, py_records, py_failed))
    big = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "all-chunks.evtx")
    os.makedirs(os.path.dirname(big), exist_ok=True)
    with open(big, "wb") as out:
        header = None
        for f in files:
            b = open(f, "rb").read()
            if b[:8] != b"ElfFile\0" or len(b) < 4096:
                continue
            if header is None:
                header = b[:4096]
                out.write(header)
            for off in range(4096, len(b) - 65535, 65536):
                if b[off:off + 8] == b"ElfChnk\0":
                    out.write(b[off:off + 65536])
    big_size = os.path.getsize(big)
    big_rows = []
    for threads in (1, 0):
        secs, rss, out, _ = min((timed([vigil, "query", "--threads", str(threads), "--count", "any where true", big])
                                 for _ in range(5)), key=lambda r: r[0])
        big_rows.append((threads or os.cpu_count(), secs, rss, int(out.strip())))
    print(f"data: {len(files)} .evtx files under {data_dir}, {size / 1e6:.1f} MB, {records} records (vigil's count)")
    print(f"{'decoder':40} {'seconds':>8} {'MB/s':>8} {'records':>8} {'records/s':>11} {'files failed':>12} "
          f"{'vs vigil 1 thread':>9}")
    for name, s, _, n, bad in rows:
        print(f"{name:40} {s:8.2f} {size / s / 1e6:8.1f} {n:8d} {n / s:11.0f} {bad:12d} {s / rows[0][1]:8.1f}x")
    evtxexport = rows[2][1]
    print(f"evtxexport takes {evtxexport / rows[0][1]:.1f}x as long as vigil on 1 thread, "
          f"{evtxexport / rows[1][1]:.1f}x as long as vigil on {os.cpu_count()} threads")
    print(f"\none file of all their chunks: {big_size / 1e6:.1f} MB, {big_rows[0][3]} records")
    print(f"{'threads':>8} {'seconds':>8} {'MB/s':>8} {'records/s':>11} {'peak RSS MB':>12}")
    for threads, s, rss, n in big_rows:
        print(f"{threads:8} {s:8.3f} {big_size / s / 1e6:8.1f} {n / s:11.0f} {rss / 1024:12.1f}")


if __name__ == "__main__":
    main()
