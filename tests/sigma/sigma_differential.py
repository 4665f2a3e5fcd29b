#!/usr/bin/env python3
"""Sigma, differentially: an independent Sigma evaluator written here (the
specification read again: values, wildcards and escapes, modifiers,
null/exists, conditions with `1 of`/`all of`, the Windows log sources)
against `vigil hunt`, event for event, for every SigmaHQ Windows rule inside
what this evaluator implements (a few hundred), over the EVTX attack samples
and OTRF recordings (converted once by `vigil convert`, so both read the
same documents). Each side's matches are (rule id, line of the document).
A difference fails the test, unless pinned below with its reason. (Written
in session 16; its first run found two slips of its own, none of vigil's:
a trailing backslash before the wildcard `contains` adds, and channel names
in other case in the OTRF exports.)

usage: sigma_differential.py VIGIL SHARED"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import Checks  # noqa: E402

SYSMON = "Microsoft-Windows-Sysmon"
# Log source → [(provider or None, channel or None, event ids, {field: value} also required)].
CATEGORIES = {
    "process_creation": [(SYSMON, None, {1}, {}), (None, "Security", {4688}, {})],
    "network_connection": [(SYSMON, None, {3}, {})],
    "driver_load": [(SYSMON, None, {6}, {})],
    "image_load": [(SYSMON, None, {7}, {})],
    "create_remote_thread": [(SYSMON, None, {8}, {})],
    "raw_access_thread": [(SYSMON, None, {9}, {})],
    "process_access": [(SYSMON, None, {10}, {})],
    "file_event": [(SYSMON, None, {11}, {})],
    "registry_event": [(SYSMON, None, {12, 13, 14}, {})],
    "registry_set": [(SYSMON, None, {13}, {})],
    "registry_add": [(SYSMON, None, {12}, {"EventType": "CreateKey"})],
    "create_stream_hash": [(SYSMON, None, {15}, {})],
    "pipe_created": [(SYSMON, None, {17, 18}, {})],
    "dns_query": [(SYSMON, None, {22}, {})],
    "file_delete": [(SYSMON, None, {23}, {})],
}
SERVICES = {"security": "Security", "system": "System"}
# Security 4688 spells two Sysmon names otherwise.
RENAMES_4688 = {"Image": "NewProcessName", "ParentImage": "ParentProcessName"}
MODIFIERS = {"contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cased", "exists"}

# Differences with a reason (rule id → why): none so far.
KNOWN = {}


class Unsupported(Exception):
    pass


def event_data(doc):
    w = doc.get("winlog")
    if isinstance(w, dict) and isinstance(w.get("event_data"), dict):
        return w["event_data"]
    return None


def system(doc):
    """(provider, channel, event id) of a converted document."""
    w = doc.get("winlog") if isinstance(doc.get("winlog"), dict) else {}
    provider = w.get("provider_name") or doc.get("SourceName") or doc.get("Provider_Name")
    channel = w.get("channel") or doc.get("Channel")
    eid = w.get("event_id", doc.get("EventID"))
    if eid is None:
        eid = (doc.get("event") or {}).get("code")
    try:
        eid = int(eid)
    except (TypeError, ValueError):
        eid = None
    return provider, channel, eid


def field(doc, name, renamed):
    """The value(s) of a Sigma field: the EventData (or flat export) name,
    renamed for Security 4688; System fields from winlog."""
    if name == "EventID":
        return system(doc)[2]
    if name == "Channel":
        return system(doc)[1]
    if name == "Provider_Name":
        return system(doc)[0]
    if name == "Computer":
        w = doc.get("winlog") or {}
        return w.get("computer_name", doc.get("Hostname"))
    name = renamed.get(name, name)
    data = event_data(doc)
    if data is not None and name in data:
        return data[name]
    return doc.get(name)


def same(a, b):
    return a is not None and b is not None and a.lower() == b.lower()


def in_source(doc, logsource):
    provider, channel, eid = system(doc)
    category, service = logsource.get("category"), logsource.get("service")
    if category:
        for p, ch, ids, where in CATEGORIES[category]:
            if (p is None or same(p, provider)) and (ch is None or same(ch, channel)) and eid in ids and \
                    all(same(text(field(doc, f, {})), v) for f, v in where.items()):
                return RENAMES_4688 if ch == "Security" else {}
        return None
    if service:
        return {} if same(channel, SERVICES[service]) else None
    return None


def pattern(value, cased, before="", after=""):
    """A Sigma string (wildcards * and ?, backslash escapes) as a compiled
    regex; `before`/`after`: wildcards a modifier adds (after the value's
    escapes are read: a trailing backslash stays a backslash)."""
    out, i = [before], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value) and value[i + 1] in "*?\\":
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    out.append(after)
    return re.compile("".join(out), re.S | (0 if cased else re.I))


def values_of(v):
    return v if isinstance(v, list) else [v]


def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def matcher(key, value):
    """A function doc, renamed → bool for one `field|modifiers: value(s)` entry."""
    parts = key.split("|")
    name, mods = parts[0], parts[1:]
    if not set(mods) <= MODIFIERS:
        raise Unsupported(f"modifier {mods}")
    if "exists" in mods:
        want = bool(value)
        return lambda doc, ren: (field(doc, name, ren) is not None) == want
    cased = "cased" in mods
    tests = []
    for v in values_of(value):
        if v is None:
            tests.append(("null", None))
            continue
        if isinstance(v, (dict, list)):
            raise Unsupported("nested value")
        s = text(v)
        if "re" in mods:
            flags = (re.I if "i" in mods else 0) | (re.M if "m" in mods else 0) | (re.S if "s" in mods else 0)
            try:
                tests.append(("re", re.compile(s, flags)))
            except re.error:
                raise Unsupported("regex Python does not take")
            continue
        before = ".*" if "contains" in mods or "endswith" in mods else ""
        after = ".*" if "contains" in mods or "startswith" in mods else ""
        tests.append(("glob", pattern(s, cased, before, after)))

    def one(actual, test):
        kind, t = test
        if kind == "null":
            return actual is None
        if actual is None:
            return False
        for a in (actual if isinstance(actual, list) else [actual]):
            a = text(a)
            if (kind == "re" and t.search(a)) or (kind == "glob" and t.fullmatch(a)):
                return True
        return False

    combine = all if "all" in mods else any
    return lambda doc, ren: combine(one(field(doc, name, ren), t) for t in tests)


def search(definition):
    """A search identifier's definition → doc, renamed → bool."""
    if isinstance(definition, dict):
        entries = [matcher(k, v) for k, v in definition.items()]
        return lambda doc, ren: all(e(doc, ren) for e in entries)
    if isinstance(definition, list) and definition and all(isinstance(d, dict) for d in definition):
        maps = [search(d) for d in definition]
        return lambda doc, ren: any(m(doc, ren) for m in maps)
    raise Unsupported("keywords")


