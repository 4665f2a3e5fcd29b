#!/usr/bin/env python3
"""Continuous detection over NATS JetStream: a nats-server (JetStream, file
storage in a temporary directory, loopback) on the same machine as vigil,
and the first --events events of the OTRF recordings (bench/data/otrf.ndjson,
made by `vigil convert` as run_hunt_bench.py does).

1. publish: `vigil publish` of those events into VIGIL_EVENTS (16 partitions),
   wall time until the server acknowledged the last one.
2. drain: `vigil run --nats` (no --follow: it ends when every partition is
   handed over) with Elastic's 391 EQL rules over the filled stream, next to
   bench/nats_bare_consumer (pulls and acks the same partitions the same way:
   a thread per partition, blocking fetches of 256;
   no decoding, no rules): events per second of wall time and per CPU second
   of the consuming process (user + sys). Alert counts must be equal to
   `vigil hunt --no-schedule` over the same file, and the bare consumer must
   pull as many messages as the stream holds, or the script fails.
3. latency: events published at a steady --rate (the recordings' events with
   @timestamp set to the wall clock, in 1 ms slices, by bench/nats_rate_publisher
   next to BARE_CONSUMER; with --python-publisher in 10 ms slices straight from
   this script over the NATS protocol, which tops out near 12.5 k/s) while `vigil run --nats --follow` consumes;
   a probe event among them 10 times a second, which a probe rule alerts on.
   Latency = from the probe's publish to its alert line in the alert file
   (polled every millisecond); p50/p90/p99/max over --seconds.

usage: run_nats_bench.py VIGIL BARE_CONSUMER SHARED_DIR [--events N] [--rate R] [--seconds S]
"""
import argparse
import glob
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cli"))
from benchlib import warm  # noqa: E402
import natstest  # noqa: E402
from run_follow_bench import PROBE_RULE, TS, iso, source_lines  # noqa: E402

PARTITIONS = 16


