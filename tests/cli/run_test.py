#!/usr/bin/env python3
"""`vigil run` end to end: the same alerts as `vigil hunt` (both timings,
uuids compared), following a growing file through rotation and new files in
a directory, malformed lines, and kill -9 at random points with restarts from
the state directory: the alert file must hold every expected alert exactly
once.

usage: run_test.py VIGIL REPO SHARED"""
import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks  # noqa: E402


def uuids(path):
    with open(path, "rb") as f:
        return [json.loads(l)["kibana.alert.uuid"] for l in f.read().decode().splitlines() if l.strip()]


def without_source(line):
    """An alert line without its source location (vigil.source/vigil.sources,
    log.file.path):
    the same event read from another file name (rotated) or stdin is the
    same alert, with the rest of its document byte for byte the same."""
    line = re.sub(r',"log":\{"file":\{"path":"(?:[^"\\]|\\.)*"\}\}', "", line)
    return re.sub(r',"vigil\.sources?":(\[[^\]]*\]|\{[^}]*\})', "", line)


def documents(path):
    """Each alert line by its uuid, without its source location."""
    with open(path, "rb") as f:
        return {json.loads(l)["kibana.alert.uuid"]: without_source(l)
                for l in f.read().decode().splitlines() if l.strip()}


def wait_events(log, n, timeout=300):
    """Waits until the run logging to `log` has read `n` events (its status
    line, which counts across restarts, says so after each poll)."""
    end = time.time() + timeout
    while time.time() < end:
        with open(log, "rb") as f:
            if re.search(rb"vigil run: %d events " % n, f.read()):
                return True
        time.sleep(0.1)
    return False


