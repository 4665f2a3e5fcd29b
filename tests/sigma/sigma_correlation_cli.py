#!/usr/bin/env python3
"""Sigma correlation rules end to end on recorded data.

1. The specification's own example (failed logons followed by a successful
   one: an event_count inside a temporal_ordered) on a real Security log:
   the exact alerts, their events, no alert of the rules they name (Sigma's
   default), and every rule alerting with `generate: true`.
2. event_count (sliding and fixed windows) and value_count rules over an
   OTRF recording, against an independent reading of the same events in
   this script (the windows computed here from `vigil convert`'s documents).
3. `vigil run` gives the alerts of `vigil hunt`; killed with -9 while
   following and restarted from its state, it writes each alert once.
4. Reference errors: file:line:col and a caret, exit 2.
A Sigma filter on a counted rule changes what the correlation counts.

usage: sigma_correlation_cli.py VIGIL SHARED"""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import Checks  # noqa: E402

BRUTE = """title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - TargetUserName
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - TargetUserName
    timespan: 10m
    condition:
        gte: 3
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
"""

ACCESS = """title: Process access
id: 11111111-2222-4333-8444-555555555555
name: access
logsource:
    product: windows
    category: process_access
detection:
    selection:
        EventID: 10
    condition: selection
"""


def correlation(name, ident, body):
    return f"title: {name}\nid: {ident}\nlevel: medium\ncorrelation:\n{body}---\n"


OTRF_RULES = {
    "burst": ("    type: event_count\n    rules: [access]\n    group-by: [SourceImage]\n    timespan: 1m\n"
              "    condition:\n        gte: 100\n"),
    "sparse": ("    type: event_count\n    rules: [access]\n    group-by: [SourceImage]\n    timespan: 1m\n"
               "    condition:\n        lt: 3\n"),
    "targets": ("    type: value_count\n    rules: [access]\n    group-by: [SourceImage]\n    timespan: 5m\n"
                "    condition:\n        field: TargetImage\n        gte: 5\n"),
}