def condition(text_, searches):
    tokens = re.findall(r"\(|\)|[^\s()]+", text_)
    pos = 0

    def peek():
        return tokens[pos].lower() if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def group(word, pattern_):
        if pattern_ == "them":
            names = list(searches)
        else:
            rx = re.compile("^" + re.escape(pattern_).replace("\\*", ".*") + "$")
            names = [n for n in searches if rx.match(n)]
        fs = [searches[n] for n in names]
        if word == "all":
            return lambda d, r: all(f(d, r) for f in fs)
        return lambda d, r: any(f(d, r) for f in fs)

    def primary():
        t = peek()
        if t is None:
            raise Unsupported("condition ends")
        if t == "(":
            take()
            e = disj()
            if take() != ")":
                raise Unsupported("parenthesis")
            return e
        if t == "not":
            take()
            e = primary()
            return lambda d, r: not e(d, r)
        if t in ("1", "all", "any"):
            word = "all" if take().lower() == "all" else "one"
            if peek() != "of":
                raise Unsupported("of")
            take()
            return group(word, take())
        name = take()
        if name not in searches:
            raise Unsupported(f"identifier {name}")
        return searches[name]

    def chain(word, operand, combine):
        """operand (word operand)*, folded with combine (all or any)."""
        parts = [operand()]
        while peek() == word:
            take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else lambda d, r: combine(p(d, r) for p in parts)

    def conj():
        return chain("and", primary, all)

    def disj():
        return chain("or", conj, any)

    e = disj()
    if pos != len(tokens) or "|" in text_:
        raise Unsupported("condition")
    return e


