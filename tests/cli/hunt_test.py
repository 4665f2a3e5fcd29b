#!/usr/bin/env python3
"""End-to-end tests of `vigil rules check` and `vigil hunt`: rule errors with
file:line:col and a caret, Elastic's rules compiling and running over all
shipped data, deterministic alerts, the schedule emulation, exit codes, and
every alert field documented in docs/alerts.md.

usage: hunt_test.py VIGIL REPO_DIR SHARED_DIR
"""
import json
import os
import re
import sys

import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks, lines  # noqa: E402

VIGIL, REPO, SHARED = sys.argv[1:4]
ELASTIC = os.path.join(SHARED, "rules", "elastic", "windows")
DATA = os.path.join(SHARED, "data")
SEED = os.path.join(REPO, "rules", "windows")
checks = Checks(VIGIL)
run, check = checks.run, checks.check


alerts_of = lines


RULE = '''[rule]
author = ["test"]
description = "test rule"
from = "now-9m"
language = "eql"
name = "{name}"
risk_score = 47
rule_id = "{rule_id}"
severity = "medium"
type = "eql"
max_signals = {max_signals}
query = \'\'\'
{query}
\'\'\'
'''

# Every Elastic Windows rule compiles: EQL, KQL, new_terms, threshold and ES|QL.
r = run(["rules", "check", ELASTIC])
check("elastic rules compile", r.returncode == 0 and b"487 compiled, 0 failed" in r.stdout, r.stdout[-400:])
r = run(["rules", "check", SEED])
check("seed pack compiles", r.returncode == 0 and b"0 failed" in r.stdout, r.stdout)

