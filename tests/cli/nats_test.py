#!/usr/bin/env python3
"""`vigil publish` and `vigil run --nats` end to end against a real
nats-server (JetStream, file storage, a free loopback port, a temporary
store): the same alert uuids as `vigil hunt` (both timings, EVTX and OTRF
inputs) in the -o file and in stream VIGIL_ALERTS; publishing twice adds
nothing; 2 and 4 workers give the alerts of one, also when one of two is
killed and restarted; kill -9 of a worker at random points, restarted each
time, leaves every expected alert exactly once; bad messages (more than the
diagnostics cap) are dead-lettered with their reason and never block a
partition; the server killed and restarted; SIGTERM checkpoints and exits 0.

usage: nats_test.py VIGIL REPO SHARED"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks  # noqa: E402
import natstest  # noqa: E402
from natstest import partition_of  # noqa: E402

PARTITIONS = 16


def file_uuids(path):
    with open(path, "rb") as f:
        return [json.loads(l)["kibana.alert.uuid"] for l in f.read().decode().splitlines() if l.strip()]


def stream_uuids(client):
    return [json.loads(m.payload)["kibana.alert.uuid"] for m in client.stream_messages("VIGIL_ALERTS")]


def reset_consumers(client):
    """Deletes the durable consumers: the next run with a new state reads from the stream's start."""
    for p in range(PARTITIONS):
        client.request(f"$JS.API.CONSUMER.DELETE.VIGIL_EVENTS.vigil-p{p}")