def ns(text):
    """An ISO timestamp (up to nanoseconds, Z) as integer nanoseconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    whole = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    frac = (m.group(2) or "").ljust(9, "0")[:9]
    return int(whole.timestamp()) * 10**9 + int(frac)


def expected_windows(events, kind, span, threshold):
    """This script's reading of the specification's windows: events is a
    time-ordered list of (t, group, value). Returns (group, first, last) per alert."""
    out = []
    groups = {}
    if kind in ("burst", "targets"):  # sliding, lower bound, the group starts again after an alert
        for t, g, v in events:
            window = [e for e in groups.get(g, []) if e[0] >= t - span] + [(t, v)]
            measured = len(window) if kind == "burst" else len({x for _, x in window})
            if measured >= threshold:
                out.append((g, window[0][0], t))
                window = []
            groups[g] = window
        return out
    # sparse: fixed windows from a group's first event, "fewer than" tested when they close
    for t, g, v in events:
        w = groups.get(g)
        if w and t > w[0] + span:
            if len(w) < threshold:
                out.append((g, w[0], w[-1]))
            w = None
        groups[g] = (w or []) + [t]
    for g, w in groups.items():
        if w and len(w) < threshold:
            out.append((g, w[0], w[-1]))
    return out


def shells(path, rule_id):
    out = []
    for line in open(path, encoding="utf-8"):
        a = json.loads(line)
        if a["kibana.alert.rule.rule_id"] == rule_id and a["kibana.alert.depth"] == 2:
            out.append(a)
    return out


def main():
    vigil, shared = sys.argv[1:3]
    c = Checks(vigil)
    tmp = tempfile.mkdtemp(prefix="vigil-sigma-corr-")
    try:
        security = os.path.join(shared, "data", "evtx-edge-cases", "Security_with_size_t.evtx")
        brute = os.path.join(tmp, "brute.yml")
        open(brute, "w").write(BRUTE)

        # 1. The specification's example.
        out = os.path.join(tmp, "brute.ndjson")
        r = c.run(["hunt", "--rules", brute, "-o", out, security])
        c.check("hunt with the example: exit 0", r.returncode == 0, r.stderr)
        alerts = [json.loads(l) for l in open(out, encoding="utf-8")]
        top = [a for a in alerts if a["kibana.alert.depth"] == 2]
        c.check("two alerts, both of the outermost correlation",
                len(top) == 2 and {a["kibana.alert.rule.rule_id"] for a in top} == {"b180ead8-d58f-40b2-ae54-c8940995b9b6"},
                [(a["kibana.alert.rule.name"], a["kibana.alert.depth"]) for a in alerts])
        c.check("no alert of the rules it names (generate is false)",
                all(a["kibana.alert.rule.rule_id"] == "b180ead8-d58f-40b2-ae54-c8940995b9b6" for a in alerts))
        if len(top) == 2:
            c.check("grouped by the user", [a["kibana.alert.rule.parameters.join_keys"] for a in top] ==
                    [["Administrator"], ["Administrator"]], [a.get("kibana.alert.rule.parameters.join_keys") for a in top])
            blocks = [a for a in alerts if a["kibana.alert.depth"] == 1 and
                      a["kibana.alert.group.id"] == top[0]["kibana.alert.group.id"]]
            ids = [b["winlog"]["event_id"] for b in blocks]
            c.check("the first: three failed logons, then the successful one", ids == ["4625", "4625", "4625", "4624"], ids)
            times = [b["kibana.alert.original_time"] for b in blocks]
            c.check("... in time order, within 10 minutes", times == sorted(times) and
                    ns(times[-1]) - ns(times[0]) <= 600 * 10**9, times)
            corr = top[0]["vigil.correlation"]
            c.check("vigil.correlation says what was correlated",
                    corr["type"] == "temporal_ordered" and corr["group"] == {"TargetUserName": "Administrator"} and
                    [x["name"] for x in corr["rules"]] == ["Multiple failed logons", "Successful login"] and
                    corr["timespan"] == "10m", corr)
            c.check("the reason names the correlation",
                    top[0]["kibana.alert.reason"].startswith("correlation on WIN-L0ZZQ76PMUF: Multiple failed logons, "
                                                             "Successful login in that order (TargetUserName=Administrator)"),
                    top[0]["kibana.alert.reason"])
            c.check("the second starts after the first ended (the group starts again)",
                    ns(top[1]["vigil.correlation"]["window"]["start"]) > ns(corr["window"]["end"]),
                    (corr["window"], top[1]["vigil.correlation"]["window"]))
        generated = os.path.join(tmp, "generate.yml")
        open(generated, "w").write(BRUTE.replace("    timespan: 10m\nlevel: high", "    timespan: 10m\n    generate: true\nlevel: high"))
        out_g = os.path.join(tmp, "generate.ndjson")
        c.run(["hunt", "--rules", generated, "-o", out_g, security])
        by_rule = {}
        for line in open(out_g, encoding="utf-8"):
            a = json.loads(line)
            if a["kibana.alert.depth"] != 1 or "kibana.alert.group.id" not in a:
                by_rule[a["kibana.alert.rule.name"]] = by_rule.get(a["kibana.alert.rule.name"], 0) + 1
        # The MANIFEST: 126 events 4624 and 15 events 4625 in this file.
        c.check("generate: true: the rules it names alert on every event too",
                by_rule.get("Successful login") == 126 and by_rule.get("Multiple failed logons", 0) >= 1 and
                by_rule.get("Correlation - Multiple Failed Logins Followed by Successful Login") == 2, by_rule)

        # A filter on the rule the correlation counts (another file) takes
        # Administrator's failed logons out: no alert left.
        filt = os.path.join(tmp, "filter.yml")
        open(filt, "w").write("title: Administrator's failures are expected\nlogsource:\n  product: windows\n"
                              "  service: security\nfilter:\n  rules: [failed_login]\n  admin:\n"
                              "    TargetUserName: administrator\n  condition: not admin\n")
        out_f = os.path.join(tmp, "filtered.ndjson")
        r = c.run(["hunt", "--rules", brute, "--rules", filt, "-o", out_f, security])
        c.check("a filter on the counted rule (case-insensitive value): no correlation alert",
                r.returncode == 0 and os.path.getsize(out_f) == 0, r.stderr)

        # 2. OTRF: sliding and fixed windows against this script's reading.
        data = os.path.join(shared, "data", "otrf-security-datasets", "windows", "credential_access", "host",
                            "cmd_dumping_ntds_dit_file_ntdsutil.zip")
        converted = os.path.join(tmp, "ntds.ndjson")
        r = c.run(["convert", data, "-o", converted])
        events = []
        for line in open(converted, encoding="utf-8"):
            d = json.loads(line)
            if str(d.get("EventID")) == "10" and d.get("SourceImage") and d.get("@timestamp"):
                events.append((ns(d["@timestamp"]), d["SourceImage"], d.get("TargetImage", "")))
        events.sort(key=lambda e: e[0])  # stable: input order among equal times, as vigil
        c.check("the recording has thousands of process accesses", len(events) > 5000, len(events))
        otrf_rules = os.path.join(tmp, "otrf.yml")
        with open(otrf_rules, "w") as f:
            for i, (name, body) in enumerate(OTRF_RULES.items()):
                f.write(correlation(name, f"00000000-0000-4000-8000-00000000000{i}", body))
            f.write(ACCESS)
        out_o = os.path.join(tmp, "otrf.ndjson")
        r = c.run(["hunt", "--rules", otrf_rules, "-o", out_o, data])
        c.check("hunt over the OTRF recording: exit 0", r.returncode == 0, r.stderr)
        for i, (name, span, threshold) in enumerate([("burst", 60, 100), ("sparse", 60, 3), ("targets", 300, 5)]):
            got = sorted((a["kibana.alert.rule.parameters.join_keys"][0], ns(a["vigil.correlation"]["window"]["start"]),
                          ns(a["vigil.correlation"]["window"]["end"]))
                         for a in shells(out_o, f"00000000-0000-4000-8000-00000000000{i}"))
            want = sorted(expected_windows(events, name, span * 10**9, threshold))
            c.check(f"{name}: the windows this script computes ({len(want)})", got == want and len(want) > 0,
                    (len(got), len(want), [x for x in got if x not in want][:3], [x for x in want if x not in got][:3]))
        kept = [a for a in shells(out_o, "00000000-0000-4000-8000-000000000000")]
        c.check("burst alerts keep the last 10 events of their window",
                all(a["vigil.correlation"]["events_kept"] == 10 and a["vigil.correlation"]["count"] == 100 for a in kept),
                [a["vigil.correlation"] for a in kept][:2])

        # 3. run == hunt; run --follow killed and restarted.
        out_r = os.path.join(tmp, "run.ndjson")
        r = c.run(["run", "-q", "--lateness", "100000d", "--rules", otrf_rules, "-o", out_r, converted])
        hunt_conv = os.path.join(tmp, "hunt-conv.ndjson")
        c.run(["hunt", "-q", "--rules", otrf_rules, "-o", hunt_conv, converted])
        uu = lambda p: sorted(json.loads(l)["kibana.alert.uuid"] for l in open(p, encoding="utf-8"))  # noqa: E731
        c.check("run == hunt: the same alert uuids", uu(out_r) == uu(hunt_conv) and len(uu(out_r)) > 0,
                (len(uu(out_r)), len(uu(hunt_conv)), r.stderr[-300:]))
        followed = os.path.join(tmp, "live.ndjson")
        state, out_f, log = os.path.join(tmp, "state"), os.path.join(tmp, "follow.ndjson"), os.path.join(tmp, "follow.log")
        # A collector's stream comes in about time order (the recording's file
        # order does not): the lines sorted by time, read with 5 s of lateness.
        lines = sorted(open(converted, encoding="utf-8").read().splitlines(),
                       key=lambda l: ns(json.loads(l)["@timestamp"]) if '"@timestamp"' in l else 0)
        args = [vigil, "run", "--follow", "--state", state, "-o", out_f, "--poll-interval", "20ms",
                "--checkpoint-interval", "50ms", "--status-interval", "100ms", "--lateness", "5s",
                "--rules", otrf_rules, followed]
        open(followed, "w").close()
        proc = None
        chunk = len(lines) // 6 + 1
        for i in range(6):
            if proc is None:
                proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))
            with open(followed, "a", encoding="utf-8") as f:
                f.write("\n".join(lines[i * chunk:(i + 1) * chunk]) + "\n")
            end = time.time() + 300
            want_events = min(len(lines), (i + 1) * chunk)
            while time.time() < end and not re.search(rb"vigil run: %d events " % want_events, open(log, "rb").read()):
                time.sleep(0.05)
            if i in (1, 3):
                proc.kill()
                proc.wait()
                proc = None
        if proc is None:
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))
            time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        got = uu(out_f) if os.path.exists(out_f) else []
        c.check("followed with kills: no alert twice", len(got) == len(set(got)), len(got) - len(set(got)))
        c.check("followed with kills: every alert an expected one",
                set(got) <= set(uu(hunt_conv)), (len(set(got) - set(uu(hunt_conv))), open(log, "rb").read()[-600:]))
        # A followed run never sees the end of its input: event time is the
        # last event less 5 s of lateness. A sliding window's alert is final
        # once event time has passed its last event; a fixed window's once
        # it has passed the group's last match by the timespan (1 m: sparse).
        last_t = max(ns(json.loads(l)["@timestamp"]) for l in lines if '"@timestamp"' in l)
        final = set()
        for line in open(hunt_conv, encoding="utf-8"):
            a = json.loads(line)
            fixed = a["kibana.alert.rule.rule_id"].endswith("1")
            if a["kibana.alert.depth"] == 2 and \
                    ns(a["vigil.correlation"]["window"]["end"]) < last_t - 5 * 10**9 - (60 * 10**9 if fixed else 0):
                final.add(a["kibana.alert.uuid"])
        c.check("followed with kills: every alert event time has made final is there",
                final <= set(got) and len(final) > 0, (len(final - set(got)), len(final), len(got)))

        # 4. Reference errors.
        bad = os.path.join(tmp, "bad.yml")
        open(bad, "w").write(BRUTE.replace("        - successful_login\n", "        - successful_logon\n", 1))
        r = c.run(["rules", "check", bad])
        err = r.stdout.decode() + r.stderr.decode()  # rules check reports on stdout
        c.check("an unknown reference: exit 2 at its line and column with a caret",
                r.returncode == 2 and "bad.yml:8:11: error: no loaded rule has the id or name 'successful_logon'" in err and
                "^" in err, err)
        cycle = os.path.join(tmp, "cycle.yml")
        open(cycle, "w").write(correlation("a", "00000000-0000-4000-8000-0000000000a1",
                                           "    type: temporal\n    rules: [b_corr, access]\n    group-by: [SourceImage]\n"
                                           "    timespan: 1m\n").replace("title: a\n", "title: a\nname: a_corr\n") +
                               correlation("b", "00000000-0000-4000-8000-0000000000b1",
                                           "    type: temporal\n    rules: [a_corr, access]\n    group-by: [SourceImage]\n"
                                           "    timespan: 1m\n").replace("title: b\n", "title: b\nname: b_corr\n") + ACCESS)
        r = c.run(["rules", "check", cycle])
        c.check("a cycle of correlations: both named, exit 2",
                r.returncode == 2 and r.stdout.decode().count("(a cycle)") == 2, r.stdout)
        inner = os.path.join(tmp, "inner.yml")
        open(inner, "w").write(BRUTE.replace("        - TargetUserName\n    timespan: 10m\nlevel", "        - IpAddress\n    timespan: 10m\nlevel"))
        r = c.run(["rules", "check", inner])
        c.check("an outer group-by field the inner correlation does not group by: exit 2",
                r.returncode == 2 and "group-by field 'IpAddress' is not among" in r.stdout.decode(), r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