with tempfile.TemporaryDirectory() as tmp:
    # A rule error names file:line:col and puts a caret under the token.
    bad = os.path.join(tmp, "bad")
    os.mkdir(bad)
    with open(os.path.join(bad, "bad_query.toml"), "w") as f:
        f.write(RULE.format(name="Bad", rule_id="bad-1", max_signals=100,
                            query="process where process.name : \"cmd.exe\" and\n  process.args == 'x'"))
    with open(os.path.join(bad, "bad_severity.toml"), "w") as f:
        f.write(RULE.format(name="Bad2", rule_id="bad-2", max_signals=100, query="process where true")
                .replace('severity = "medium"', 'severity = "urgent"'))
    r = run(["rules", "check", bad])
    out = r.stdout.decode()
    check("rule error exit 2", r.returncode == 2, r.returncode)
    check("eql error position in the file", "bad_query.toml:14:19: error:" in out and "\n                    ^" in out, out)
    check("schema error position", "bad_severity.toml:9:12: error: `rule.severity`" in out, out)
    check("summary line", "2 rules in 2 files: 0 compiled, 2 failed" in out, out)
    # An ES|QL rule does not run yet, but its query is parsed: a syntax error is a rule error with its place.
    with open(os.path.join(bad, "bad_esql.toml"), "w") as f:
        f.write(RULE.format(name="Bad3", rule_id="bad-3", max_signals=100,
                            query="from logs-*\n| where process.name == \"x\"\n| stats n = count(*) by\n| keep n")
                .replace('language = "eql"', 'language = "esql"').replace('type = "eql"', 'type = "esql"'))
    r = run(["rules", "check", os.path.join(bad, "bad_esql.toml")])
    out = r.stdout.decode()
    check("an ES|QL syntax error: exit 2, file:line:col, what was expected", r.returncode == 2 and
          "bad_esql.toml:16:1: error: expected a value, a field or a function call, found '|' [esql.syntax]" in out, out)

    # All Elastic Windows EQL rules over all shipped data, one pass, no error.
    alerts_file = os.path.join(tmp, "alerts.ndjson")
    r = run(["hunt", "--rules", ELASTIC, "-o", alerts_file, DATA])
    check("elastic rules over all data", r.returncode == 0 and os.path.getsize(alerts_file) > 0, r.stderr[-600:])
    # The alerts per rule are pinned (tests/cli/elastic_alert_counts.json, written by --update-counts after a
    # reviewed change): a rule that stops or starts alerting on the recordings fails here.
    counts = {}
    for a in alerts_of(open(alerts_file, "rb").read()):
        if "kibana.alert.building_block_type" not in a:
            name = a["kibana.alert.rule.name"]
            counts[name] = counts.get(name, 0) + 1
    pinned_file = os.path.join(REPO, "tests", "cli", "elastic_alert_counts.json")
    if "--update-counts" in sys.argv:
        with open(pinned_file, "w") as f:
            json.dump(dict(sorted(counts.items())), f, indent=1)
            f.write("\n")
    pinned = json.load(open(pinned_file))
    changed = {k: (pinned.get(k, 0), counts.get(k, 0)) for k in set(pinned) | set(counts)
               if pinned.get(k, 0) != counts.get(k, 0)}
    check(f"elastic rules over all data: alerts per rule as pinned ({sum(pinned.values())} alerts, {len(pinned)} rules)",
          not changed, "rule: (pinned, now) " + json.dumps(dict(sorted(changed.items())), indent=1))
    check("summary names rules and hosts", b"alert(s):" in r.stderr and b"host" in r.stderr, r.stderr[-600:])

    # Alert documents: every kibana.*/threat.* key documented, required ones present.
    doc = open(os.path.join(REPO, "docs", "alerts.md")).read()
    rows = re.findall(r"^\| (`[^|]+`) \| (yes|no) \|", doc, re.M)
    documented, required = set(), set()
    for names, req in rows:
        for n in re.findall(r"`([^`]+)`", names):
            documented.add(n)
            if req == "yes":
                required.add(n)
    alerts = alerts_of(open(alerts_file, "rb").read())
    undocumented = set()
    missing = set()
    for a in alerts:
        for k in a:
            if (k.startswith("kibana") or k.startswith("threat") or k.startswith("vigil")) and k not in documented and \
                    not (k.startswith("kibana.alert.original_event.") and "kibana.alert.original_event.*" in documented):
                undocumented.add(k)
        missing |= {k for k in required if k not in a and k != "event.kind"}
        if a.get("event", {}).get("kind") != "signal":
            missing.add("event.kind")
    check("alert fields documented", not undocumented, undocumented)
    check("required alert fields present", not missing, missing)
    check("alert ids unique", len({a["kibana.alert.uuid"] for a in alerts}) == len(alerts), len(alerts))

    # Triage context from the per-host state: real ancestry, module loads and
    # file provenance on the attack recordings.
    samples_alerts = alerts_of(run(["hunt", "-q", "--rules", ELASTIC, os.path.join(DATA, "evtx-attack-samples")]).stdout)
    contexts = [a["vigil.context"] for a in samples_alerts if "vigil.context" in a]
    check("ancestry in context", any(len(c.get("process_ancestry", [])) >= 2 for c in contexts), len(contexts))
    dump = [a for a in samples_alerts if a["kibana.alert.rule.name"] == "LSASS Memory Dump Creation"
            and "file_provenance" in a.get("vigil.context", {})]
    check("file provenance: the dump was written by procdump", any(
        p.get("written_by") == "procdump.exe" for a in dump for p in a["vigil.context"]["file_provenance"]), dump[:1])
    check("modules in context", any("modules" in c for c in contexts), len(contexts))
    seed_alerts = alerts_of(run(["hunt", "-q", "--rules", SEED, os.path.join(DATA, "evtx-attack-samples")]).stdout)
    check("sequence alerts carry context", any("kibana.alert.group.id" in a and "vigil.context" in a
                                                for a in seed_alerts), len(seed_alerts))
    # Alert schema as Elastic writes it: fields nested (no dotted keys but
    # kibana.* and vigil.*), a sequence's shell at depth 2 with its events
    # (depth 0) and its building blocks (depth 1) as ancestors, building
    # blocks at depth 1 with their event; the rule's note and parameters.
    everything = samples_alerts + seed_alerts
    dotted = [k for a in everything for k in a if "." in k and not k.startswith(("kibana.", "vigil."))]
    check("alerts are nested (no dotted field names outside kibana.* and vigil.*)", not dotted, dotted[:5])
    shells = [a for a in seed_alerts if "kibana.alert.group.id" in a and "kibana.alert.building_block_type" not in a]
    blocks = {a["kibana.alert.uuid"]: a for a in seed_alerts if a.get("kibana.alert.building_block_type") == "default"}
    shell_ok = bool(shells)
    for s in shells:
        anc = s["kibana.alert.ancestors"]
        signals = [x["id"] for x in anc if x["type"] == "signal" and x["depth"] == 1]
        events = [x for x in anc if x["type"] == "event" and x["depth"] == 0]
        shell_ok &= (s["kibana.alert.depth"] == 2 and len(signals) == len(events) >= 2 and
                     all(b in blocks and blocks[b]["kibana.alert.group.id"] == s["kibana.alert.group.id"] for b in signals)
                     and isinstance(s.get("host"), dict) and bool(s["host"].get("name")))
    check("sequence shells: depth 2, events and building blocks as ancestors, host.name nested", shell_ok,
          shells[:1])
    check("building blocks: depth 1, their event as ancestor", blocks and all(
        b["kibana.alert.depth"] == 1 and [x["depth"] for x in b["kibana.alert.ancestors"]] == [0]
        for b in blocks.values()), len(blocks))
    with_note = [a for a in samples_alerts if a.get("kibana.alert.rule.note")]
    check("the rule's investigation guide: kibana.alert.rule.note", len(with_note) > 100, len(with_note))
    params = [a["kibana.alert.rule.parameters"] for a in samples_alerts]
    check("rule parameters as Elastic writes them (note, investigation_fields, setup, timestamp_override, to, ...)",
          all({"rule_id", "query", "language", "index", "from", "to", "max_signals", "threat", "version"} <= p.keys()
              for p in params) and any("investigation_fields" in p and "field_names" in p["investigation_fields"]
                                       for p in params) and any("setup" in p for p in params) and
          any(p.get("timestamp_override") == "event.ingested" for p in params), sorted(params[0]))

    # The SQLite alert store: a second run adds nothing new; list and summary
    # agree with the NDJSON; filters are bound parameters, not SQL.
    db = os.path.join(tmp, "alerts.db")
    first = run(["hunt", "--db", db, "--rules", ELASTIC, os.path.join(DATA, "evtx-attack-samples")])
    again = run(["hunt", "--db", db, "--rules", ELASTIC, os.path.join(DATA, "evtx-attack-samples")])
    check("store dedups across runs", b" 0 new alert document(s)" in again.stderr, again.stderr[-300:])
    listed = run(["alerts", "list", "--db", db, "--json", "--limit", "100000"])
    top = [a for a in alerts_of(first.stdout) if "kibana.alert.building_block_type" not in a]
    check("store lists every alert", sorted(a["kibana.alert.uuid"] for a in alerts_of(listed.stdout)) ==
          sorted(a["kibana.alert.uuid"] for a in top), (len(alerts_of(listed.stdout)), len(top)))
    summary = run(["alerts", "summary", "--db", db, "--by", "rule"]).stdout.decode()
    check("store summary total", summary.startswith(f"{len(top)} alert(s)"), summary[:200])
    injected = run(["alerts", "list", "--db", db, "--rule", "x' OR 1=1 --"])
    check("filters are bound parameters", injected.returncode == 0 and injected.stdout == b"", injected.stdout[:200])
    # Partial dates mean their whole span; host names match case-insensitively;
    # the table has the id and user columns.
    by_year = {}
    for a in top:
        by_year.setdefault(a["kibana.alert.original_time"][:4], []).append(a)
    year = max(by_year, key=lambda y: len(by_year[y]))
    in_year = [a for a in top if a["@timestamp"].startswith(year)]
    got = alerts_of(run(["alerts", "list", "--db", db, "--json", "--limit", "100000", "--since", year,
                         "--until", year]).stdout)
    check("--since/--until YEAR: that year's alerts only", sorted(a["kibana.alert.uuid"] for a in got) ==
          sorted(a["kibana.alert.uuid"] for a in in_year) and 0 < len(got) < len(top), (len(got), len(in_year)))
    bad = run(["alerts", "list", "--db", db, "--since", "20x1"])
    check("--since: not a date is an error, not everything", bad.returncode == 2, bad.stderr)
    host = top[0]["host"]["name"]
    lower = alerts_of(run(["alerts", "list", "--db", db, "--json", "--limit", "100000", "--host", host.lower()]).stdout)
    check("--host is case-insensitive", lower and all(a["host"]["name"] == host for a in lower) and
          len(lower) == sum(1 for a in top if a["host"]["name"] == host), (host, len(lower)))
    table = run(["alerts", "list", "--db", db, "--limit", "3"]).stdout.decode()
    check("alerts list: id and user columns", table.split("\n")[0].split() ==
          ["event", "time", "severity", "id", "host", "user", "rule"] and top[0]["kibana.alert.uuid"][:12] in table,
          table[:300])
    # vigil alerts show: one alert by an id prefix, with its source and context.
    dump = next(a for a in top if a["kibana.alert.rule.name"] == "LSASS Memory Dump Creation")
    shown = run(["alerts", "show", "--db", db, dump["kibana.alert.uuid"][:10]]).stdout.decode()
    check("alerts show: rule, source record, file provenance", "LSASS Memory Dump Creation" in shown and
          f"record {dump['vigil.source']['record_id']}" in shown and "written by procdump.exe" in shown, shown)
    ambiguous = run(["alerts", "show", "--db", db, ""])
    check("alerts show: an ambiguous prefix lists the candidates, exit 2", ambiguous.returncode == 2 and
          b"give more of the id" in ambiguous.stderr, ambiguous.stderr[:200])
    seq_db = os.path.join(tmp, "seq.db")
    run(["hunt", "-q", "--db", seq_db, "--rules", SEED, os.path.join(DATA, "evtx-attack-samples")])
    shell = next(a for a in seed_alerts if "kibana.alert.group.id" in a and "kibana.alert.building_block_type" not in a)
    shown = run(["alerts", "show", "--db", seq_db, shell["kibana.alert.uuid"]]).stdout.decode()
    n_blocks = sum(1 for a in seed_alerts if a.get("kibana.alert.group.id") == shell["kibana.alert.group.id"]) - 1
    check("alerts show: a sequence with each building block and where its event came from",
          f"sequence  {n_blocks} event(s)" in shown and shown.count("\n    from ") == n_blocks and
          ".evtx record " in shown, shown)
    members = sorted((a for a in seed_alerts if a.get("kibana.alert.group.id") == shell["kibana.alert.group.id"]
                      and "kibana.alert.building_block_type" in a), key=lambda a: a["kibana.alert.group.index"])
    printed = re.findall(r"^  \S+  ([0-9a-f]{12})  ", shown, re.M)
    check("alerts show: building blocks in term order", printed == [a["kibana.alert.uuid"][:12] for a in members],
          (printed, [(a["kibana.alert.group.index"], a["kibana.alert.uuid"][:12]) for a in members]))
    as_json = alerts_of(run(["alerts", "show", "--db", seq_db, "--json", shell["kibana.alert.uuid"]]).stdout)
    check("alerts show --json: the alert and its building blocks", len(as_json) == n_blocks + 1, len(as_json))
    high = alerts_of(run(["alerts", "list", "--db", db, "--json", "--severity", "high"]).stdout)
    check("severity filter", high and all(a["kibana.alert.severity"] in ("high", "critical") for a in high), len(high))

    # Same input → same alerts, byte for byte, whatever the thread count
    # (EVTX decoding and rule matching both run on all lanes; the OTRF
    # dataset's 4096-event batches are cut into one slice per lane).
    samples = [os.path.join(DATA, "evtx-attack-samples"),
               os.path.join(DATA, "otrf-security-datasets", "windows", "lateral_movement", "host",
                            "covenant_dcom_iertutil_dll_hijack.zip")]
    one = run(["hunt", "-q", "--threads", "1", "--rules", ELASTIC] + samples)
    three = run(["hunt", "-q", "--threads", "3", "--rules", ELASTIC] + samples)
    check("deterministic alerts", one.stdout == three.stdout and len(one.stdout) > 1000, len(one.stdout))
    # Held detections and alerts waiting to be ordered spill to temporary
    # files beyond --spill-after: with a budget of one byte everything goes
    # through the files, and not a byte of the alerts changes (both timings;
    # the sorter merges one run per alert).
    spilled = run(["hunt", "-q", "--threads", "1", "--spill-after", "1", "--rules", ELASTIC] + samples)
    check("spilled hunt: same alerts", spilled.returncode == 0 and spilled.stdout == one.stdout, len(spilled.stdout))
    kept = run(["hunt", "-q", "--no-schedule", "--rules", ELASTIC, "--rules", SEED] + samples)
    spilled = run(["hunt", "-q", "--no-schedule", "--spill-after", "1", "--rules", ELASTIC, "--rules", SEED] + samples)
    check("spilled hunt --no-schedule: same alerts", spilled.stdout == kept.stdout and len(kept.stdout) > 1000,
          (len(spilled.stdout), len(kept.stdout)))

    # --profile-rules: every rule timed, the costliest listed with the events
    # it ran on; the alerts do not change.
    prof = run(["hunt", "--profile-rules", "--threads", "3", "--rules", ELASTIC] + samples)
    err = prof.stderr.decode()
    head = re.search(r"rule matching: (\d+) evaluations over (\d+) events \(([\d.]+) per event\), (\d+) ms", err)
    rows = re.findall(r"^ +([\d.]+) +([\d.]+)% +(\d+) +(\d+)  (.+)$", err, re.M)
    check("profile: totals", head is not None and int(head.group(2)) > 10000 and
          int(head.group(1)) >= int(head.group(2)), err[-600:])
    check("profile: costliest rules first, each with its evaluations",
          len(rows) == 25 and all(float(a[0]) >= float(b[0]) for a, b in zip(rows, rows[1:])) and
          float(rows[0][0]) > 0 and all(int(r[2]) > 0 for r in rows[:5]), rows[:5])
    check("profile: same alerts", prof.stdout == one.stdout, len(prof.stdout))

    # Schedule emulation: 5 matching events within one run's window and
    # max_signals = 2 → 2 alerts (the others are left out, as Elastic would);
    # events 20 minutes apart are found by separate runs.
    rules = os.path.join(tmp, "sched")
    os.mkdir(rules)
    with open(os.path.join(rules, "r.toml"), "w") as f:
        f.write(RULE.format(name="Sched", rule_id="sched-1", max_signals=2, query='process where process.name : "x.exe"'))
    events = os.path.join(tmp, "events.ndjson")
    with open(events, "w") as f:
        for i, ts in enumerate(["10:01:00", "10:01:10", "10:01:20", "10:01:30", "10:01:40", "10:21:00"]):
            f.write(json.dumps({"@timestamp": f"2026-01-05T{ts}.000Z", "event": {"category": ["process"]},
                                "process": {"name": "x.exe", "pid": i}, "host": {"name": "H"}}) + "\n")
    r = run(["hunt", "--rules", rules, events])
    got = alerts_of(r.stdout)
    check("max_signals per run", [a["process"]["pid"] for a in got] == [0, 1, 5], [a["process"]["pid"] for a in got])
    check("alert time is the run time", [a["@timestamp"] for a in got] ==
          ["2026-01-05T10:05:00.000Z", "2026-01-05T10:05:00.000Z", "2026-01-05T10:25:00.000Z"],
          [a["@timestamp"] for a in got])
    check("capped matches reported", b"left out by max_signals" in r.stderr, r.stderr)
    r = run(["hunt", "--no-schedule", "--rules", rules, events])
    check("--no-schedule alerts every match", len(alerts_of(r.stdout)) == 6, r.stdout)
    # An event without a time still alerts (at the epoch) and is reported.
    timeless = os.path.join(tmp, "timeless.ndjson")
    with open(timeless, "w") as f:
        f.write(json.dumps({"event": {"category": ["process"]}, "process": {"name": "x.exe", "pid": 9},
                            "host": {"name": "H"}}) + "\n")
    r = run(["hunt", "--rules", rules, events, timeless])
    got = alerts_of(r.stdout)
    check("an event without a time alerts at the epoch",
          [a["@timestamp"][:4] for a in got if a["process"]["pid"] == 9] == ["1970"], got)
    check("events without a time reported",
          re.search(rb"note: 1 match\(es\) of events without a time", r.stderr), r.stderr)
    # alert_suppression: same host within 10 minutes of the first alert → one alert counting the others.
    sup = os.path.join(tmp, "sup")
    os.mkdir(sup)
    with open(os.path.join(sup, "r.toml"), "w") as f:
        f.write(RULE.format(name="Sup", rule_id="sup-1", max_signals=100, query='process where process.name : "x.exe"')
                + '\n[rule.alert_suppression]\ngroup_by = ["host.name"]\nduration = {value = 10, unit = "m"}\n')
    r = run(["hunt", "--rules", sup, events])
    got = alerts_of(r.stdout)
    check("suppression folds alerts", [a.get("kibana.alert.suppression.docs_count") for a in got] == [4, 0] and
          got[0]["kibana.alert.suppression.terms"] == [{"field": "host.name", "value": "H"}] and
          got[0]["kibana.alert.suppression.end"].startswith("2026-01-05T10:01:40"), got)
    check("suppression reported", b"folded into others by alert_suppression" in r.stderr, r.stderr)

    # Exceptions (Kibana's export format): items are ANDs of entries, any item
    # removes the event; value lists for "is in list".
    exc = os.path.join(tmp, "exceptions.ndjson")
    with open(exc, "w") as f:
        f.write(json.dumps({"list_id": "allow", "type": "detection", "name": "allow", "namespace_type": "single"}) + "\n")
        f.write(json.dumps({"list_id": "allow", "item_id": "a", "name": "pids 0 and 1", "type": "simple",
                            "entries": [{"field": "process.name", "operator": "included", "type": "match", "value": "x.exe"},
                                        {"field": "process.pid", "operator": "included", "type": "match_any",
                                         "value": ["0", "1"]}]}) + "\n")
        f.write(json.dumps({"list_id": "allow", "item_id": "b", "name": "listed pids", "type": "simple",
                            "entries": [{"field": "process.pid", "operator": "included", "type": "list",
                                         "list": {"id": "pids", "type": "keyword"}}]}) + "\n")
        f.write(json.dumps({"list_id": "allow", "item_id": "c", "name": "not host H", "type": "simple",
                            "entries": [{"field": "host.name", "operator": "excluded", "type": "wildcard", "value": "H*"}]}) + "\n")
        # A nested entry: its sub-entries apply to parent.sub (process.pid and process.name).
        f.write(json.dumps({"list_id": "allow", "item_id": "d", "name": "nested pid 2", "type": "simple",
                            "entries": [{"field": "process", "type": "nested", "entries": [
                                {"field": "pid", "operator": "included", "type": "match", "value": "2"},
                                {"field": "name", "operator": "included", "type": "match", "value": "x.exe"}]}]}) + "\n")
        f.write(json.dumps({"exported_exception_list_count": 1, "exported_exception_list_item_count": 4}) + "\n")
    pids = os.path.join(tmp, "pids.txt")
    with open(pids, "w") as f:
        f.write("4\n5\n")
    r = run(["hunt", "--no-schedule", "--rules", rules, "--exceptions", exc, "--value-list", f"pids={pids}",
             "--apply-list", "allow", events])
    check("exceptions leave matches out", sorted(a["process"]["pid"] for a in alerts_of(r.stdout)) == [3],
          r.stdout + r.stderr)
    check("exceptions reported", b"covered by exceptions" in r.stderr, r.stderr)
    r = run(["hunt", "--no-schedule", "--rules", rules, "--exceptions", exc, "--value-list", f"pids={pids}", events])
    check("lists apply only where referenced", len(alerts_of(r.stdout)) == 6, r.stderr)
    r = run(["hunt", "--rules", rules, "--exceptions", exc, events])
    check("missing value list is an error", r.returncode == 2 and b"--value-list pids=FILE" in r.stderr, r.stderr)

    # exists: an item with `exists` on user.name removes the events that have the field (pids 1 and 4);
    # `excluded` + exists removes those that do not.
    users = os.path.join(tmp, "users.ndjson")
    with open(users, "w") as f:
        for i in range(6):
            doc = {"@timestamp": f"2026-01-05T10:0{i}:00.000Z", "event": {"category": ["process"]},
                   "process": {"name": "x.exe", "pid": i}, "host": {"name": "H"}}
            if i in (1, 4):
                doc["user"] = {"name": "svc"}
            f.write(json.dumps(doc) + "\n")
    for operator, kept in (("included", [0, 2, 3, 5]), ("excluded", [1, 4])):
        exists = os.path.join(tmp, f"exists-{operator}.ndjson")
        with open(exists, "w") as f:
            f.write(json.dumps({"list_id": "ex", "item_id": "e", "name": "user set", "type": "simple",
                                "entries": [{"field": "user.name", "operator": operator, "type": "exists"}]}) + "\n")
        r = run(["hunt", "--no-schedule", "--rules", rules, "--exceptions", exists, "--apply-list", "ex", users])
        check(f"exists exception ({operator}) leaves out the right events",
              sorted(a["process"]["pid"] for a in alerts_of(r.stdout)) == kept, r.stdout + r.stderr)

    r = run(["hunt", "--fail-on-alert", "-q", "--rules", rules, events])
    check("--fail-on-alert exit 1", r.returncode == 1, r.returncode)
    r = run(["hunt", "-q", "--rules", rules, os.path.join(REPO, "examples", "windows-ecs.ndjson")])
    check("no alerts exit 0", r.returncode == 0 and r.stdout == b"", r.stdout)

    # A sequence: one alert for the sequence and one building block per event, grouped.
    with open(os.path.join(rules, "seq.toml"), "w") as f:
        f.write(RULE.format(name="Seq", rule_id="seq-1", max_signals=100, query=
                            'sequence by host.name with maxspan=1m [process where process.pid == 0] '
                            '[process where process.pid == 1]'))
    r = run(["hunt", "-q", "--rules", os.path.join(rules, "seq.toml"), events])
    got = alerts_of(r.stdout)
    shells = [a for a in got if "kibana.alert.building_block_type" not in a]
    blocks = [a for a in got if a.get("kibana.alert.building_block_type") == "default"]
    check("sequence alert + building blocks", len(shells) == 1 and len(blocks) == 2 and
          {b["kibana.alert.group.id"] for b in blocks} == {shells[0]["kibana.alert.group.id"]} and
          shells[0].get("host", {}).get("name") == "H", got)