def cpu_run(cmd):
    """Runs cmd; returns (wall seconds, CPU seconds of the child, stdout, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout, out.stderr


def eql_rules(shared, tmp):
    d = os.path.join(tmp, "eql-rules")
    os.makedirs(d)
    for path in sorted(glob.glob(os.path.join(shared, "rules", "elastic", "windows", "*.toml"))):
        with open(path, encoding="utf-8") as f:
            if re.search(r'^language = "eql"', f.read(), re.M):
                os.symlink(os.path.abspath(path), os.path.join(d, os.path.basename(path)))
    return d


def alert_count(stderr):
    m = re.search(r"^(\d+) alert\(s\)", stderr, re.M)
    return int(m.group(1)) if m else 0 if "no alerts" in stderr else -1


def drain(vigil, bare, data, n, shared, tmp):
    # The first n events that name their host (an event without host.name
    # cannot be partitioned: vigil publish leaves it out).
    part = os.path.join(tmp, "part.ndjson")
    host = re.compile(rb'"host":\{[^{}]*"name":"[^"]')
    with open(data, "rb") as src, open(part, "wb") as dst:
        kept = 0
        for line in src:
            if kept == n:
                break
            if host.search(line):
                dst.write(line)
                kept += 1
    size = os.path.getsize(part)
    warm(part)
    rules = eql_rules(shared, tmp)
    server = natstest.Server(os.path.join(tmp, "nats"))
    try:
        url = server.url
        wall, cpu, _, err = cpu_run([vigil, "publish", "--nats", url, "--partitions", str(PARTITIONS), part])
        m = re.search(r"(\d+) event\(s\) to .*: (\d+) stored", err)
        if not m or int(m.group(1)) != n:
            sys.exit(f"publish did not send {n} events: {err[-500:]}")
        stored = int(m.group(2))
        print(f"data: the first {n} events of {data} ({size / 1e6:.0f} MB); {len(os.listdir(rules))} EQL rules")
        print(f"{'run':62} {'seconds':>8} {'events/s':>10} {'CPU s':>7} {'events/CPU s':>13}")
        print(f"{'vigil publish (16 partitions), until all acknowledged':62} {wall:8.2f} {n / wall:10.0f} "
              f"{cpu:7.2f} {n / cpu:13.0f}")
        wall, cpu, out, _ = cpu_run([bare, url, str(PARTITIONS)])
        pulled = int(out.split()[0])
        if pulled != stored:
            sys.exit(f"the bare consumer pulled {pulled} of {stored} messages")
        print(f"{'bare consumer (pull 256 + ack per partition thread, nothing else)':62} {wall:8.2f} {stored / wall:10.0f} "
              f"{cpu:7.2f} {stored / cpu:13.0f}")
        bare_rate = stored / cpu
        state = os.path.join(tmp, "state")
        wall, cpu, _, err = cpu_run([vigil, "run", "--nats", url, "--state", state, "--lateness", "100000d",
                                     "--rules", rules, "-o", os.path.join(tmp, "run.ndjson")])
        events = int(re.findall(r"vigil run: (\d+) events", err)[-1])
        if events != stored:
            sys.exit(f"vigil run read {events} of {stored} events")
        run_alerts = alert_count(err)
        print(f"{'vigil run --nats, 391 EQL rules, 16 partitions, 1 process':62} {wall:8.2f} {stored / wall:10.0f} "
              f"{cpu:7.2f} {stored / cpu:13.0f}   ({stored / cpu / bare_rate:.2f}x the bare consumer per CPU s)")
        _, _, _, err = cpu_run([vigil, "hunt", "--no-schedule", "--threads", "1", "--rules", rules, "-o",
                                os.path.join(tmp, "hunt.ndjson"), part])
        hunt_alerts = alert_count(err)
        if hunt_alerts != run_alerts:
            sys.exit(f"vigil run --nats made {run_alerts} alerts, vigil hunt --no-schedule {hunt_alerts}")
        print(f"alerts: {run_alerts}, the same as vigil hunt --no-schedule over the file")
    finally:
        server.stop()
        os.unlink(part)


def latency(vigil, data, rate, seconds, tmp, run_args=(), publisher=None):
    base = source_lines(data, 50000)
    rules = os.path.join(tmp, "probe-rules")
    os.makedirs(rules)
    with open(os.path.join(rules, "probe.toml"), "w", encoding="utf-8") as f:
        f.write(PROBE_RULE)
    server = natstest.Server(os.path.join(tmp, "nats-lat"))
    try:
        url = server.url
        # The streams, made by a publish of nothing.
        subprocess.run([vigil, "publish", "-q", "--nats", url, os.devnull], check=True)
        alerts, log = os.path.join(tmp, "lat-alerts.ndjson"), os.path.join(tmp, "lat.log")
        open(alerts, "wb").close()
        proc = subprocess.Popen([vigil, "run", "--follow", "--nats", url, "--state", os.path.join(tmp, "lat-state"),
                                 "--status-interval", "1s", "--rules", rules, "-o", alerts] + list(run_args),
                                stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
        time.sleep(2)
        client = natstest.Client(url)
        sent = {}
        stop = threading.Event()
        seen = {}

        def watch():
            pos = 0
            while not stop.is_set() or len(seen) < len(sent):
                with open(alerts, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
                if chunk and chunk.endswith(b"\n"):
                    pos += len(chunk)
                    now = time.perf_counter()
                    for line in chunk.splitlines():
                        probe = json.loads(line).get("process", {}).get("args", [""])[0]
                        seen.setdefault(probe, now)
                if stop.is_set() and time.perf_counter() > stop_at + 10:
                    break
                time.sleep(0.001)

        stop_at = 0.0
        watcher = threading.Thread(target=watch)
        watcher.start()
        hosts = [f"bench-host-{i}" for i in range(64)]
        if publisher:
            # The C publisher (bench/nats_rate_publisher): the events, each
            # with its host and subject, and a placeholder timestamp it fills.
            events = os.path.join(tmp, "lat-events.txt")
            with open(events, "w", encoding="utf-8") as f:
                for i, line in enumerate(base):
                    doc = json.loads(TS.sub(b'"@timestamp":"' + b"0" * 24 + b'"', line, count=1))
                    host = hosts[i % len(hosts)]
                    doc.setdefault("host", {})["name"] = host
                    subject = f"vigil.events.{natstest.partition_of(host, PARTITIONS)}.{host}"
                    f.write(subject + "\t" + json.dumps(doc, separators=(",", ":")) + "\n")
            out = subprocess.run([publisher, url, events, str(rate), str(seconds), str(PARTITIONS), str(len(hosts))],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"nats_rate_publisher failed: {out.stderr[-500:]}")
            offered = 0.0
            for line in out.stdout.splitlines():
                f = line.split()
                if f[0] == "probe":
                    sent[f[1]] = float(f[2])
                elif f[0] == "offered":
                    offered = float(f[1])
        else:
            per_slice = max(1, rate // 100)
            i = probes = 0
            start = time.perf_counter()
            slices = int(seconds * 100)
            for s in range(slices):
                now_ns = time.time_ns()
                stamp = iso(now_ns).encode()
                for k in range(per_slice):
                    line = TS.sub(b'"@timestamp":"' + stamp + b'"', base[i % len(base)], count=1)
                    doc = json.loads(line)
                    host = hosts[i % len(hosts)]
                    doc.setdefault("host", {})["name"] = host
                    client.publish(f"vigil.events.{natstest.partition_of(host, PARTITIONS)}.{host}", json.dumps(doc))
                    i += 1
                if s % 10 == 0:
                    name = f"probe-{probes}"
                    host = hosts[probes % len(hosts)]
                    doc = {"@timestamp": iso(time.time_ns()), "host": {"name": host},
                           "event": {"category": ["process"], "type": ["start"]},
                           "process": {"name": "vigil-latency-probe.exe", "args": [name]}}
                    sent[name] = time.perf_counter()
                    client.publish(f"vigil.events.{natstest.partition_of(host, PARTITIONS)}.{host}", json.dumps(doc))
                    probes += 1
                delay = start + (s + 1) / 100 - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            offered = i / (time.perf_counter() - start)
        stop_at = time.perf_counter()
        stop.set()
        watcher.join()
        proc.terminate()
        proc.wait()
        lat = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
        if len(lat) != len(sent):
            sys.exit(f"{len(sent) - len(lat)} probe alert(s) never arrived: {open(log).read()[-800:]}")
        q = statistics.quantiles(lat, n=100)
        print(f"latency at {offered:.0f} events/s offered ({len(lat)} probes, 64 hosts): "
              f"p50 {q[49]:.0f} ms, p90 {q[89]:.0f} ms, p99 {q[98]:.0f} ms, max {lat[-1]:.0f} ms")
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("bare")
    ap.add_argument("shared")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "otrf.ndjson"))
    ap.add_argument("--events", type=int, default=500000)
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--skip-drain", action="store_true")
    ap.add_argument("--run-arg", action="append", default=[], help="one more argument for the latency run's vigil run")
    ap.add_argument("--python-publisher", action="store_true",
                    help="offer the latency run's events from this script (tops out near 12.5 k/s) instead of "
                         "bench/nats_rate_publisher")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vigil-nats-bench-")
    try:
        if not a.skip_drain:
            drain(a.vigil, a.bare, a.data, a.events, a.shared, tmp)
        publisher = os.path.join(os.path.dirname(os.path.abspath(a.bare)), "nats_rate_publisher")
        if a.python_publisher or not os.access(publisher, os.X_OK):
            publisher = None
        latency(a.vigil, a.data, a.rate, a.seconds, tmp, a.run_arg, publisher)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
