#!/usr/bin/env python3
"""End-to-end tests of baselines: `vigil baseline learn|show|suggest`,
`vigil hunt --baseline`, [[vigil.rarity]] conditions and new_terms rules, on a
synthetic fleet; a baseline killed (-9) in the middle of `learn` gives the
same answers as one never interrupted.

usage: baseline_test.py VIGIL
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks, lines  # noqa: E402

VIGIL = sys.argv[1]
checks = Checks(VIGIL)
run, check = checks.run, checks.check

PORT_RULE = '''[rule]
author = ["test"]
description = "A program connects to a port it never used on this host"
from = "now-9m"
language = "eql"
name = "Rare port"
risk_score = 47
rule_id = "rare-port"
severity = "medium"
type = "eql"
query = \'\'\'
network where destination.port >= 1024
\'\'\'

[[vigil.rarity]]
fields = ["process.name", "destination.port"]
scope = "host"
max_count = 0
'''

NEW_TERMS_RULE = '''[rule]
author = ["test"]
description = "A program runs for the first time on a host"
from = "now-9m"
interval = "5m"
language = "kuery"
name = "First process per host"
risk_score = 21
rule_id = "first-process"
severity = "low"
type = "new_terms"
query = \'\'\'
event.category:process and event.type:start
\'\'\'

[rule.new_terms]
field = "new_terms_fields"
value = ["host.name", "process.name"]
[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "now-7d"
'''


def conn(ts, host, proc, port):
    return {"@timestamp": ts, "event": {"category": ["network"], "type": ["start"]}, "host": {"name": host},
            "process": {"name": proc, "executable": "C:\\Windows\\System32\\" + proc}, "destination": {"ip": "10.0.0.9", "port": port}}


def start(ts, host, proc):
    return {"@timestamp": ts, "event": {"category": ["process"], "type": ["start"]}, "host": {"name": host},
            "process": {"name": proc, "executable": "C:\\Windows\\System32\\" + proc}}


def write(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")


def count(out, rule_id=None):
    return len([a for a in lines(out) if rule_id is None or a["kibana.alert.rule.rule_id"] == rule_id])


def main():
    tmp = tempfile.mkdtemp()
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    with open(os.path.join(rules, "port.toml"), "w") as f:
        f.write(PORT_RULE)
    with open(os.path.join(rules, "new_terms.toml"), "w") as f:
        f.write(NEW_TERMS_RULE)

    # Known-good week: three hosts whose svchost.exe always talks to 8443.
    good = os.path.join(tmp, "good.ndjson")
    events = []
    for day in range(1, 6):
        for host in ("H1", "H2", "H3"):
            events.append(start(f"2026-03-0{day}T08:00:00Z", host, "svchost.exe"))
            for minute in range(10):
                events.append(conn(f"2026-03-0{day}T08:{minute:02d}:30Z", host, "svchost.exe", 8443))
    write(good, events)
    # The day after: H1 again on 8443 and once on a new port; H4 is a new host.
    today = os.path.join(tmp, "today.ndjson")
    write(today, [conn("2026-03-06T09:00:00Z", "H1", "svchost.exe", 8443),
                  conn("2026-03-06T09:01:00Z", "H1", "svchost.exe", 9999),
                  conn("2026-03-06T09:02:00Z", "H1", "svchost.exe", 9999),
                  conn("2026-03-06T09:03:00Z", "H1", "svchost.exe", 8443),
                  conn("2026-03-06T09:04:00Z", "H4", "svchost.exe", 8443),
                  start("2026-03-06T09:05:00Z", "H1", "svchost.exe"),
                  start("2026-03-06T09:06:00Z", "H1", "evil.exe")])

    port = os.path.join(rules, "port.toml")
    plain = run(["hunt", "-q", "--no-schedule", "--rules", port, today])
    check("without a baseline, first sights alert (H1:8443, H1:9999, H4:8443)", count(plain.stdout) == 3,
          plain.stdout[:500] + plain.stderr[:500])

    db = os.path.join(tmp, "baseline.db")
    learned = run(["baseline", "learn", "--rules", rules, "-b", db, good])
    check("learn", learned.returncode == 0 and b"1 input(s) learned" in learned.stderr, learned.stderr)
    tuned = run(["hunt", "-q", "--no-schedule", "--rules", port, "--baseline", db, today])
    got = sorted((a["host"]["name"], a["destination"]["port"]) for a in lines(tuned.stdout))
    check("with the baseline, only the new port and the new host alert, once each",
          got == [("H1", 9999), ("H4", 8443)], got)
    noted = run(["hunt", "--no-schedule", "--rules", port, "--baseline", db, today])
    check("the summary says what rarity left out", b"not rare" in noted.stderr, noted.stderr[-800:])

    # Incremental: the same file again is skipped; new data adds to the counts.
    again = run(["baseline", "learn", "--rules", rules, "-b", db, good])
    check("a file learned before is skipped", b"skipped" in again.stderr and b"0 input(s) learned" in again.stderr,
          again.stderr)
    with sqlite3.connect(db) as c:
        n = c.execute("SELECT count FROM terms WHERE entity = 'H1' AND term = 'svchost.exe' || char(31) || '8443'").fetchone()
    check("counts are not doubled by a second learn", n == (50,), n)
    shown = run(["baseline", "show", "-b", db])
    text = shown.stdout.decode()
    check("show lists specs, rules and terms", shown.returncode == 0 and "Rare port" in text and
          "svchost.exe|8443" in text and "First process per host" in text, text[:1500])
    spec = re.search(r"spec (\d+) \([0-9a-f]+\): process.name, destination.port per host", text)
    shown_host = run(["baseline", "show", "-b", db, "--entity", "H2", "--spec", spec.group(1) if spec else "?"])
    check("show --entity", "H2" in shown_host.stdout.decode() and "H1 " not in shown_host.stdout.decode(),
          shown_host.stdout[:800])

    # new_terms: one pass over history and today (Elastic semantics), and with a baseline.
    nt = os.path.join(rules, "new_terms.toml")
    both = run(["hunt", "-q", "--rules", nt, good, today])
    docs = lines(both.stdout)
    new = sorted(tuple(a["kibana.alert.new_terms"]) for a in docs)
    check("new_terms: each host's first svchost.exe and H1's evil.exe", new == [
        ("H1", "evil.exe"), ("H1", "svchost.exe"), ("H2", "svchost.exe"), ("H3", "svchost.exe")], new)
    check("new_terms alert fields", all(a["kibana.alert.rule.type"] == "new_terms" and
                                        a["kibana.alert.rule.rule_type_id"] == "siem.newTermsRule" and
                                        a["kibana.alert.rule.parameters"]["new_terms_fields"] == ["host.name", "process.name"]
                                        for a in docs), docs[:1])
    only_today = run(["hunt", "-q", "--rules", nt, "--baseline", db, today])
    new = [tuple(a["kibana.alert.new_terms"]) for a in lines(only_today.stdout)]
    check("new_terms with the baseline: only evil.exe is new today", new == [("H1", "evil.exe")], new)
    # Eight days later the history window (7d) no longer holds the first sight: new again.
    later = os.path.join(tmp, "later.ndjson")
    write(later, [start("2026-03-14T09:00:00Z", "H2", "svchost.exe")])
    aged = run(["hunt", "-q", "--rules", nt, good, later])
    new = sorted(tuple(a["kibana.alert.new_terms"]) for a in lines(aged.stdout))
    check("new_terms: a term not seen within history_window_start is new again",
          new.count(("H2", "svchost.exe")) == 2, new)

    # A kill -9 at any point of learn leaves the baseline as it was; learning
    # again then gives exactly what an uninterrupted learn gives.
    big = os.path.join(tmp, "big.ndjson")
    with open(big, "w") as f:
        for i in range(200000):
            f.write(json.dumps(conn(f"2026-03-07T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
                                    f"W{i % 500}", "svchost.exe", 1024 + i % 4000)) + "\n")
    reference = os.path.join(tmp, "reference.db")
    shutil.copy(db, reference)
    ref = run(["baseline", "learn", "-q", "--rules", rules, "-b", reference, big])
    check("reference learn", ref.returncode == 0, ref.stderr)
    killed_states = set()
    for delay in (0.05, 0.2, 0.5, 1.0):
        victim = os.path.join(tmp, f"victim-{delay}.db")
        shutil.copy(db, victim)
        p = subprocess.Popen([VIGIL, "baseline", "learn", "-q", "--rules", rules, "-b", victim, big],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        with sqlite3.connect(victim) as c:
            ok = c.execute("PRAGMA integrity_check").fetchone()[0]
            terms = c.execute("SELECT count(*) FROM terms").fetchone()[0]
        killed_states.add(terms)
        check(f"killed after {delay}s: the file is intact", ok == "ok", ok)
        resumed = run(["baseline", "learn", "-q", "--rules", rules, "-b", victim, big])
        # (the first line names the file)
        shown_victim = run(["baseline", "show", "-b", victim, "--limit", "50"]).stdout.split(b"\n", 1)[1]
        shown_reference = run(["baseline", "show", "-b", reference, "--limit", "50"]).stdout.split(b"\n", 1)[1]
        same = shown_victim == shown_reference
        hunted = run(["hunt", "-q", "--no-schedule", "--rules", port, "--baseline", victim, today]).stdout
        check(f"killed after {delay}s, learned again: same answers as never killed",
              resumed.returncode == 0 and same and
              hunted == run(["hunt", "-q", "--no-schedule", "--rules", port, "--baseline", reference, today]).stdout,
              resumed.stderr + shown_victim[:300] + b" / " + shown_reference[:300])
    with sqlite3.connect(db) as c:
        before = c.execute("SELECT count(*) FROM terms").fetchone()[0]
    with sqlite3.connect(reference) as c:
        after = c.execute("SELECT count(*) FROM terms").fetchone()[0]
    check("a killed learn leaves the old state or the new one, nothing between", killed_states <= {before, after},
          (killed_states, before, after))

    # Aging and the size cap.
    capped = os.path.join(tmp, "capped.db")
    shutil.copy(reference, capped)
    small = os.path.join(tmp, "small.ndjson")
    write(small, [conn("2026-03-08T00:00:00Z", "H9", "svchost.exe", 7777)])
    r = run(["baseline", "learn", "--rules", rules, "-b", capped, "--max-terms", "100", small])
    with sqlite3.connect(capped) as c:
        total = c.execute("SELECT count(*) FROM terms").fetchone()[0]
        newest = c.execute("SELECT count(*) FROM terms WHERE entity = 'H9'").fetchone()[0]
    check("--max-terms caps the baseline, the newest terms stay, evictions are reported",
          total == 100 and newest == 1 and b"evicted" in r.stderr, (total, newest, r.stderr))
    r = run(["baseline", "learn", "--rules", rules, "-b", db, "--max-age", "1d", small])
    with sqlite3.connect(db) as c:
        old = c.execute("SELECT count(*) FROM terms WHERE last_seen < ?", (1772841600 * 10**9,)).fetchone()[0]
    check("--max-age drops terms not seen for that long", old == 0 and b"older than --max-age" in r.stderr, r.stderr)

    # Suggest: the noisiest alerts of a hunt on benign data become exception
    # items for that rule, which a later hunt applies.
    noisy = os.path.join(tmp, "noisy.ndjson")
    write(noisy, [conn(f"2026-03-09T10:{i:02d}:00Z", f"N{i}", "backup.exe", 9000 + i % 2) for i in range(12)])
    alerts = os.path.join(tmp, "alerts.ndjson")
    r = run(["hunt", "-q", "--no-schedule", "--rules", port, "-o", alerts, noisy])
    check("noisy benign data alerts", count(open(alerts, "rb").read()) == 12, r.stderr)
    suggested = os.path.join(tmp, "suggested.ndjson")
    r = run(["baseline", "suggest", alerts, "-o", suggested])
    items = lines(open(suggested, "rb").read())
    check("suggest writes a rule-default list and its items", len(items) >= 2 and items[0]["list_id"] == "rare-port" and
          items[0]["type"] == "rule_default" and
          items[1]["entries"] == [{"field": "process.executable", "operator": "included", "type": "match",
                                   "value": "C:\\Windows\\System32\\backup.exe"}], items[:2])
    r = run(["hunt", "-q", "--no-schedule", "--rules", port, "--exceptions", suggested, noisy])
    check("the suggested exceptions silence the noise for that rule", count(r.stdout) == 0, r.stdout[:300] + r.stderr[:300])

    # Errors.
    bad = os.path.join(tmp, "bad")
    os.mkdir(bad)
    with open(os.path.join(bad, "r.toml"), "w") as f:
        f.write(PORT_RULE.replace('scope = "host"', 'scope = "planet"'))
    r = run(["rules", "check", bad])
    check("a bad rarity scope is a rule error with its position", r.returncode == 2 and
          b"r.toml:17:9: error: `vigil.rarity.scope`" in r.stdout + r.stderr, r.stdout + r.stderr)
    plain_rules = os.path.join(tmp, "plain")
    os.mkdir(plain_rules)
    with open(os.path.join(plain_rules, "r.toml"), "w") as f:
        f.write(PORT_RULE.split("[[vigil.rarity]]")[0])
    r = run(["baseline", "learn", "--rules", plain_rules, "-b", os.path.join(tmp, "x.db"), good])
    check("learn without rarity or new_terms rules is a usage error", r.returncode == 2 and b"nothing to learn" in r.stderr,
          r.stderr)
    r = run(["hunt", "--rules", port, "--baseline", os.path.join(tmp, "missing.db"), today])
    check("a missing baseline is a usage error", r.returncode == 2 and b"no such baseline" in r.stderr, r.stderr)
    shutil.rmtree(tmp)
    checks.finish()


if __name__ == "__main__":
    main()