# Host names from a compromised machine reach the terminal summary: control
# characters (ESC, BEL, C1 CSI) and invalid UTF-8 are shown as \xHH, never
# written raw; the alert documents hold them JSON-escaped and stay valid UTF-8.
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(SEED, "..", "tests", "persistence_services_registry", "events.ndjson"), "rb") as f:
        event = json.loads(f.readline())
    event["host"]["name"] = "EVIL\x1b[2J\x1b]0;pwned\x07\u009b31m"
    events = os.path.join(tmp, "esc.ndjson")
    with open(events, "wb") as f:
        f.write(json.dumps(event).encode() + b"\n" + b'{"host":{"name":"bad\xff"}}\n')
    r = run(["hunt", "--rules", SEED, events])
    check("terminal summary escapes control characters", b"\x1b" not in r.stderr and b"\x07" not in r.stderr and
          b"\xc2\x9b" not in r.stderr and b"EVIL\\x1b[2J\\x1b]0;pwned\\x07\\xc2\\x9b31m" in r.stderr, r.stderr)
    check("invalid UTF-8 input line reported, not echoed", b"\xff" not in r.stderr and b"not valid UTF-8" in r.stderr,
          r.stderr)
    got = alerts_of(r.stdout)
    check("alerts keep the host name as it was", got and all(a["host"]["name"] == event["host"]["name"] for a in got),
          got)