def wait_for(cond, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def main():
    vigil, repo, shared = sys.argv[1:4]
    c = Checks(vigil)
    samples = os.path.join(shared, "data", "evtx-attack-samples")
    rules = ["--rules", os.path.join(shared, "rules", "elastic", "windows"), "--rules", os.path.join(repo, "rules", "windows")]
    if not os.path.isdir(samples):
        print(f"FAIL {samples} is missing: this test reads the shared recordings in place")
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="vigil-run-test-")
    forever = ["--lateness", "100000d"]

    # 1. Equivalence with hunt on the EVTX attack samples (files years apart:
    #    a lateness longer than the data's span, as for a replay).
    hunt_ns, run_im = os.path.join(tmp, "hunt-ns.ndjson"), os.path.join(tmp, "run-im.ndjson")
    hunt_el, run_el = os.path.join(tmp, "hunt.ndjson"), os.path.join(tmp, "run-el.ndjson")
    c.run(["hunt", "-q", "--no-schedule"] + rules + [samples, "-o", hunt_ns])
    c.run(["hunt", "-q"] + rules + [samples, "-o", hunt_el])
    r1 = c.run(["run", "-q"] + rules + forever + [samples, "-o", run_im])
    r2 = c.run(["run", "-q", "--schedule", "elastic"] + rules + forever + [samples, "-o", run_el])
    c.check("run exits 0", r1.returncode == 0 and r2.returncode == 0, r1.stderr[-500:] + r2.stderr[-500:])
    a, b = sorted(uuids(run_im)), sorted(uuids(hunt_ns))
    c.check("run == hunt --no-schedule: same alert uuids", a == b and len(a) > 300, (len(a), len(b)))
    a, b = sorted(uuids(run_el)), sorted(uuids(hunt_el))
    c.check("run --schedule elastic == hunt: same alert uuids", a == b and len(a) > 300, (len(a), len(b)))

    # A time-ordered stream: the samples as ECS NDJSON, sorted by @timestamp.
    converted = os.path.join(tmp, "all.ndjson")
    c.run(["convert", samples, "-o", converted])
    docs = [l for l in open(converted, encoding="utf-8").read().splitlines() if l.strip()]
    docs.sort(key=lambda l: json.loads(l).get("@timestamp", ""))
    stream = os.path.join(tmp, "stream.ndjson")
    with open(stream, "w", encoding="utf-8") as f:
        f.write("\n".join(docs) + "\n")
    expected_file = os.path.join(tmp, "expected.ndjson")
    r = c.run(["run", "-q"] + rules + [stream, "-o", expected_file])
    expected = sorted(uuids(expected_file))
    c.check("a time-ordered stream alerts (30s lateness)", r.returncode == 0 and len(expected) > 300, len(expected))
    # With a lateness the data never needs, the same as holding everything to the end.
    forever_file = os.path.join(tmp, "forever.ndjson")
    c.run(["run", "-q"] + rules + forever + [stream, "-o", forever_file])
    c.check("in-order stream: 30s lateness == unbounded lateness", sorted(uuids(forever_file)) == expected)

    # 2. Follow with kill -9 and restarts: the stream is written in chunks to
    #    a followed file that is rotated once; a malformed line and a new file
    #    in a followed directory arrive on the way.
    live = os.path.join(tmp, "live")
    os.makedirs(live)
    followed, state, out = os.path.join(live, "events.ndjson"), os.path.join(tmp, "state"), os.path.join(tmp, "alerts.ndjson")
    drop_dir = os.path.join(tmp, "drop")
    os.makedirs(drop_dir)
    rng = random.Random(7)
    n = len(docs)
    cut_points = sorted(rng.sample(range(1, n), 12))
    chunks, prev = [], 0
    for p in cut_points + [n]:
        chunks.append(docs[prev:p])
        prev = p
    rotate_at = 5
    args = ["run", "--follow", "--state", state, "-o", out, "--poll-interval", "20ms", "--checkpoint-interval", "50ms",
            "--status-interval", "100ms"] + rules + [followed, drop_dir]
    log = os.path.join(tmp, "run.log")
    proc = None
    kills = 0
    written = 0
    for i, chunk in enumerate(chunks):
        if proc is None:
            proc = subprocess.Popen([vigil] + args, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))
        if i == rotate_at:
            os.rename(followed, followed + ".1")
        with open(followed, "a", encoding="utf-8") as f:
            if i == 3:
                f.write('{"@timestamp": "2020-01-01T00:00:00Z", "broken\n')
            f.write("\n".join(chunk) + "\n")
        written += len(chunk)
        if i == 0:
            # The first run must have opened the file and checkpointed (its
            # first status line comes after its first checkpoint) before
            # anything rotates: a file rotated away before vigil ever saw it
            # is not vigil's to read (as with tail -F). Slow builds (sanitizers)
            # take seconds to load the rules.
            c.check("the first run starts reading", wait_for(
                lambda: re.search(rb"vigil run: [1-9][0-9]* events", open(log, "rb").read()) is not None, 300))
        time.sleep(rng.uniform(0.05, 0.6))
        if i % 2 == 1 and kills < 6:
            proc.kill()
            proc.wait()
            proc = None
            kills += 1
    if proc is None:
        proc = subprocess.Popen([vigil] + args, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))
    c.check("the restarted runs read every event", wait_events(log, n), open(log, "rb").read()[-500:])
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    err = open(log, "rb").read()
    c.check("SIGTERM: exit 0 with a checkpoint", proc.returncode == 0 and b"state checkpointed" in err, err[-800:])
    c.check("killed at >= 5 points", kills >= 5, kills)
    # The end of the stream (what a finite run does at its end) is not final
    # in follow mode: alerts still held (sequences, suppression windows)
    # come with later events. Compare what both have made final: the
    # followed run's alerts must all be expected ones, each once.
    got = uuids(out)
    c.check("no alert written twice across kills", len(got) == len(set(got)), len(got) - len(set(got)))
    c.check("every alert written is an expected one", set(got) <= set(expected), sorted(set(got) - set(expected))[:5])
    missing = set(expected) - set(got)
    # A finite run ends by closing what is open; the followed run has not seen
    # the end: at most the alerts of its last lateness window may be missing.
    finite_tail = [json.loads(l) for l in open(expected_file, encoding="utf-8") if json.loads(l)["kibana.alert.uuid"] in missing]
    c.check("none missing but the still-open tail", len(missing) <= 20, (len(missing), [a.get("kibana.alert.rule.name") for a in finite_tail][:5]))

    # 3. The same stream read in one go by run --follow (no kills), ended by
    #    SIGTERM, gives the same alerts as the killed runs.
    state2, out2 = os.path.join(tmp, "state2"), os.path.join(tmp, "alerts2.ndjson")
    whole = os.path.join(tmp, "whole")
    os.makedirs(whole)
    with open(os.path.join(whole, "events.ndjson"), "w", encoding="utf-8") as f:
        f.write('{"@timestamp": "2020-01-01T00:00:00Z", "broken\n')
        f.write("\n".join(docs) + "\n")
    log2 = os.path.join(tmp, "run2.log")
    p2 = subprocess.Popen([vigil, "run", "--follow", "--state", state2, "-o", out2, "--poll-interval", "20ms",
                           "--status-interval", "100ms"] + rules + [os.path.join(whole, "events.ndjson")],
                          stdout=subprocess.DEVNULL, stderr=open(log2, "wb"))
    c.check("the one-go run reads every event", wait_events(log2, n), open(log2, "rb").read()[-500:])
    p2.send_signal(signal.SIGTERM)
    p2.wait(timeout=60)
    err2 = open(log2, "rb").read()
    c.check("a malformed line in a followed file is skipped and reported with its line",
            b"events.ndjson:1 (byte 0)" in err2 and b"1 document(s) skipped" in err2, err2[-800:])
    c.check("killed and restarted == read in one go", sorted(got) == sorted(uuids(out2)),
            (len(got), len(uuids(out2))))
    # Alert by alert, the whole document: the triage context, sequence state
    # and suppression counts came through the checkpoints unchanged.
    killed, whole_run, finite = documents(out), documents(out2), documents(expected_file)
    c.check("killed and restarted: every alert document byte for byte as read in one go",
            all(killed[k] == whole_run.get(k) for k in killed), [k for k in killed if killed[k] != whole_run.get(k)][:3])
    c.check("... and as the finite run wrote it", all(killed[k] == finite.get(k) for k in killed),
            [k for k in killed if killed[k] != finite.get(k)][:3])
    # A restart with nothing new writes nothing.
    before = open(out2, "rb").read()
    r = c.run(["run", "-q", "--state", state2, "-o", out2] + rules + [os.path.join(whole, "events.ndjson")])
    c.check("restart over a fully read input: exit 0", r.returncode == 0, r.stderr[-400:])
    after = open(out2, "rb").read()
    c.check("restart then end of input: the held alerts follow, none repeated",
            after.startswith(before) and sorted(uuids(out2)) == expected, (len(uuids(out2)), len(expected)))
    # 4. Rotation while vigil is stopped: the file it was reading is renamed
    #    (and grown) and a new one created under its name; on restart the
    #    renamed file is found by its identity, read to its end, then the new
    #    one from its start: every event once.
    rot = os.path.join(tmp, "rot")
    os.makedirs(rot)
    rot_file, rot_state, rot_log = os.path.join(rot, "e.ndjson"), os.path.join(tmp, "rot-state"), os.path.join(tmp, "rot.log")
    rot_args = [vigil, "run", "--follow", "--state", rot_state, "-o", os.path.join(tmp, "rot-alerts.ndjson"),
                "--poll-interval", "20ms", "--checkpoint-interval", "50ms", "--status-interval", "100ms",
                "--rules", os.path.join(repo, "rules", "windows"), rot_file]
    with open(rot_file, "w", encoding="utf-8") as f:
        f.write("\n".join(docs[:1000]) + "\n")
    p3 = subprocess.Popen(rot_args, stdout=subprocess.DEVNULL, stderr=open(rot_log, "ab"))
    c.check("rotation: the first run reads its file", wait_events(rot_log, 1000))
    p3.kill()
    p3.wait()
    with open(rot_file, "a", encoding="utf-8") as f:
        f.write("\n".join(docs[1000:2000]) + "\n")
    os.rename(rot_file, rot_file + ".1")
    with open(rot_file, "w", encoding="utf-8") as f:
        f.write("\n".join(docs[2000:3000]) + "\n")
    p3 = subprocess.Popen(rot_args, stdout=subprocess.DEVNULL, stderr=open(rot_log, "ab"))
    c.check("rotation while stopped: the renamed file's rest and the new file, every event once",
            wait_events(rot_log, 3000), open(rot_log, "rb").read()[-400:])
    p3.send_signal(signal.SIGTERM)
    p3.wait(timeout=60)
    c.check("rotation while stopped: no more than that", re.findall(rb"vigil run: (\d+) events", open(rot_log, "rb").read())[-1] == b"3000")

    # 5. A file replaced under the same name while followed (an editor's or
    #    a log shipper's write-then-rename): what was appended to the old one
    #    just before is still read (vigil holds it open), then the new one from
    #    its start. A truncated EVTX dropped into a followed directory is
    #    reported with its name and what is wrong; the run goes on.
    rep = os.path.join(tmp, "rep")
    os.makedirs(rep)
    rep_file, rep_log = os.path.join(rep, "e.ndjson"), os.path.join(tmp, "rep.log")
    rep_drop = os.path.join(tmp, "rep-drop")
    os.makedirs(rep_drop)
    rep_args = [vigil, "run", "--follow", "-o", os.path.join(tmp, "rep-alerts.ndjson"), "--poll-interval", "20ms",
                "--status-interval", "100ms", "--rules", os.path.join(repo, "rules", "windows"), rep_file, rep_drop]
    with open(rep_file, "w", encoding="utf-8") as f:
        f.write("\n".join(docs[:1000]) + "\n")
    p4 = subprocess.Popen(rep_args, stdout=subprocess.DEVNULL, stderr=open(rep_log, "ab"))
    c.check("replace: the run reads the first file", wait_events(rep_log, 1000))
    with open(rep_file, "a", encoding="utf-8") as f:
        f.write("\n".join(docs[1000:1500]) + "\n")
    with open(rep_file + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(docs[1500:2500]) + "\n")
    os.rename(rep_file + ".tmp", rep_file)
    c.check("replaced under the same name: the old file's last lines and the whole new file",
            wait_events(rep_log, 2500), open(rep_log, "rb").read()[-400:])
    evtx = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(samples) for f in fs if f.endswith(".evtx"))
    big = max(evtx, key=os.path.getsize)
    data = open(big, "rb").read()
    with open(os.path.join(rep_drop, "cut.evtx.part"), "wb") as f:
        f.write(data[: len(data) // 2 + 1234])
    os.rename(os.path.join(rep_drop, "cut.evtx.part"), os.path.join(rep_drop, "cut.evtx"))
    c.check("a truncated EVTX in a followed directory is reported by name",
            wait_for(lambda: b"cut.evtx" in open(rep_log, "rb").read(), 60), open(rep_log, "rb").read()[-600:])
    with open(rep_file, "a", encoding="utf-8") as f:
        f.write("\n".join(docs[2500:3000]) + "\n")
    # The EVTX's readable records count too: 3,000 NDJSON events and more.
    c.check("after the truncated EVTX the run goes on reading", wait_for(
        lambda: int(re.findall(rb"vigil run: (\d+) events", open(rep_log, "rb").read())[-1]) > 3000, 60))
    p4.send_signal(signal.SIGTERM)
    p4.wait(timeout=60)
    c.check("replace and truncated EVTX: the run ends cleanly", p4.returncode == 0, open(rep_log, "rb").read()[-400:])

    # stdin: the same alerts as the same events from a file.
    part = os.path.join(tmp, "part.ndjson")
    with open(part, "w", encoding="utf-8") as f:
        f.write("\n".join(docs[:3000]) + "\n")
    from_file = c.run(["run", "-q", "--rules", os.path.join(repo, "rules", "windows"), part])
    with open(part, "rb") as f:
        from_stdin = subprocess.run([vigil, "run", "-q", "--rules", os.path.join(repo, "rules", "windows"), "-"],
                                    stdin=f, capture_output=True)
    c.check("run reads stdin: the same alerts as from the file", from_stdin.returncode == 0 and
            without_source(from_stdin.stdout.decode()) == without_source(from_file.stdout.decode()) and
            len(from_file.stdout) > 0 and b'"vigil.source":{"path":"-","line":' in from_stdin.stdout, (len(from_stdin.stdout), len(from_file.stdout)))

    # Named event files that are not NDJSON (EVTX; a gzip of NDJSON) are read
    # whole: the same alerts as `vigil hunt` over them; so are EVTX on stdin
    # and named pipes, whatever they carry.
    evtx_files = [os.path.join(samples, "AutomatedTestingTools", "PanacheSysmon_vs_AtomicRedTeam01.evtx"),
                  os.path.join(samples, "Persistence", "persistence_sysmon_11_13_1_shime_appfix.evtx")]
    hunt_files = os.path.join(tmp, "hunt-files.ndjson")
    c.run(["hunt", "-q", "--no-schedule"] + rules + evtx_files + ["-o", hunt_files])
    named = c.run(["run", "-q"] + rules + forever + evtx_files + ["-o", "-"])
    expected_named = sorted(uuids(hunt_files))
    c.check("run over named EVTX files == hunt", named.returncode == 0 and len(expected_named) > 50 and
            sorted(json.loads(l)["kibana.alert.uuid"] for l in named.stdout.decode().splitlines()) == expected_named,
            named.stderr[-500:])
    one = c.run(["run", "-q"] + rules + forever + evtx_files[:1] + ["-o", "-"])
    with open(evtx_files[0], "rb") as f:
        evtx_bytes = f.read()
    from_stdin = c.run(["run", "-q"] + rules + forever + ["-"], stdin=evtx_bytes)
    c.check("run reads EVTX on stdin", from_stdin.returncode == 0 and len(one.stdout) > 0 and
            without_source(from_stdin.stdout.decode()) == without_source(one.stdout.decode()),
            from_stdin.stderr[-500:])
    gz = os.path.join(tmp, "part.ndjson.gz")
    with open(gz, "wb") as f:
        f.write(gzip.compress(open(part, "rb").read()))
    from_gz = c.run(["run", "-q", "--rules", os.path.join(repo, "rules", "windows"), gz])
    c.check("run reads a named gzip file whole", from_gz.returncode == 0 and
            without_source(from_gz.stdout.decode()) == without_source(from_file.stdout.decode()), from_gz.stderr[-500:])
    for name, data, want in (("fifo-ndjson", open(part, "rb").read(), from_file.stdout),
                             ("fifo-evtx", evtx_bytes, one.stdout)):
        fifo = os.path.join(tmp, name)
        os.mkfifo(fifo)
        args = ["--rules", os.path.join(repo, "rules", "windows")] if name == "fifo-ndjson" else rules + forever
        proc = subprocess.Popen([vigil, "run", "-q"] + args + [fifo], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def write(fifo=fifo, data=data):
            try:
                with open(fifo, "wb") as f:
                    f.write(data)
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=write)
        writer.start()
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join()
        c.check(f"run reads a named pipe ({name})", proc.returncode == 0 and len(want) > 0 and
                without_source(out.decode()) == without_source(want.decode()), err[-500:])

    # Followed, an EVTX file is read once complete and once per identity: a
    # file put in its place is read whole, and said so; a restart from the
    # state directory reads neither again.
    ev_state, ev_alerts, ev_log = os.path.join(tmp, "evtx-state"), os.path.join(tmp, "evtx-alerts.ndjson"), \
        os.path.join(tmp, "evtx-run.log")
    followed = os.path.join(tmp, "followed.evtx")
    with open(followed, "wb") as f:
        f.write(evtx_bytes)
    counts = [int(c.run(["query", "--count", "any where true", e]).stdout) for e in evtx_files]

    def follow_run():
        return subprocess.Popen([vigil, "run", "--follow", "--state", ev_state, "--status-interval", "100ms",
                                 "--poll-interval", "50ms", "-o", ev_alerts] + rules + [followed],
                                stderr=open(ev_log, "ab"))

    p5 = follow_run()
    c.check("a followed EVTX file is read once complete", counts[0] > 100 and wait_events(ev_log, counts[0], 60),
            open(ev_log, "rb").read()[-300:])
    with open(followed + ".new", "wb") as f:
        f.write(open(evtx_files[1], "rb").read())
    os.rename(followed + ".new", followed)
    c.check("an EVTX file put in its place is read whole, and said so", wait_events(ev_log, sum(counts), 60) and
            b"the file changed after it was read" in open(ev_log, "rb").read(), open(ev_log, "rb").read()[-400:])
    p5.send_signal(signal.SIGTERM)
    p5.wait(timeout=60)
    p5 = follow_run()
    time.sleep(3)  # past the 1 s settling: a file not known as read would be read again by now
    p5.send_signal(signal.SIGTERM)
    p5.wait(timeout=60)
    log = open(ev_log, "rb").read()
    ids = uuids(ev_alerts)
    c.check("after a restart the EVTX file read before is not read again", p5.returncode == 0 and
            re.findall(rb"vigil run: (\d+) events", log)[-1] == str(sum(counts)).encode() and
            len(ids) > 0 and len(ids) == len(set(ids)), (log[-400:], len(ids)))

    # Killed (SIGKILL: no checkpoint at exit) while a followed EVTX file is
    # read or its alerts written: the restart reads the file again, and the
    # alert file ends with each alert of an uninterrupted run exactly once —
    # none lost, none twice (the alert file's replay check, as for any input).
    def kill_run(name, log_name="run.log"):
        # Each run its own log: the restart's wait must not see the killed run's count.
        state, alerts, log = (os.path.join(tmp, f"{name}-{x}") for x in ("state", "alerts.ndjson", log_name))
        path = os.path.join(tmp, f"{name}.evtx")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(evtx_bytes)
        proc = subprocess.Popen([vigil, "run", "--follow", "--state", state, "--status-interval", "100ms",
                                 "--poll-interval", "50ms", "-o", alerts] + rules + forever + [path],
                                stderr=open(log, "ab"))
        return proc, alerts, log

    def complete_lines(path):  # a line being written is not complete yet
        data = open(path, "rb").read() if os.path.exists(path) else b""
        return data[:data.rfind(b"\n") + 1].splitlines()

    def finish(proc, log):  # every event read, then a stop by signal
        done = wait_events(log, counts[0], 60)
        time.sleep(1.5)  # alerts of the last batch, and anything written twice, by now
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        return done and proc.returncode == 0

    ref, ref_alerts, ref_log = kill_run("uninterrupted")
    ref_ok = finish(ref, ref_log)
    want = sorted(uuids(ref_alerts))
    # At the first alert line; 1.05 s after the start (the file is read once
    # unchanged for 1 s: mid-read, or about to be).
    for attempt, kill_when in enumerate(("first alert", "mid-read")):
        proc, alerts, log = kill_run(f"killed-{attempt}")
        if kill_when == "first alert":
            wait_for(lambda: len(complete_lines(alerts)) >= 1, 60)
        else:
            time.sleep(1.05)
        proc.kill()
        proc.wait(timeout=60)
        written = len(complete_lines(alerts))
        proc, _, log = kill_run(f"killed-{attempt}", "restart.log")
        ok = finish(proc, log)
        ids = uuids(alerts)
        c.check(f"killed ({kill_when}, {written} alert line(s) written) while a followed EVTX file was read: after "
                f"the restart each alert once, none lost", ref_ok and ok and len(want) > 20 and sorted(ids) == want,
                (len(ids), len(set(ids)), len(want), open(log, "rb").read()[-500:]))

    # --max-checkpoint-bytes: a checkpoint over the cap is not written, said once and counted.
    cap_state = os.path.join(tmp, "cap-state")
    # 4 KB: the first checkpoint (no event yet: per-rule counters, ~1 KB) fits,
    # the next ones (open sequences, triage state: ~90 KB) do not.
    r = c.run(["run", "--state", cap_state, "--max-checkpoint-bytes", "4KB", "-o", os.path.join(tmp, "cap.ndjson"),
               "--rules", os.path.join(repo, "rules", "windows"), part])
    err = r.stderr.decode()
    c.check("checkpoint over the cap: warned once and counted", r.returncode == 0 and
            err.count("over --max-checkpoint-bytes 4096; not written") == 1 and
            re.search(r"note: \d+ checkpoint\(s\) over --max-checkpoint-bytes were not written", err), err[-600:])
    r = c.run(["run", "--state", cap_state, "-o", os.path.join(tmp, "cap.ndjson"),
               "--rules", os.path.join(repo, "rules", "windows"), part])
    # Only the first checkpoint (taken before any event, under the cap) was
    # written: the next run starts from the beginning, and the alert file's
    # length in it keeps every alert once.
    cap_ids = uuids(os.path.join(tmp, "cap.ndjson"))
    c.check("nothing but the first checkpoint: the next run starts from the beginning, no alert twice",
            b"3000 events" in r.stderr and len(cap_ids) > 0 and len(cap_ids) == len(set(cap_ids))
            and b"already in" in r.stderr, r.stderr[-400:])

    # The same rules read through another path spelling (a symlink, a moved
    # checkout) are the same rules: the state is theirs.
    same_state = os.path.join(tmp, "same-state")
    link = os.path.join(tmp, "rules-link")
    os.symlink(os.path.join(repo, "rules", "windows"), link)
    c.run(["run", "-q", "--state", same_state, "-o", os.path.join(tmp, "same.ndjson"),
           "--rules", os.path.join(repo, "rules", "windows"), part])
    r = c.run(["run", "--state", same_state, "-o", os.path.join(tmp, "same.ndjson"), "--rules", link + "/", part])
    c.check("rules read through another path: the checkpoint is theirs",
            r.returncode == 0 and b"resuming from the checkpoint" in r.stderr, r.stderr[-400:])

    # Other rules, same state: refused.
    r = c.run(["run", "-q", "--state", state2, "-o", out2, "--rules", os.path.join(repo, "rules", "windows"),
               os.path.join(whole, "events.ndjson")])
    c.check("state of other rules: exit 2", r.returncode == 2 and b"other rules" in r.stderr, r.stderr[-300:])
    c.finish()


if __name__ == "__main__":
    main()