def compile_rule(doc):
    ls = doc.get("logsource") or {}
    if ls.get("product") != "windows" or doc.get("status") in ("deprecated", "unsupported"):
        raise Unsupported("not run")
    if ls.get("category") and ls["category"] not in CATEGORIES:
        raise Unsupported("category")
    if not ls.get("category") and ls.get("service") not in SERVICES:
        raise Unsupported("service")
    det = doc["detection"]
    conds = det["condition"]
    if isinstance(conds, list):
        if len(conds) != 1:
            raise Unsupported("several conditions")
        conds = conds[0]
    searches = {k: search(v) for k, v in det.items() if k != "condition"}
    return ls, condition(conds, searches)


def main():
    vigil, shared = sys.argv[1:3]
    c = Checks(vigil)
    tmp = tempfile.mkdtemp(prefix="vigil-sigma-diff-")
    try:
        # The events: the EVTX attack samples and three OTRF recordings, in one file.
        events = os.path.join(tmp, "events.ndjson")
        otrf = os.path.join(shared, "data", "otrf-security-datasets", "windows")
        inputs = [os.path.join(shared, "data", "evtx-attack-samples")] + [
            os.path.join(otrf, p) for p in ("credential_access/host/cmd_dumping_ntds_dit_file_ntdsutil.zip",
                                            "execution/host/empire_launcher_vbs.zip",
                                            "persistence/host/empire_persistence_registry_modification_run_keys_standard_user.zip")]
        inputs = [p for p in inputs if os.path.exists(p)]
        r = subprocess.run([vigil, "convert", "-o", events] + inputs, capture_output=True)
        c.check("vigil convert: exit 0", r.returncode == 0, r.stderr[-300:])
        lines = open(events, encoding="utf-8").read().splitlines()
        docs = [json.loads(l) for l in lines]
        # The same event twice in the inputs (the samples hold copies) is one
        # alert in vigil (its uuid is the rule and the event), at its first line.
        first, canonical = {}, []
        for n, l in enumerate(lines, 1):
            canonical.append(first.setdefault(l, n))
        c.check("the events: EVTX and OTRF", len(docs) > 20000, len(docs))
        # The rules inside what this evaluator implements.
        rules_dir = os.path.join(tmp, "rules")
        os.makedirs(rules_dir)
        compiled = {}
        for path in sorted(glob.glob(os.path.join(shared, "rules", "sigma", "sigmahq", "rules", "windows", "**", "*.yml"),
                                     recursive=True)):
            try:
                with open(path, encoding="utf-8") as f:
                    doc = yaml.safe_load(f)
                compiled[doc["id"]] = compile_rule(doc)
            except (Unsupported, KeyError, TypeError, yaml.YAMLError):
                continue
            os.symlink(os.path.abspath(path), os.path.join(rules_dir, os.path.basename(path)))
        c.check("a few hundred rules inside the evaluator", len(compiled) >= 300, len(compiled))
        # This evaluator's matches.
        mine = set()
        groups = {}
        for rid, (ls, cond) in compiled.items():
            key = (ls.get("category"), ls.get("service"))
            groups.setdefault(key, (ls, []))[1].append((rid, cond))
        for line, doc in enumerate(docs, 1):
            for ls, members in groups.values():
                ren = in_source(doc, ls)
                if ren is None:
                    continue
                for rid, cond in members:
                    if cond(doc, ren):
                        mine.add((rid, canonical[line - 1]))
        # vigil's.
        out = os.path.join(tmp, "alerts.ndjson")
        r = subprocess.run([vigil, "hunt", "-q", "--no-rule-cache", "--rules", rules_dir, "-o", out, events],
                           capture_output=True)
        c.check("vigil hunt: exit 0", r.returncode == 0, r.stderr[-300:])
        theirs = set()
        for l in open(out, encoding="utf-8"):
            a = json.loads(l)
            theirs.add((a["kibana.alert.rule.rule_id"], a["vigil.source"]["line"]))
        diff = mine ^ theirs
        rules_diff = sorted({rid for rid, _ in diff} - set(KNOWN))
        c.check("vigil and this evaluator match the same events", not rules_diff and len(mine) > 200,
                [(rid, sorted(l for x, l in mine - theirs if x == rid)[:3], sorted(l for x, l in theirs - mine if x == rid)[:3])
                 for rid in rules_diff[:8]])
        c.check("... over many rules", len({rid for rid, _ in mine}) > 40, len({rid for rid, _ in mine}))
        print(f"{len(compiled)} rules, {len(docs)} events, {len(mine)} matches here, {len(theirs)} by vigil")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
