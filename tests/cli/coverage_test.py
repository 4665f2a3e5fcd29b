#!/usr/bin/env python3
"""End-to-end tests of `vigil coverage` and `vigil rules explain`: the seed
pack over a real Sysmon capture (Atomic Red Team, eqllib) as recorded, with
every Sysmon 7 (image load) removed, and with command lines blanked, must give
ready / blind / degraded verdicts naming the right rules and fields; Sysmon
configurations are judged before any data exists.

usage: coverage_test.py VIGIL REPO_DIR SHARED_DIR
"""
import json
import os
import sys
import gzip
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks  # noqa: E402

VIGIL, REPO, SHARED = sys.argv[1:4]
checks = Checks(VIGIL)
run, check = checks.run, checks.check
SEED = os.path.join(REPO, "rules", "windows")
CAPTURE = os.path.join(SHARED, "data", "more-samples", "b", "sysmon-atomic-red-team.json.gz")
CONFIGS = os.path.join(SHARED, "sysmon-configs")

AN0052 = "Suspicious DLL Written and Then Loaded"
AN0052_RUNDLL32 = "Suspicious DLL Executed through Rundll32 or Regsvr32"
AN0052_OUTBOUND = "Suspicious DLL Loaded then Outbound Connection"
NETSH_LOADED = "Netsh Helper DLL Registered and Loaded"
NETSH_REGISTERED = "Netsh Helper DLL Registered"
REGSVR32 = "Regsvr32 Scriptlet or User-Writable DLL Registration"