# Event times at the ends of what vigil's nanoseconds hold (1677-09-21 and
# 2262-04-11; a corrupt FILETIME saturates to the end): the windows of
# sequences, threshold, new-terms, ES|QL and Sigma correlation rules and of
# alert suppression reach past the range there. They must neither overflow
# (UBSan stops the sanitizer build's run) nor wrap around: a 5-minute
# sequence does not join events 585 years apart, and the rules at the end of
# time alert as anywhere else, and the run ends.
EDGE_RULE = """[rule]
author = ["test"]
description = "test rule"
language = "{language}"
name = "{name}"
risk_score = 21
rule_id = "{name}"
severity = "low"
type = "{type}"
query = \'\'\'
{query}
\'\'\'
"""
with tempfile.TemporaryDirectory() as tmp:
    import subprocess
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)

    def edge_rule(name, type_, language, query, extra=""):
        with open(os.path.join(rules, name + ".toml"), "w") as f:
            f.write(EDGE_RULE.format(name=name, type=type_, language=language, query=query) + extra)

    edge_rule("edge-sequence", "eql", "eql", 'sequence by host.name with maxspan=5m '
              '[process where process.name == "a.exe"] [process where process.name == "b.exe"]')
    edge_rule("edge-threshold", "threshold", "kuery", 'process.name : "c.exe"',
              '[rule.threshold]\nfield = ["host.name"]\nvalue = 2\n')
    edge_rule("edge-threshold-last", "threshold", "kuery", 'process.name : "g.exe"',
              '[rule.threshold]\nfield = ["host.name"]\nvalue = 2\n')
    edge_rule("edge-new-terms", "new_terms", "kuery", 'process.name : "d.exe"',
              '[rule.new_terms]\nfield = "new_terms_fields"\nvalue = ["host.name"]\n'
              '[[rule.new_terms.history_window_start]]\nfield = "history_window_start"\nvalue = "now-7d"\n')
    edge_rule("edge-suppressed", "eql", "eql", 'process where process.name == "e.exe"',
              '[rule.alert_suppression]\ngroup_by = ["host.name"]\nduration = {value = 10, unit = "m"}\n')
    edge_rule("edge-esql", "esql", "esql",
              'FROM logs-* | WHERE process.name == "f.exe" | STATS n = COUNT(*) BY host.name | WHERE n >= 2')
    with open(os.path.join(rules, "edge-correlation.yml"), "w") as f:
        f.write("title: edge failed logon\nid: 6b1a7c2e-0000-4000-8000-000000000001\nname: edge_failed\n"
                "logsource:\n    product: windows\n    service: security\n"
                "detection:\n    selection:\n        EventID: 4625\n    condition: selection\n---\n"
                "title: edge-correlation\nid: 6b1a7c2e-0000-4000-8000-000000000002\nlevel: medium\n"
                "correlation:\n    type: event_count\n    rules: [edge_failed]\n    group-by: [TargetUserName]\n"
                "    timespan: 10m\n    condition:\n        gte: 2\n")
    # The last scheduled run a nanosecond time holds is at 23:45:00 (5-minute runs): the rules alert on
    # events before it; an event after it (the last nanosecond) is outside every run, as the summary says.
    FIRST, END, LAST = "1677-09-21T00:12:44Z", "2262-04-11T23:44:00Z", "2262-04-11T23:47:16.854775807Z"

    def proc(ts, host, name):
        return {"@timestamp": ts, "event": {"category": ["process"], "type": ["start"]}, "host": {"name": host},
                "process": {"name": name}}

    def logon(ts, user):
        return {"@timestamp": ts, "event": {"code": "4625"}, "host": {"name": "E"},
                "winlog": {"channel": "Security", "event_id": 4625, "event_data": {"TargetUserName": user}}}

    events = [proc(FIRST, "S", n) for n in ("a.exe", "c.exe", "d.exe", "e.exe", "f.exe")] + [logon(FIRST, "bob")]
    events += [proc(LAST, "S", "b.exe")]  # the sequence's second term, 585 years after its first
    events += [proc("2262-04-11T23:40:00Z", "E", "a.exe"), proc("2262-04-11T23:41:00Z", "E", "b.exe")]
    for n in ("c.exe", "d.exe", "e.exe", "f.exe"):
        events += [proc(END, "E", n), proc(END, "E", n), proc(LAST, "E", n)]
    # One event a nanosecond before the last, alone on its host: no threshold signal, and nothing after it.
    events += [proc("2262-04-11T23:47:16.854775806Z", "F", "c.exe")]
    # A threshold rule whose only hits are at the very last nanosecond: a signal no run sees, reported
    # (the runner took that time for "no hit" and dropped it unsaid).
    events += [proc(LAST, "G", "g.exe"), proc(LAST, "G", "g.exe")]
    events += [logon(END, "alice"), logon(LAST, "alice")]
    path = os.path.join(tmp, "edges.ndjson")
    with open(path, "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in events)
    try:
        r = subprocess.run([VIGIL, "hunt", "--rules", rules, path], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        r = None
    check("times at the ends of the range: the hunt ends", r is not None and r.returncode == 0,
          r and r.stderr[-1500:])
    got = alerts_of(r.stdout) if r else []
    hosts = {}
    for a in got:
        if a.get("kibana.alert.building_block_type"):
            continue
        name = a["kibana.alert.rule.name"]
        hosts.setdefault(name, []).append((a.get("host") or {}).get("name") or
                                          a.get("winlog", {}).get("event_data", {}).get("TargetUserName"))
    check("times at the ends: a 5-minute sequence joins the events a minute apart, not 585 years apart",
          sorted(hosts.get("edge-sequence", [])) == ["E"], hosts)
    check("times at the ends: threshold, new terms, ES|QL alert at the end of time",
          hosts.get("edge-threshold") == ["E"] and sorted(hosts.get("edge-new-terms", [])) == ["E", "S"] and
          hosts.get("edge-esql") == ["E"], hosts)
    suppressed = [a for a in got if a["kibana.alert.rule.name"] == "edge-suppressed"]
    check("times at the ends: suppression folds the second alert at the end of time",
          sorted(a["host"]["name"] for a in suppressed) == ["E", "S"] and
          [a.get("kibana.alert.suppression.docs_count") for a in suppressed if a["host"]["name"] == "E"] == [1],
          suppressed)
    check("times at the ends: the correlation counts the two logons at the end of time, not the one 585 years before",
          len(hosts.get("edge-correlation", [])) == 1, hosts)
    check("times at the ends: a match after the last run is reported, not alerted",
          r is not None and b"edge-esql: 1 match(es) no run of its schedule sees" in r.stderr and
          b"edge-threshold-last: 1 match(es) no run of its schedule sees" in r.stderr, r and r.stderr)

with tempfile.TemporaryDirectory() as tmp:
    # The parsed-rule cache: a second run takes every rule file from it and
    # writes the same alerts; an edited file is parsed again; --no-rule-cache
    # and VIGIL_CACHE_DIR= (empty) parse everything.
    import shutil
    import subprocess
    rules = os.path.join(tmp, "rules")
    shutil.copytree(SEED, rules)
    data = [os.path.join(REPO, "examples", "sysmon-events.xml"), os.path.join(REPO, "examples", "windows-ecs.ndjson")]
    env = dict(os.environ, VIGIL_CACHE_DIR=os.path.join(tmp, "cache"))

    def hunt(*flags, environment=env):
        return subprocess.run([VIGIL, "hunt", *flags, "--rules", rules, *data], capture_output=True, env=environment)

    n = len([f for f in os.listdir(rules) if f.endswith(".toml")])
    first, second = hunt(), hunt()
    check("rule cache: first run parses", b"from the parsed-rule cache" not in first.stderr, first.stderr)
    check("rule cache: second run takes every file from it",
          f"{n} of {n} rule files from the parsed-rule cache".encode() in second.stderr, second.stderr)
    check("rule cache: same alerts", first.stdout and first.stdout == second.stdout)
    check("rule cache file", os.path.exists(os.path.join(tmp, "cache", "parsed-rules.sqlite")))
    off = hunt("--no-rule-cache")
    check("--no-rule-cache parses every file", b"parsed-rule cache" not in off.stderr and off.stdout == first.stdout,
          off.stderr)
    empty = hunt(environment=dict(os.environ, VIGIL_CACHE_DIR=""))
    check("VIGIL_CACHE_DIR= turns the cache off", b"parsed-rule cache" not in empty.stderr, empty.stderr)
    edited = sorted(f for f in os.listdir(rules) if f.endswith(".toml"))[0]
    with open(os.path.join(rules, edited)) as f:
        text = f.read()
    with open(os.path.join(rules, edited), "w") as f:
        f.write(re.sub(r'^name = "', 'name = "Edited ', text, count=1, flags=re.M))
    third = hunt()
    check("rule cache: an edited file is parsed again",
          f"{n - 1} of {n} rule files from the parsed-rule cache".encode() in third.stderr, third.stderr)
    r = subprocess.run([VIGIL, "rules", "check", rules], capture_output=True, env=env)
    check("rules check with the cache", r.returncode == 0 and b"0 failed" in r.stdout, r.stdout)

checks.finish()
