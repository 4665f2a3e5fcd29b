#!/usr/bin/env python3
"""Triage context checked against the source events: every alert's process
ancestry over all EVTX attack samples (Elastic's rules and the seed pack),
link by link, must be a parent/child pair that a process start event on the
same host states (pids equal, names equal case-insensitively where both are
known). The first link must be the alert's own process.parent. A link found
by pid and time says so (`linked_by: pid`); placeholders ("-", "?", the
all-zero GUID) never appear as names or ids.

usage: triage_test.py VIGIL REPO SHARED"""
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks  # noqa: E402

ZERO_GUID = "{00000000-0000-0000-0000-000000000000}"


def main():
    vigil, repo, shared = sys.argv[1:4]
    c = Checks(vigil)
    samples = os.path.join(shared, "data", "evtx-attack-samples")
    if not os.path.isdir(samples):
        print(f"FAIL {samples} is missing: this test reads the shared recordings in place")
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="vigil-triage-test-")
    events = os.path.join(tmp, "events.ndjson")
    c.run(["convert", samples, "-o", events])
    # (host, child pid) -> {(parent pid, parent name or None), ...} as process starts state them.
    stated = defaultdict(set)
    names = defaultdict(set)  # (host, pid) -> names seen starting with that pid
    starts = 0
    placeholders = 0
    with open(events, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            p = e.get("process") or {}
            parent = p.get("parent") or {}
            for v in (p.get("name"), parent.get("name"), p.get("entity_id"), parent.get("entity_id")):
                if v in ("-", "?", ZERO_GUID):
                    placeholders += 1
            ev = e.get("event") or {}
            if "process" not in (ev.get("category") or []) or "start" not in (ev.get("type") or []):
                continue
            host = ((e.get("host") or {}).get("name") or "").lower()
            if p.get("pid") is None or parent.get("pid") is None:
                continue
            starts += 1
            pname = (parent.get("name") or "").lower() or None
            stated[(host, str(p["pid"]))].add((str(parent["pid"]), pname))
            if p.get("name"):
                names[(host, str(p["pid"]))].add(p["name"].lower())
    c.check("ECS documents hold no placeholder names or ids ('-', '?', the zero GUID)", placeholders == 0, placeholders)
    c.check("process starts with both pids in the samples", starts > 1000, starts)

    alerts_file = os.path.join(tmp, "alerts.ndjson")
    r = c.run(["hunt", "-q", "--rules", os.path.join(shared, "rules", "elastic", "windows"),
               "--rules", os.path.join(repo, "rules", "windows"), samples, "-o", alerts_file])
    c.check("hunt over all samples", r.returncode == 0, r.stderr[-400:])
    checked, mismatches, by_pid, first_checked = 0, [], 0, 0
    malseclogon = None
    with open(alerts_file, encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            proc = a.get("process") or {}
            ancestry = (a.get("vigil.context") or {}).get("process_ancestry") or []
            if not ancestry or proc.get("pid") is None:
                continue
            host = ((a.get("host") or {}).get("name") or "").lower()
            parent = proc.get("parent") or {}
            if parent.get("pid") is not None:
                first = ancestry[0]
                first_checked += 1
                same = str(parent["pid"]) == first.get("pid") and (
                    not parent.get("name") or not first.get("name") or
                    parent["name"].lower() == first["name"].lower())
                if not same:
                    mismatches.append(("first", a["kibana.alert.rule.name"], proc.get("name"), parent, first))
            chain = [{"pid": str(proc["pid"]), "name": proc.get("name")}] + ancestry
            for child, par in zip(chain, chain[1:]):
                for v in (par.get("name"), par.get("entity_id")):
                    if v in ("-", "?", ZERO_GUID):
                        mismatches.append(("placeholder", a["kibana.alert.rule.name"], par))
                if par.get("linked_by") == "pid":
                    by_pid += 1
                links = stated.get((host, child["pid"]), set())
                pname = (par.get("name") or "").lower()
                ok = any(pp == par.get("pid") and (not pn or not pname or pn == pname) for pp, pn in links)
                checked += 1
                if not ok:
                    mismatches.append(("link", a["kibana.alert.rule.name"], host, child, par, sorted(links)[:4]))
            if proc.get("name") == "MalSeclogon.exe" and str(proc.get("pid")) == "6072":
                malseclogon = ancestry
    c.check("ancestry: every link is a parent/child pair a process start states (0 mismatches)",
            not mismatches and checked > 300, (checked, len(mismatches), mismatches[:5]))
    c.check("ancestry: the first generation is the alert's own process.parent", first_checked > 200, first_checked)
    c.check("ancestry: links found by pid and time are marked", by_pid > 0, by_pid)
    c.check("MalSeclogon spoofing lsass.exe 636 as its parent: the ancestry says lsass.exe 636, linked by pid",
            malseclogon is not None and malseclogon[0].get("name") == "lsass.exe" and malseclogon[0].get("pid") == "636"
            and malseclogon[0].get("linked_by") == "pid", malseclogon)
    # Every alert and building block names its source (vigil.source: file and
    # EVTX record id); following it back to that record gives the alert's
    # own source fields, exactly. A sequence's alert lists each event's.
    def strip(d, alert=None):
        # An ES|QL alert adds the columns its query computed (named in vigil.esql.columns) to the event's fields.
        computed = {c.split(".")[0] for c in (alert or d).get("vigil.esql.columns", [])}
        return {k: v for k, v in d.items() if k not in ("@timestamp", "event", "threat", "log") and k not in computed
                and not k.startswith(("kibana", "vigil"))}

    by_file = defaultdict(dict)
    followed, wrong, unnamed, shells_named = 0, [], 0, 0
    with open(alerts_file, encoding="utf-8") as f:
        alerts = [json.loads(line) for line in f]
    for a in alerts:
        if "kibana.alert.group.id" in a and "kibana.alert.building_block_type" not in a:
            shells_named += bool(a.get("vigil.sources")) and all(s and s.get("record_id") for s in a["vigil.sources"])
            continue
        src = a.get("vigil.source")
        if not src or "record_id" not in src or not src.get("path", "").endswith(".evtx"):
            unnamed += 1
            continue
        path = src["path"]
        if path not in by_file:
            out = subprocess.run([vigil, "convert", path, "-o", "-"], capture_output=True).stdout.decode()
            by_file[path] = {json.loads(l)["winlog"]["record_id"]: json.loads(l) for l in out.splitlines() if l.strip()}
        record = by_file[path].get(src["record_id"])
        followed += 1
        if record is None or strip(record, a) != strip(a):
            wrong.append((a["kibana.alert.rule.name"], src, sorted(set(strip(a)) ^ set(strip(record or {}, a)))[:5]))
    c.check("every alert names its source record", unnamed == 0 and followed > 400, (unnamed, followed))
    c.check("each source record, read again from its file, is the alert's source", not wrong, wrong[:3])
    c.check("sequence alerts name every event's source", shells_named > 10, shells_named)
    c.check("log.file.path (ECS) is the source file on every alert and building block", all(
        a.get("log", {}).get("file", {}).get("path") == a["vigil.source"]["path"] for a in alerts
        if "vigil.source" in a), sum(1 for a in alerts if "log" in a))
    # event.original: the source document as read, on every alert and building block.
    events_of = [a for a in alerts if not ("kibana.alert.group.id" in a and "kibana.alert.building_block_type" not in a)]
    originals_ok = all(strip(json.loads(a["event"]["original"]), a) == strip(a) and
                       json.loads(a["event"]["original"])["winlog"]["record_id"] == a["vigil.source"]["record_id"]
                       for a in events_of if "original" in a.get("event", {}))
    c.check("event.original is each alert's source document", originals_ok and
            all("original" in a["event"] for a in events_of), len(events_of))
    slim = os.path.join(tmp, "slim.ndjson")
    c.run(["hunt", "-q", "--no-event-original", "--rules", os.path.join(shared, "rules", "elastic", "windows"),
           "--rules", os.path.join(repo, "rules", "windows"), samples, "-o", slim])
    with open(slim, encoding="utf-8") as f:
        slim_alerts = [json.loads(line) for line in f]
    c.check("--no-event-original: none, the same alerts otherwise",
            not any("original" in a.get("event", {}) for a in slim_alerts) and
            [a["kibana.alert.uuid"] for a in slim_alerts] == [a["kibana.alert.uuid"] for a in alerts], len(slim_alerts))
    # vigil convert --source: each document names its file and record, as alerts do.
    one = os.path.join(samples, "Credential Access", "tutto_malseclogon.evtx")
    out = subprocess.run([vigil, "convert", "--source", one, "-o", "-"], capture_output=True).stdout.decode()
    docs = [json.loads(l) for l in out.splitlines() if l.strip()]
    c.check("convert --source: every document names its file and EVTX record", len(docs) > 10 and all(
        d["vigil.source"]["path"] == one and d["vigil.source"]["record_id"] == d["winlog"]["record_id"] and
        d["vigil.source"]["offset"] > 0 for d in docs), docs[:1])
    c.finish()


if __name__ == "__main__":
    main()