def main():
    vigil, repo, shared = sys.argv[1:4]
    c = Checks(vigil)

    def run(args):
        r = c.run(args)
        r.stderr = r.stderr.decode(errors="replace")
        return r
    samples = os.path.join(shared, "data", "evtx-attack-samples")
    if not os.path.isdir(samples):
        print(f"FAIL {samples} is missing: this test reads the shared recordings in place")
        sys.exit(1)
    rules = ["--rules", os.path.join(shared, "rules", "elastic", "windows"), "--rules", os.path.join(repo, "rules", "windows")]
    tmp = tempfile.mkdtemp(prefix="vigil-nats-test-")
    forever = ["--lateness", "100000d"]
    server = natstest.Server()
    children = []

    def started(proc):
        """A worker this test started: killed at the end whatever happens."""
        children.append(proc)
        return proc

    try:
        client = natstest.Client(server.url)
        nats = ["--nats", server.url]

        # Hunt's alerts: what every run below must give.
        hunt_ns, hunt_el = os.path.join(tmp, "hunt-ns.ndjson"), os.path.join(tmp, "hunt-el.ndjson")
        run(["hunt", "-q", "--no-schedule"] + rules + [samples, "-o", hunt_ns])
        run(["hunt", "-q"] + rules + [samples, "-o", hunt_el])
        expected_ns, expected_el = file_uuids(hunt_ns), file_uuids(hunt_el)
        c.check("hunt finds alerts to compare", len(expected_ns) > 400 and len(expected_el) > 300,
                f"{len(expected_ns)} / {len(expected_el)}")

        # 1. Publish; again: the server drops every second copy by its id.
        r = run(["publish"] + nats + [samples])
        m = re.search(r"(\d+) event\(s\) to .*: (\d+) stored, (\d+) already there", r.stderr)
        c.check("publish exits 0 and reports", r.returncode == 0 and m is not None, r.stderr[-800:])
        events = int(m.group(1)) if m else 0
        stored = client.stream_info("VIGIL_EVENTS")["state"]["messages"]
        c.check("every event is one message (same source identity stored once)",
                m is not None and stored == int(m.group(2)) and events == 8255 and stored >= 8240, f"{events} / {stored}")
        r = run(["publish"] + nats + [samples])
        m2 = re.search(r": (\d+) stored, (\d+) already there", r.stderr)
        c.check("publishing again adds nothing", m2 is not None and m2.group(1) == "0" and int(m2.group(2)) == events
                and client.stream_info("VIGIL_EVENTS")["state"]["messages"] == stored, r.stderr[-400:])
        subjects = {msg.subject for msg in client.stream_messages("VIGIL_EVENTS")[:2000]}
        bad = [s for s in subjects if not re.fullmatch(r"vigil\.events\.(\d+)\.[^.*> ]+", s)
               or int(s.split(".")[2]) != partition_of(re.sub(r"%([0-9A-F]{2})", lambda x: chr(int(x.group(1), 16)),
                                                               s.split(".", 3)[3]))]
        c.check("subjects name the host's partition and the host", subjects and not bad, str(bad[:3]))

        # 2. Equivalence with hunt, both timings; alerts in VIGIL_ALERTS once each.
        run_im = os.path.join(tmp, "run-im.ndjson")
        r = run(["run", "-q"] + rules + nats + forever + ["--state", os.path.join(tmp, "s-im"), "-o", run_im])
        got = file_uuids(run_im)
        c.check("run --nats (immediate) = hunt --no-schedule", r.returncode == 0 and sorted(got) == sorted(expected_ns),
                f"rc {r.returncode}, {len(got)} vs {len(expected_ns)}: {r.stderr[-600:]}")
        in_stream = stream_uuids(client)
        c.check("VIGIL_ALERTS holds each alert document once",
                len(in_stream) == len(set(in_stream)) and set(expected_ns) <= set(in_stream),
                f"{len(in_stream)} messages, {len(set(in_stream))} distinct")
        reset_consumers(client)
        run_el = os.path.join(tmp, "run-el.ndjson")
        r = run(["run", "-q", "--schedule", "elastic"] + rules + nats + forever +
                  ["--state", os.path.join(tmp, "s-el"), "-o", run_el])
        got = file_uuids(run_el)
        c.check("run --nats --schedule elastic = hunt", r.returncode == 0 and sorted(got) == sorted(expected_el),
                f"{len(got)} vs {len(expected_el)}")

        # 3. Scale-out: 2 and 4 workers give the alerts of one, each host on one worker.
        for n in (2, 4):
            reset_consumers(client)
            union, hosts = [], []
            for i in range(n):
                out = os.path.join(tmp, f"w{n}-{i}.ndjson")
                r = run(["run", "-q"] + rules + nats + forever +
                          ["--worker", f"{i}/{n}", "--state", os.path.join(tmp, f"s-w{n}-{i}"), "-o", out])
                union += file_uuids(out)
                with open(out, encoding="utf-8") as f:
                    hosts.append({json.loads(l).get("host", {}).get("name") for l in f if l.strip()})
            overlap = [h for i in range(n) for j in range(i + 1, n) for h in hosts[i] & hosts[j]]
            c.check(f"{n} workers = one worker", sorted(union) == sorted(expected_ns) and not overlap,
                    f"{len(union)} vs {len(expected_ns)}, hosts on two workers: {overlap[:3]}")

        # 3b. Two workers, one of them killed -9 while following and started
        #     again: it catches up from its own checkpoint; together they give
        #     the alerts of one worker, each exactly once.
        reset_consumers(client)
        rng2 = random.Random(int(os.environ.get("VIGIL_TEST_SEED", "23")) + 1)
        outs = [os.path.join(tmp, f"pair-{i}.ndjson") for i in range(2)]
        states = [os.path.join(tmp, f"s-pair-{i}") for i in range(2)]
        w0 = started(subprocess.Popen([vigil, "run", "-q", "--worker", "0/2"] + rules + nats + forever +
                                      ["--state", states[0], "-o", outs[0]], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        w1 = started(subprocess.Popen([vigil, "run", "-q", "--follow", "--checkpoint-interval", "100ms", "--worker", "1/2"]
                                      + rules + nats + forever + ["--state", states[1], "-o", outs[1]],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(rng2.uniform(0.5, 2.0))
        w1_killed = w1.poll() is None
        w1.kill()
        w1.wait()
        w0_rc = w0.wait(timeout=600)
        r = run(["run", "-q", "--worker", "1/2"] + rules + nats + forever + ["--state", states[1], "-o", outs[1]])
        pair = file_uuids(outs[0]) + file_uuids(outs[1])
        c.check("2 workers, one killed -9 and restarted: the alerts of one worker, once each",
                w1_killed and w0_rc == 0 and r.returncode == 0 and sorted(pair) == sorted(expected_ns),
                f"killed {w1_killed}, rc {w0_rc}/{r.returncode}, {len(pair)} lines, {len(set(pair))} distinct, "
                f"expected {len(expected_ns)}")

        # 4. kill -9 of a following worker at random points, restarted each time.
        reset_consumers(client)
        crash_out, crash_state = os.path.join(tmp, "crash.ndjson"), os.path.join(tmp, "s-crash")
        rng = random.Random(int(os.environ.get("VIGIL_TEST_SEED", "23")))
        kills = 0
        for k in range(6):
            with open(os.path.join(tmp, f"crash-{k}.log"), "wb") as log:
                p = started(subprocess.Popen([vigil, "run", "--follow", "--checkpoint-interval", "100ms",
                                      "--status-interval", "100ms"] + rules + nats + forever +
                                     ["--state", crash_state, "-o", crash_out], stdout=subprocess.DEVNULL, stderr=log))
                time.sleep(rng.uniform(0.3, 2.5))
                if p.poll() is None:
                    p.kill()
                    kills += 1
                p.wait()
        r = run(["run", "-q"] + rules + nats + forever + ["--state", crash_state, "-o", crash_out])
        got = file_uuids(crash_out)
        c.check("after kill -9 restarts: every alert once in -o", kills >= 5 and sorted(got) == sorted(expected_ns),
                f"{kills} kills, {len(got)} lines, {len(set(got))} distinct, expected {len(expected_ns)}; "
                f"kept in {tmp}")
        in_stream = stream_uuids(client)
        c.check("... and once in VIGIL_ALERTS", len(in_stream) == len(set(in_stream)) and
                set(expected_ns) <= set(in_stream), f"{len(in_stream)} / {len(set(in_stream))}")

        # 5. Bad messages (on a server of their own): dead-lettered with the
        #    reason, acknowledged, never blocking what follows them.
        bad_server = natstest.Server()
        try:
            bad_client = natstest.Client(bad_server.url)
            bad_nats = ["--nats", bad_server.url]
            run(["publish", "-q"] + bad_nats + [os.path.join(samples, os.listdir(samples)[0])])  # makes the streams
            p = 3
            host = next(h for h in (f"bad-host-{i}" for i in range(1000)) if partition_of(h) == p)
            other = next(h for h in (f"other-{i}" for i in range(1000)) if partition_of(h) != p)
            subject = f"vigil.events.{p}.{host}"
            good = {"@timestamp": "2024-01-01T00:00:00Z", "host": {"name": host}, "event": {"category": ["process"]},
                    "process": {"name": "x.exe"}}
            # 150 more documents that are not JSON: beyond the diagnostics
            # report's cap (--max-diagnostics, 100), each is still dead-lettered.
            garbage = [f"garbage {i} {{".encode() for i in range(150)]
            for payload in [b"this is not json", json.dumps({**good, "pad": "x" * 5000}).encode(),
                            json.dumps({"@timestamp": "2024-01-01T00:00:01Z", "process": {"name": "y.exe"}}).encode(),
                            json.dumps({**good, "host": {"name": other}}).encode()] + garbage + [json.dumps(good).encode()]:
                bad_client.publish(subject, payload)
            bad_client.request("$JS.API.STREAM.INFO.VIGIL_EVENTS")  # a round trip: the server has them all
            r = run(["run"] + rules + bad_nats + ["--max-event-bytes", "4KB", "--state", os.path.join(tmp, "s-bad"),
                                                  "-o", os.path.join(tmp, "bad.ndjson")])
            dl = bad_client.stream_messages("VIGIL_DEADLETTER")
            reasons = [m.headers.get("Vigil-Reason", "") for m in dl]
            c.check("154 bad messages dead-lettered with their reason",
                    len(dl) == 154 and len({m.headers.get("Vigil-Origin") for m in dl}) == 154 and any("over --max-event-bytes" in x for x in reasons)
                    and any("no host.name" in x for x in reasons) and any("belongs to partition" in x for x in reasons)
                    and all(m.subject == f"vigil.deadletter.{p}" and m.headers.get("Vigil-Origin", "").startswith(subject)
                            for m in dl), str(reasons))
            c.check("the run goes on and says where they were", r.returncode == 0 and subject in r.stderr
                    and re.search(r"\b154 message\(s\) dead-lettered", r.stderr) is not None, r.stderr[-1500:])
            info = bad_client.request(f"$JS.API.CONSUMER.INFO.VIGIL_EVENTS.vigil-p{p}")
            c.check("... and acknowledged them after the checkpoint", info.get("num_ack_pending") == 0
                    and info.get("ack_floor", {}).get("stream_seq") == info.get("delivered", {}).get("stream_seq"),
                    str(info)[:400])
            for q in range(PARTITIONS):
                bad_client.request(f"$JS.API.CONSUMER.DELETE.VIGIL_EVENTS.vigil-p{q}")
            r = run(["run", "-q", "--strict"] + rules + bad_nats + ["--state", os.path.join(tmp, "s-strict"),
                                                                    "-o", os.path.join(tmp, "strict.ndjson")])
            c.check("--strict: a bad message is exit 3", r.returncode == 3, f"rc {r.returncode}")
            bad_client.close()
        finally:
            bad_server.stop()

        # 6. kill -9 of the server (file storage) while a worker follows it, and
        #    its restart: the worker waits, reconnects, reads what is published
        #    after the restart, and every alert is there once.
        kill_server = natstest.Server()
        try:
            kill_nats = ["--nats", kill_server.url]
            files = sorted(os.path.join(samples, f) for f in os.listdir(samples))
            half = len(files) // 2
            run(["publish", "-q"] + kill_nats + files[:half])
            srv_out, srv_state = os.path.join(tmp, "srvkill.ndjson"), os.path.join(tmp, "s-srvkill")
            srv_log = os.path.join(tmp, "srvkill.log")
            with open(srv_log, "wb") as lf:
                p = started(subprocess.Popen([vigil, "run", "--follow", "--checkpoint-interval", "200ms",
                                      "--status-interval", "200ms"] + rules + kill_nats + forever +
                                     ["--state", srv_state, "-o", srv_out], stdout=subprocess.DEVNULL, stderr=lf))
                # The first half read (the worker idle, pulling): then the server goes.
                end = time.time() + 120
                while time.time() < end and not re.search(rb"vigil run: [1-9]\d* events \([^)]*\), 16 partition\(s\), lag 0 ",
                                                          open(srv_log, "rb").read()):
                    time.sleep(0.1)
                kill_server.kill()
                time.sleep(2)
                kill_server.start()
                r1 = run(["publish"] + kill_nats + files[half:])
                end = time.time() + 120
                while time.time() < end and not re.search(rb"vigil run: %d events" % stored, open(srv_log, "rb").read()):
                    time.sleep(0.2)
                p.send_signal(signal.SIGTERM)
                rc = p.wait(timeout=120)
            r = run(["run", "-q"] + rules + kill_nats + forever + ["--state", srv_state, "-o", srv_out])
            text = open(srv_log, encoding="utf-8", errors="replace").read()
            got = file_uuids(srv_out)
            waited = rc == 0 and r.returncode == 0 and r1.returncode == 0 and "retrying until the server is back" in text \
                and "the server is back" in text and f"vigil run: {stored} events" in text
            if not waited:  # the whole worker log (a sanitizer's report starts far before its last lines)
                print("---- worker log ----\n" + text + "\n---- end of worker log ----")
            c.check("server killed and restarted: the worker waited, then read on", waited, text[-800:])
            c.check("... every alert once in -o", sorted(got) == sorted(expected_ns),
                    f"{len(got)} lines, {len(set(got))} distinct, expected {len(expected_ns)}")
            kill_client = natstest.Client(kill_server.url)
            in_stream = stream_uuids(kill_client)
            c.check("... and once in VIGIL_ALERTS", len(in_stream) == len(set(in_stream)) and
                    set(expected_ns) <= set(in_stream), f"{len(in_stream)} / {len(set(in_stream))}")
            kill_client.close()
        finally:
            kill_server.stop()

        # 6b. An OTRF dataset (JSON events of Windows logs in a zip) through
        #     publish and run --nats: the alerts of hunt over the zip.
        otrf_server = natstest.Server()
        try:
            otrf = [os.path.join(shared, "data", "otrf-security-datasets", "windows", "lateral_movement", "host", f)
                    for f in ("covenant_dcom_iertutil_dll_hijack.zip", "covenant_dcom_registerxll.zip")]
            rp = run(["publish", "-q", "--nats", otrf_server.url] + otrf)
            otrf_client = natstest.Client(otrf_server.url)
            # Both timings, each from the stream's start (fresh consumers and state).
            for timing, hunt_flags, run_flags in (("immediate", ["--no-schedule"], []),
                                                  ("elastic", [], ["--schedule", "elastic"])):
                otrf_hunt = os.path.join(tmp, f"otrf-hunt-{timing}.ndjson")
                run(["hunt", "-q"] + hunt_flags + rules + otrf + ["-o", otrf_hunt])
                expected_otrf = file_uuids(otrf_hunt)
                for q in range(PARTITIONS):
                    otrf_client.request(f"$JS.API.CONSUMER.DELETE.VIGIL_EVENTS.vigil-p{q}")
                otrf_out = os.path.join(tmp, f"otrf-run-{timing}.ndjson")
                r = run(["run", "-q"] + run_flags + rules + ["--nats", otrf_server.url] + forever +
                        ["--state", os.path.join(tmp, f"s-otrf-{timing}"), "-o", otrf_out])
                got = file_uuids(otrf_out)
                c.check(f"OTRF datasets: run --nats = hunt, {timing} timing", rp.returncode == 0 and r.returncode == 0
                        and len(expected_otrf) >= 5 and sorted(got) == sorted(expected_otrf),
                        f"{len(got)} vs {len(expected_otrf)}: {r.stderr[-400:]}")
            otrf_client.close()
        finally:
            otrf_server.stop()

        # 7. Metrics while following; SIGTERM checkpoints and exits 0.
        log = os.path.join(tmp, "term.log")
        port = natstest.free_port()
        with open(log, "wb") as lf:
            p = started(subprocess.Popen([vigil, "run", "--follow", "--status-interval", "100ms",
                                  "--metrics-listen", f"127.0.0.1:{port}"] + rules + nats + forever +
                                 ["--state", crash_state, "-o", crash_out], stdout=subprocess.DEVNULL, stderr=lf))
            end = time.time() + 60
            while time.time() < end and b"vigil run: " not in open(log, "rb").read():
                time.sleep(0.1)
            time.sleep(1.5)
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            except OSError as e:
                body = str(e)
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=60)
        samples_m = dict(re.findall(r"^(vigil_[a-z_]+(?:\{[^}]*\})?) (\d+)$", body, re.M))
        consumed = sum(int(v) for k, v in samples_m.items() if k.startswith("vigil_events_consumed_total{"))
        c.check("metrics: Prometheus text with the state's counts",
                "# TYPE vigil_partition_lag gauge" in body and consumed == stored
                and samples_m.get("vigil_connected") == "1" and samples_m.get("vigil_dead_letters_total") == "0"
                and len([k for k in samples_m if k.startswith("vigil_partition_lag{")]) == PARTITIONS
                and "vigil_alerts_total" in samples_m and "vigil_evictions_total" in samples_m, body[:800])
        text = open(log, encoding="utf-8", errors="replace").read()
        c.check("SIGTERM: exit 0 with a checkpoint", rc == 0 and "state checkpointed" in text, text[-500:])
        c.check("... and nothing written twice", sorted(file_uuids(crash_out)) == sorted(expected_ns))
    finally:
        for proc in children:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        server.stop()
    if not c.failures:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
