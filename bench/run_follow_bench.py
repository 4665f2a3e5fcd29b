#!/usr/bin/env python3
"""`vigil run` as a continuous engine, with Elastic's Windows rules and the
seed pack over the OTRF recordings (bench/data/otrf.ndjson, made by `vigil
convert` as run_hunt_bench.py does):

1. throughput: `vigil run --follow` already running on an empty file, which a
   writer then fills as fast as it can (8 MB appends) with the first
   --events events; the time from the first byte written to the status line
   that counts them all. `vigil run` and `vigil hunt` over the same file, read
   whole, for comparison.
2. alert latency: events written at a steady --rate (the recordings' events
   with @timestamp set to the wall clock, in 10 ms slices), a probe event
   among them 10 times a second; a probe rule alerts on each. Latency = from
   the write() of the probe's line to the moment its alert line is in the
   alert file (polled every millisecond); p50/p90/p99/max over --seconds.
3. memory over a stream: the recordings' events repeated with increasing
   event time (1,000 events per second of event time) and each round's
   GUIDs changed (new processes, logons, as a host that keeps running), fed
   to `vigil run -` on stdin: 1× and 10× as many events; peak RSS of each and
   the resident size along the 10× run.

usage: run_follow_bench.py VIGIL SHARED_DIR [--events N] [--rate R] [--seconds S] [--memory-events N]
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed, warm  # noqa: E402

PROBE_RULE = '''[metadata]
creation_date = "2026/12/01"
[rule]
author = ["bench"]
description = "latency probe"
name = "Latency probe"
risk_score = 21
rule_id = "bench-latency-probe"
severity = "low"
type = "eql"
language = "eql"
index = ["logs-*"]
query = \'\'\'
process where process.name == "vigil-latency-probe.exe"
\'\'\'
'''

TS = re.compile(rb'"@timestamp":"[^"]*"')
GUID = re.compile(rb'([0-9A-Fa-f]{8})-([0-9A-Fa-f]{4})-')


def iso(ns):
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def source_lines(data, n):
    out = []
    with open(data, "rb") as f:
        for line in f:
            if TS.search(line):
                out.append(line.rstrip(b"\n"))
                if len(out) == n:
                    break
    return out


def status_events(log):
    with open(log, "rb") as f:
        found = re.findall(rb"vigil run: (\d+) events", f.read())
    return int(found[-1]) if found else -1


def wait_until(cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.005)
    return False


def throughput(vigil, rules, data, n, tmp):
    part = os.path.join(tmp, "part.ndjson")
    with open(data, "rb") as src, open(part, "wb") as dst:
        for i, line in enumerate(src):
            if i == n:
                break
            dst.write(line)
    size = os.path.getsize(part)
    warm(part)
    followed, log = os.path.join(tmp, "followed.ndjson"), os.path.join(tmp, "follow.log")
    open(followed, "wb").close()
    proc = subprocess.Popen([vigil, "run", "--follow", "--status-interval", "100ms", "--poll-interval", "20ms",
                             "-o", os.path.join(tmp, "follow-alerts.ndjson")] + rules + [followed],
                            stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
    if not wait_until(lambda: status_events(log) == 0, 300):
        sys.exit("vigil run --follow did not start")
    start = time.perf_counter()
    with open(part, "rb") as src, open(followed, "ab") as dst:
        while True:
            block = src.read(8 << 20)
            if not block:
                break
            dst.write(block)
            dst.flush()
    written = time.perf_counter() - start
    if not wait_until(lambda: status_events(log) >= n, 600):
        sys.exit(f"vigil run --follow did not read {n} events: {open(log).read()[-500:]}")
    secs = time.perf_counter() - start
    rss = int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1))
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    print(f"data: the first {n} events of {data} ({size / 1e6:.0f} MB)")
    print(f"{'run':58} {'seconds':>8} {'MB/s':>7} {'events/s':>10} {'peak RSS':>9}")
    print(f"{'vigil run --follow, file appended at full speed':58} {secs:8.2f} {size / secs / 1e6:7.0f} "
          f"{n / secs:10.0f} {rss / 1024:8.0f}M   (the writer took {written:.2f} s)")
    for name, cmd in (("vigil run (file read whole, to its end)", [vigil, "run", "-q", "-o", os.path.join(tmp, "a1")]),
                      ("vigil hunt (same file)", [vigil, "hunt", "-q", "-o", "/dev/null"])):
        secs, rss, _, _ = min((timed(cmd + rules + [part]) for _ in range(2)), key=lambda r: r[0])
        print(f"{name:58} {secs:8.2f} {size / secs / 1e6:7.0f} {n / secs:10.0f} {rss / 1024:8.0f}M")
    os.unlink(part)


def latency(vigil, rules, data, rate, seconds, tmp, poll):
    base = source_lines(data, 50000)
    followed, alerts = os.path.join(tmp, f"lat-{poll}.ndjson"), os.path.join(tmp, f"lat-alerts-{poll}.ndjson")
    log = os.path.join(tmp, f"lat-{poll}.log")
    open(followed, "wb").close()
    open(alerts, "wb").close()
    proc = subprocess.Popen([vigil, "run", "--follow", "--status-interval", "1s", "--poll-interval", poll,
                             "-o", alerts] + rules + [followed], stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
    if not wait_until(lambda: status_events(log) == 0, 300):
        sys.exit("vigil run --follow did not start")
    written_at, seen_at = {}, {}
    done = threading.Event()

    def watch():
        with open(alerts, "rb") as f:
            pending = b""
            while not done.is_set() or pending:
                chunk = f.read()
                if not chunk:
                    if done.is_set():
                        break
                    time.sleep(0.001)
                    continue
                now = time.perf_counter()
                pending += chunk
                *whole, pending = pending.split(b"\n")
                for line in whole:
                    doc = json.loads(line)
                    if doc.get("kibana.alert.rule.name") == "Latency probe":
                        seen_at.setdefault(doc["process"]["pid"], now)

    watcher = threading.Thread(target=watch)
    watcher.start()
    slice_s = 0.01
    per_slice = max(1, int(rate * slice_s))
    probe_every = max(1, int(0.1 / slice_s))
    k = 0
    start = time.perf_counter()
    with open(followed, "ab", buffering=0) as out:
        for s in range(int(seconds / slice_s)):
            target = start + s * slice_s
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            ts = b'"@timestamp":"' + iso(time.time_ns()).encode() + b'"'
            lines = [TS.sub(ts, base[(s * per_slice + i) % len(base)], count=1) for i in range(per_slice)]
            probe = s % probe_every == 0
            if probe:
                lines.append(json.dumps({"@timestamp": iso(time.time_ns()),
                                         "event": {"kind": "event", "category": ["process"], "type": ["start"]},
                                         "process": {"name": "vigil-latency-probe.exe", "pid": k,
                                                     "entity_id": f"probe-{k}"},
                                         "host": {"name": "bench-host"}}, separators=(",", ":")).encode())
            out.write(b"\n".join(lines) + b"\n")
            if probe:
                written_at[k] = time.perf_counter()
                k += 1
    wait_until(lambda: len(seen_at) >= len(written_at), 30)
    done.set()
    watcher.join()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    lat = sorted((seen_at[p] - written_at[p]) * 1000 for p in written_at if p in seen_at)
    missing = len(written_at) - len(lat)

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    print(f"{rate} events/s for {seconds} s, --poll-interval {poll}: {len(lat)} probes alerted, {missing} missing; "
          f"latency ms p50 {pct(0.5):.0f}, p90 {pct(0.9):.0f}, p99 {pct(0.99):.0f}, max {lat[-1]:.0f}, "
          f"mean {statistics.mean(lat):.0f}")


def stream(base, n, out):
    t0 = 1_700_000_000_000_000_000
    for i in range(n):
        rnd, j = divmod(i, len(base))
        line = TS.sub(b'"@timestamp":"' + iso(t0 + i * 1_000_000).encode() + b'"', base[j], count=1)
        if rnd:
            tag = b"%04x" % (rnd & 0xFFFF)
            line = GUID.sub(lambda m: m.group(1) + b"-" + tag + b"-", line)
        out.write(line + b"\n")


def memory(vigil, rules, data, n, tmp):
    base = source_lines(data, min(n, 200000))
    print(f"stream: {len(base)} recorded events repeated, 1,000 events per second of event time, GUIDs changed "
          f"each round")
    print(f"{'events':>10} {'seconds':>8} {'events/s':>10} {'peak RSS':>9}  resident size at 10/25/50/75/100 % "
          f"(events/s: the generator's pace)")
    for factor in (1, 10):
        total = n * factor
        log = os.path.join(tmp, f"mem-{factor}.log")
        start = time.perf_counter()
        proc = subprocess.Popen([vigil, "run", "-", "--status-interval", "1s", "-o", os.path.join(tmp, f"m{factor}")]
                                + rules, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    status = open(f"/proc/{proc.pid}/status").read()
                    samples.append((status_events(log), int(re.search(r"VmRSS:\s+(\d+)", status).group(1))))
                except (OSError, AttributeError):
                    pass
                time.sleep(0.5)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            stream(base, total, proc.stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        peak = 0
        while proc.poll() is None:
            try:
                peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1)))
            except (OSError, AttributeError):
                pass
            time.sleep(0.05)
        stop.set()
        sampler.join()
        secs = time.perf_counter() - start
        marks = []
        for q in (0.1, 0.25, 0.5, 0.75):
            at = [rss for ev, rss in samples if ev >= q * total]
            marks.append(f"{at[0] / 1024:.0f}M" if at else "-")
        marks.append(f"{samples[-1][1] / 1024:.0f}M" if samples else "-")
        print(f"{total:10d} {secs:8.1f} {total / secs:10.0f} {peak / 1024:8.0f}M  {' '.join(marks)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("shared")
    ap.add_argument("--events", type=int, default=300000)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--memory-events", type=int, default=200000)
    ap.add_argument("--only", choices=["throughput", "latency", "memory"])
    a = ap.parse_args()
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "otrf.ndjson")
    if not os.path.exists(data):
        subprocess.run([a.vigil, "convert", os.path.join(a.shared, "data", "otrf-security-datasets"), "-o", data],
                       check=True, stderr=subprocess.DEVNULL)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "probe")
        os.mkdir(probe)
        with open(os.path.join(probe, "probe.toml"), "w") as f:
            f.write(PROBE_RULE)
        rules = ["--rules", os.path.join(a.shared, "rules", "elastic", "windows"),
                 "--rules", os.path.join(repo, "rules", "windows")]
        subprocess.run([a.vigil, "rules", "check"] + rules[1::2], capture_output=True)  # fills the rule cache
        if a.only in (None, "throughput"):
            throughput(a.vigil, rules, data, a.events, tmp)
        if a.only in (None, "latency"):
            for poll in ("200ms", "50ms"):
                latency(a.vigil, rules + ["--rules", probe], data, a.rate, a.seconds, tmp, poll)
        if a.only in (None, "memory"):
            memory(a.vigil, rules, data, a.memory_events, tmp)


if __name__ == "__main__":
    main()