def load_capture(path):
    """The capture's events (a JSON array, gzip)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def condition_holds(op, want, value):
    """One Sysmon filter condition on one EventData value (case-insensitive), as Sysmon documents them ("excludes any":
    one or more of the values absent; "excludes all": none of them present)."""
    if value is None:
        return False
    v, w = str(value).lower(), want.lower()
    parts = [x for x in w.split(";") if x]
    base = v.rsplit("\\", 1)[-1]
    return {
        "is": lambda: v == w, "": lambda: v == w, "is not": lambda: v != w, "is any": lambda: v in parts,
        "contains": lambda: w in v, "contains any": lambda: any(p in v for p in parts),
        "contains all": lambda: all(p in v for p in parts), "excludes": lambda: w not in v,
        "excludes any": lambda: not all(p in v for p in parts), "excludes all": lambda: not any(p in v for p in parts),
        "begin with": lambda: v.startswith(w), "not begin with": lambda: not v.startswith(w),
        "end with": lambda: v.endswith(w), "not end with": lambda: not v.endswith(w),
        "image": lambda: v == w or base == w,
    }.get(op, lambda: False)()


class SysmonFilter:
    """A Sysmon configuration's filters: per event type, include and exclude filters (lists of conditions that must
    all hold); a type the file does not mention is not collected, an empty include collects nothing."""
    TAGS = {"ProcessCreate": [1], "FileCreateTime": [2], "NetworkConnect": [3], "ProcessTerminate": [5],
            "DriverLoad": [6], "ImageLoad": [7], "CreateRemoteThread": [8], "RawAccessRead": [9], "ProcessAccess": [10],
            "FileCreate": [11], "RegistryEvent": [12, 13, 14], "FileCreateStreamHash": [15], "PipeEvent": [17, 18],
            "WmiEvent": [19, 20, 21], "DnsQuery": [22], "FileDelete": [23], "ClipboardChange": [24],
            "ProcessTampering": [25], "FileDeleteDetected": [26], "FileBlockExecutable": [27],
            "FileBlockShredding": [28], "FileExecutableDetected": [29]}

    def __init__(self, path):
        self.sections = {}  # tag -> {"include": [filters] or None, "exclude": [filters] or None}
        root = ET.parse(path).getroot().find("EventFiltering")
        for node in root:
            if node.tag == "RuleGroup":
                for section in node:
                    self.add(section, node.get("groupRelation") == "and")
            else:
                self.add(node, False)

    def add(self, section, grouped):
        if section.tag not in self.TAGS:
            return
        entry = self.sections.setdefault(section.tag, {"include": None, "exclude": None})
        kind = section.get("onmatch")
        filters = entry[kind] if entry[kind] is not None else []
        entry[kind] = filters
        group = []
        for c in section:
            if not isinstance(c.tag, str):
                continue
            if c.tag == "Rule":
                conds = [(x.tag, (x.get("condition") or "").lower(), x.text or "") for x in c if isinstance(x.tag, str)]
                if c.get("groupRelation") == "and":
                    if conds:
                        filters.append(conds)
                else:
                    filters.extend([x] for x in conds)
            elif grouped:
                group.append((c.tag, (c.get("condition") or "").lower(), c.text or ""))
            else:
                filters.append([(c.tag, (c.get("condition") or "").lower(), c.text or "")])
        if group:
            filters.append(group)

    def tag(self, event_id):
        return next((t for t, ids in self.TAGS.items() if event_id in ids), None)

    def collects(self, event_id, event):
        entry = self.sections.get(self.tag(event_id))
        if entry is None:
            return False
        def any_holds(filters):
            return any(all(condition_holds(op, want, event.get(field)) for field, op, want in f) for f in filters)
        if entry["include"] is not None and not any_holds(entry["include"]):
            return False
        return not any_holds(entry["exclude"] or [])


def only_inserted(original, patched):
    """Whether `patched` is `original` with text inserted (original is a subsequence of it)."""
    it = iter(patched)
    return all(c in it for c in original)


def verdicts(out):
    """{rule name: (status, reasons)} for the only host of a --json report."""
    doc = json.loads(out)
    result = {}
    for r in doc["rules"]:
        (v,) = r["verdicts"].values()
        result[r["name"]] = (v["status"], v["reasons"])
    return result, doc


def main():
    with tempfile.TemporaryDirectory() as tmp:
        full = os.path.join(tmp, "full.ndjson")
        r = run(["convert", CAPTURE, "-o", full])
        check("convert the capture", r.returncode == 0, r.stderr[-300:])
        no7, nocmd = os.path.join(tmp, "no7.ndjson"), os.path.join(tmp, "nocmd.ndjson")
        with open(full) as f, open(no7, "w") as a, open(nocmd, "w") as b:
            for line in f:
                d = json.loads(line)
                if str(d.get("event", {}).get("code")) != "7":
                    a.write(line)
                p = d.get("process")
                if isinstance(p, dict) and "command_line" in p:
                    p["command_line"] = ""
                    p.pop("args", None)
                b.write(json.dumps(d) + "\n")

        r = run(["coverage", "--json", "--rules", SEED, full])
        v, doc = verdicts(r.stdout)
        check("full data: every seed rule is ready", r.returncode == 0 and
              all(status == "ready" for status, _ in v.values()) and len(v) == 10, v)
        (host,) = doc["hosts"].values()
        check("the profile: events, time range, categories, sources, fill rates",
              host["events"] == 19882 and host["first"].startswith("2018-12-04") and
              host["sources"]["Microsoft-Windows-Sysmon 7"] == 5309 and
              host["field_fill"]["library"]["dll.path"] == 1.0, {k: host[k] for k in ("events", "first")})

        r = run(["coverage", "--json", "--rules", SEED, no7])
        v, _ = verdicts(r.stdout)
        check("no Sysmon 7: the DLL written-then-loaded rule is blind, for want of library events",
              v[AN0052][0] == "blind" and any("no library events" in x and "Sysmon 7" in x for x in v[AN0052][1]),
              v[AN0052])
        for name in (AN0052_RUNDLL32, AN0052_OUTBOUND):
            check(f"no Sysmon 7: {name} is blind, for want of library events",
                  v[name][0] == "blind" and any("no library events" in x for x in v[name][1]), v[name])
        check("no Sysmon 7: the netsh loaded rule is degraded (its child-process branch still works)",
              v[NETSH_LOADED][0] == "degraded" and any("dll.path" in x for x in v[NETSH_LOADED][1]), v[NETSH_LOADED])
        check("no Sysmon 7: the registry-only netsh rule stays ready", v[NETSH_REGISTERED][0] == "ready",
              v[NETSH_REGISTERED])

        r = run(["coverage", "--json", "--rules", SEED, nocmd])
        v, _ = verdicts(r.stdout)
        check("blank command lines: the regsvr32 scriptlet rule is blind and says why",
              v[REGSVR32][0] == "blind" and any("process.command_line" in x for x in v[REGSVR32][1]), v[REGSVR32])
        check("blank command lines: rules that do not read them stay ready", v[AN0052][0] == "ready", v[AN0052])

        table = run(["coverage", "--rules", SEED, no7]).stdout.decode()
        check("the table: host, counts, reasons, ATT&CK view", "host " in table and "rules: 5 ready, 2 degraded, 3 blind"
              in table and "T1574" in table and "no library events on this host" in table, table[:2000])

        hunted = run(["hunt", "-o", os.devnull, "--coverage", "--rules", SEED, no7]).stderr.decode()
        check("hunt --coverage: the verdict counts per host after the summary",
              "coverage (rules ready / degraded / blind per host" in hunted and "5 /     2 /     3" in hunted, hunted[-600:])

        explained = run(["rules", "explain", "--rules", SEED, AN0052]).stdout.decode()
        check("rules explain: terms, fields, Windows events",
              "sequence term 2" in explained and "needs: dll.name" in explained and "dll.path" in explained and
              "Sysmon 7" in explained and
              "T1574" in explained, explained)
        r = run(["rules", "explain", "--rules", SEED, "no such rule"])
        check("rules explain of an unknown rule: exit 2", r.returncode == 2, r.stderr)

        # Sysmon configurations, before any data exists.
        swift = os.path.join(CONFIGS, "swiftonsecurity-sysmonconfig-export.xml")
        r = run(["coverage", "--json", "--rules", SEED, "--sysmon-config", swift])
        doc = json.loads(r.stdout)
        config = {x["name"]: x for x in doc["sysmon_config"]["rules"]}
        check("SwiftOnSecurity: no image loads collected → the DLL written-then-loaded rule is blind",
              config[AN0052]["status"] == "blind" and any("ImageLoad" in x for x in config[AN0052]["reasons"]),
              config[AN0052])
        check("SwiftOnSecurity: the netsh registry rule is ready (its include rules cover the Netsh key)",
              config[NETSH_REGISTERED]["status"] == "ready", config[NETSH_REGISTERED])
        modular = os.path.join(CONFIGS, "sysmon-modular-sysmonconfig.xml")
        r = run(["coverage", "--json", "--rules", SEED, "--sysmon-config", modular])
        config = {x["name"]: x for x in json.loads(r.stdout)["sysmon_config"]["rules"]}
        check("sysmon-modular: the DLL written-then-loaded rule is not blind",
              config[AN0052]["status"] != "blind", config[AN0052])
        # A configuration that excludes the Netsh key.
        with open(swift, encoding="utf-8") as f:
            text = f.read()
        marker = '<RegistryEvent onmatch="exclude">'
        excluding = os.path.join(tmp, "no-netsh.xml")
        with open(excluding, "w", encoding="utf-8") as f:
            f.write(text.replace(marker, marker + '\n<TargetObject condition="contains">\\Microsoft\\NetSh</TargetObject>', 1))
        r = run(["coverage", "--json", "--rules", SEED, "--sysmon-config", excluding])
        config = {x["name"]: x for x in json.loads(r.stdout)["sysmon_config"]["rules"]}
        check("a config excluding HKLM\\SOFTWARE\\Microsoft\\Netsh blinds the netsh registry rule",
              config[NETSH_REGISTERED]["status"] == "blind" and
              any("excluded" in x and "netsh" in x.lower() for x in config[NETSH_REGISTERED]["reasons"]),
              config[NETSH_REGISTERED])
        r = run(["coverage", "--rules", SEED, "--sysmon-config", os.path.join(tmp, "missing.xml")])
        check("a missing config is a usage error", r.returncode == 2, r.stderr)

        # Join-aware verdicts: a sequence joined by process.entity_id carries its
        # first term's process (regsvr32) into the network term; each category
        # branch of a term (network or library) must be collected.
        def network_only(image):
            path = os.path.join(tmp, f"network-{image}.xml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"""<Sysmon schemaversion="4.90"><EventFiltering>
  <RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude"/></RuleGroup>
  <RuleGroup groupRelation="or"><NetworkConnect onmatch="include"><Image condition="end with">{image}</Image></NetworkConnect></RuleGroup>
  <RuleGroup groupRelation="or"><ImageLoad onmatch="exclude"/></RuleGroup>
</EventFiltering></Sysmon>""")
            r = run(["coverage", "--json", "--rules", os.path.join(SEED, "execution_regsvr32_network_or_untrusted_module.toml"),
                     "--sysmon-config", path])
            return json.loads(r.stdout)["sysmon_config"]["rules"][0]
        browsers = network_only("chrome.exe")
        check("network connections collected for browsers only: the regsvr32 rule's network branch is lost (degraded), "
              "the joined process named", browsers["status"] == "degraded" and
              any("the network branch" in x and "regsvr32.exe" in x and "joined by process.entity_id" in x
                  for x in browsers["reasons"]), browsers)
        # The Windows audit settings the rules need.
        elastic = os.path.join(SHARED, "rules", "elastic", "windows")
        r = run(["coverage", "--json", "--audit-policy", "--rules", elastic])
        audit = {x["setting"]: x for x in json.loads(r.stdout)["audit_policy"]}
        logon = audit.get("Audit Logon", {})
        check("--audit-policy: failed-logon rules need Audit Logon with failures (4625), and say so as auditpol",
              "Privileged Accounts Brute Force" in logon.get("required_by", []) and 4625 in logon.get("events", []) and
              logon.get("command") == 'auditpol /set /subcategory:"Logon" /success:enable /failure:enable', logon)
        script_blocks = audit.get("Turn on PowerShell Script Block Logging", {})
        check("--audit-policy: script block rules need PowerShell script block logging (a policy, not auditpol)",
              "Potential PowerShell Obfuscation via String Concatenation" in script_blocks.get("required_by", []) and
              "ScriptBlockLogging" in script_blocks.get("command", ""), script_blocks)
        creation = audit.get("Audit Process Creation", {})
        check("--audit-policy: process rules can use 4688 instead of Sysmon 1; command lines need the extra setting",
              len(creation.get("alternative_for", [])) > 100 and
              any("Include command line" in n for n in creation.get("notes", [])), creation)
        # --suggest: additions that make rules ready, merged into the user's own file.
        patched = os.path.join(tmp, "swift-patched.xml")
        r = run(["coverage", "--rules", SEED, "--sysmon-config", swift, "--suggest", "-o", patched])
        out = r.stdout.decode()
        with open(swift, encoding="utf-8") as f:
            original = f.read()
        with open(patched, encoding="utf-8") as f:
            text = f.read()
        cut = next((i for i in range(len(original)) if original[i] != text[i]), len(original))
        added = text[cut:len(text) - (len(original) - cut)]
        check("--suggest: the patched file is the original with one inserted block (nothing else changed), well-formed, "
              "every original RuleGroup kept",
              r.returncode == 0 and text[:cut] + text[cut + len(added):] == original and ET.parse(patched) is not None and
              text.count("<RuleGroup") == original.count("<RuleGroup") + added.count("<RuleGroup"), out[-2000:])
        check("--suggest: ImageLoad includes for the joined regsvr32 process, the user-writable DLL paths and the "
              "unsigned DLLs the rules' `or` branches name, each naming the rules it serves",
              '<Image condition="end with">\\regsvr32.exe</Image>' in added and
              "Regsvr32 Followed by Network Connection or Untrusted Module" in added and
              '<imageloaded condition="contains">:\\users\\</imageloaded>' in added.lower() and
              '<Signed condition="is">false</Signed>' in added and AN0052 in added, added)
        r = run(["coverage", "--json", "--rules", SEED, "--sysmon-config", patched])
        after = {x["name"]: x for x in json.loads(r.stdout)["sysmon_config"]["rules"]}
        check("--suggest round trip: every seed rule is ready under the patched file",
              all(x["status"] == "ready" for x in after.values()) and len(after) == 10,
              {k: after[k]["status"] for k in after})
        layer = os.path.join(tmp, "layer.json")
        r = run(["coverage", "--rules", SEED, "--sysmon-config", swift, "--suggest", "--navigator", layer])
        with open(layer) as f:
            before_scores = {t["techniqueID"]: t["score"] for t in json.load(f)["techniques"]}
        with open(os.path.join(tmp, "layer-after.json")) as f:
            after_layer = json.load(f)
        after_scores = {t["techniqueID"]: t["score"] for t in after_layer["techniques"]}
        check("--suggest --navigator: a second layer, ready after the change (every seed technique at 100, "
              "the DLL-loading ones up from below)", r.returncode == 0 and "after" in after_layer["name"] and
              set(after_scores) == set(before_scores) and all(v == 100 for v in after_scores.values()) and
              before_scores.get("T1129", 100) < 100, (before_scores, after_scores))
        # What no include can fix: an exclusion (exclude wins over include in Sysmon).
        web = os.path.join(elastic, "command_and_control_common_webservices.toml")
        r = run(["coverage", "--rules", web, "--sysmon-config", modular, "--suggest"])
        out = r.stdout.decode()
        check("--suggest: an exclusion that drops a rule's events is narrowed in place, naming the rule",
              '<Rule groupRelation="and"><QueryName condition="end with">.live.com</QueryName>' in out and
              '<QueryName condition="is not">onedrive.live.com</QueryName>' in out and "narrowed so that Connection to Commonly Abused Web Services" in out and
              "with the additions: 1 ready" in out, out[-2000:])

        # The cost: the capture's Sysmon events replayed through both filters,
        # checked against an evaluator of Sysmon's filtering written here.
        r = run(["coverage", "--json", "--rules", SEED, "--sysmon-config", swift, "--suggest", "-o", patched, CAPTURE])
        suggest = json.loads(r.stdout)["sysmon_config"]["suggest"]
        replay = suggest["replay"]
        events = load_capture(CAPTURE)
        before = SysmonFilter(swift)
        after_filter = SysmonFilter(patched)
        counts = {"sysmon_events": 0, "original": 0, "patched": 0, "added": 0, "lost": 0}
        by_id = {}
        per_addition = [0] * len(suggest["additions"])
        for e in events:
            eid = e.get("EventId", e.get("EventID"))
            if not isinstance(eid, int) or before.tag(eid) is None:
                continue
            a, b = before.collects(eid, e), after_filter.collects(eid, e)
            counts["sysmon_events"] += 1
            counts["original"] += a
            counts["patched"] += b
            counts["added"] += b and not a
            counts["lost"] += a and not b
            row = by_id.setdefault(str(eid), {"recorded": 0, "original": 0, "patched": 0})
            row["recorded"] += 1
            row["original"] += a
            row["patched"] += b
            if b and not a:
                for i, add in enumerate(suggest["additions"]):
                    per_addition[i] += before.tag(eid) == add["event_type"] and (
                        not add["field"] or condition_holds(add["condition"], add["value"], e.get(add["field"])))
        check("replay: the counts vigil prints match an independent Sysmon filter evaluation of the same events",
              {k: replay[k] for k in counts} == counts and replay["by_event_id"] == by_id and counts["added"] > 0,
              ({k: replay[k] for k in counts}, counts))
        check("replay: every event the original configuration collects is still collected", replay["lost"] == 0, replay)
        check("replay: the events each addition brings in match the independent evaluation",
              [a["events_added"] for a in suggest["additions"]] == per_addition and
              sum(per_addition) >= replay["added"] > 0, (per_addition, [a["events_added"] for a in suggest["additions"]]))
        check("replay: events per host per day of recording (the six minutes fall in one hour: 1/24 host-day)",
              replay["recordings"] == 1 and abs(replay["host_days"] - 1 / 24) < 1e-5 and
              abs(replay["added_per_host_day"] / (replay["added"] / replay["host_days"]) - 1) < 0.01, replay)
        table = run(["coverage", "--rules", SEED, "--sysmon-config", swift, "--suggest", CAPTURE]).stdout.decode()
        check("the cost in the table: totals, the per-ID change, each addition",
              f"+{replay['added']} (≈" in table and "every event the configuration collects is still collected" in table and
              "Sysmon 7 (ImageLoad): 5309 recorded, 0 collected" in table, table[-2500:])

        # Round trip over Elastic's rules and the seed pack, for each shipped configuration: the patched file
        # adds one block, and every rule left not ready is named with what no include can fix.
        for name in sorted(os.listdir(CONFIGS)):
            if not name.endswith(".xml"):
                continue
            config_path = os.path.join(CONFIGS, name)
            out_path = os.path.join(tmp, "patched-" + name)
            r = run(["coverage", "--json", "--rules", SEED, "--rules", elastic, "--sysmon-config", config_path,
                     "--suggest", "-o", out_path])
            report = json.loads(r.stdout)["sysmon_config"]
            unfixable = " ".join(report["suggest"]["unfixable"])
            r = run(["coverage", "--json", "--rules", SEED, "--rules", elastic, "--sysmon-config", out_path])
            patched_rules = json.loads(r.stdout)["sysmon_config"]["rules"]
            not_ready = [x["name"] for x in patched_rules if x["status"] != "ready"]
            with open(config_path, encoding="utf-8") as f:
                original = f.read()
            with open(out_path, encoding="utf-8") as f:
                text = f.read()
            check(f"round trip {name}: no rule blind after the change; each one not ready is named with why no change "
                  "fixes it; the patch only inserts text (every byte of the original kept, in order)", r.returncode == 0 and
                  not any(x["status"] == "blind" for x in patched_rules) and
                  all(n + ":" in unfixable for n in not_ready) and only_inserted(original, text) and
                  ET.parse(out_path) is not None,
                  ([n for n in not_ready if n + ":" not in unfixable], len(not_ready)))
        regsvr32 = network_only("regsvr32.exe")
        check("network connections of regsvr32 collected: the rule is ready", regsvr32["status"] == "ready", regsvr32)
    checks.finish()


if __name__ == "__main__":
    main()
