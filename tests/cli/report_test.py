#!/usr/bin/env python3
"""The HTML report in a real browser (Debian's chromium, headless).

1. The EVTX attack samples hunted with Elastic's and the seed rules: the page
   (after its script ran: --dump-dom) holds every alert, every host, the
   process tree of chosen alerts with their parent chain as the alert states
   it, a sequence's events; filters in the URL fragment (host, severity, rule,
   search, time) show what they should; `vigil report --db` and
   `vigil hunt --report` give the same data; screenshots are kept as
   artefacts.
2. Hostile text (script tags, attribute breakouts, javascript: URLs, template
   braces, RTL overrides, invalid UTF-8) in events, host names and rule
   metadata is shown as text: no injected element or attribute, no script
   ran (markers stay unset), no javascript: link, no console message.
3. `vigil coverage --navigator`: the layer has the format's required fields,
   only technique ids the shipped ATT&CK table knows, and the coverage counts
   of `vigil coverage --json`.

usage: report_test.py VIGIL REPO SHARED ARTEFACT_DIR"""
import base64
import gzip
import html
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks, lines  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browser(url, extra=(), size="1400,1000"):
    """Runs headless Chromium on url; returns (stdout text, console lines)."""
    profile = tempfile.mkdtemp(prefix="vigil-chromium-")
    try:
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--user-data-dir=" + profile, "--window-size=" + size, "--hide-scrollbars",
                            "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
                            *(extra or ["--dump-dom"]), url],
                           capture_output=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    console = [l for l in r.stderr.decode("utf-8", "replace").splitlines() if ":CONSOLE" in l]
    return r.stdout.decode("utf-8", "replace"), console


class Dom(html.parser.HTMLParser):
    """Elements of a dumped DOM: (tag, attrs dict, depth path) and the text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.stack = []
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a, list(self.stack)))
        if tag not in ("meta", "link", "br", "input", "img", "hr", "col", "area", "base", "wbr", "source"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag=None, **attrs):
        out = []
        for t, a, parents in self.elements:
            if tag and t != tag:
                continue
            if all(a.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items()):
                out.append((t, a, parents))
        return out


def embedded_data(page_path):
    """The page's data: gzip + base64 as vigil writes it (or plain JSON)."""
    text = open(page_path, encoding="utf-8").read()
    tag = text.index('id="vigil-data"')
    start = text.index(">", tag) + 1
    body = text[start:text.index("</script>", start)]
    if 'data-encoding="gzip+base64"' in text[tag:start]:
        body = gzip.decompress(base64.b64decode(body)).decode("utf-8")
    return json.loads(body)


def match_count(dom):
    counts = dom.find("span", class_="match-count")
    return int(counts[0][1]["data-count"]) if counts else None


def url(path, fragment):
    return "file://" + path + "#" + fragment


def main():
    vigil, repo, shared, artefacts = sys.argv[1:5]
    c = Checks(vigil)
    if not CHROMIUM:
        print("FAIL chromium is not installed (scripts/install-deps.sh installs it)")
        sys.exit(1)
    samples = os.path.join(shared, "data", "evtx-attack-samples")
    elastic = os.path.join(shared, "rules", "elastic", "windows")
    seed = os.path.join(repo, "rules", "windows")
    for p in (samples, elastic):
        if not os.path.isdir(p):
            print(f"FAIL {p} is missing: this test reads the shared material in place")
            sys.exit(1)
    os.makedirs(artefacts, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="vigil-report-test-")

    # ---- 1. the attack samples --------------------------------------------
    alerts_path = os.path.join(tmp, "alerts.ndjson")
    db = os.path.join(tmp, "alerts.db")
    hunt_page = os.path.join(tmp, "hunt.html")
    r = c.run(["hunt", "--quiet", "--rules", seed, "--rules", elastic, samples, "-o", alerts_path, "--db", db,
               "--report", hunt_page])
    c.check("hunt --report exits 0", r.returncode == 0, r.stderr.decode()[-800:])
    alerts = lines(open(alerts_path, "rb").read())
    c.check("the samples give alerts", len(alerts) > 300, len(alerts))
    cov_path, layer_path = os.path.join(tmp, "coverage.json"), os.path.join(tmp, "layer.json")
    r = c.run(["coverage", "--rules", seed, "--rules", elastic, samples, "--json", "--navigator", layer_path])
    c.check("coverage --json --navigator exits 0", r.returncode == 0, r.stderr.decode()[-800:])
    open(cov_path, "wb").write(r.stdout)
    page = os.path.join(tmp, "report.html")
    r = c.run(["report", alerts_path, "--coverage", cov_path, "-o", page, "--title", "EVTX samples"])
    c.check("report exits 0", r.returncode == 0, r.stderr.decode()[-800:])
    db_page = os.path.join(tmp, "db.html")
    r = c.run(["report", "--db", db, "-o", db_page])
    c.check("report --db exits 0", r.returncode == 0, r.stderr.decode()[-800:])

    # Lines that are no alert are skipped and named (file:line, why); --strict makes that exit 3.
    mixed = os.path.join(tmp, "mixed.ndjson")
    with open(alerts_path, "rb") as src, open(mixed, "wb") as dst:
        dst.write(b"not json\n" + src.readline() + b'{"event":{"kind":"event"}}\n')
    r = c.run(["report", mixed, "-o", os.path.join(tmp, "mixed.html")])
    err = r.stderr.decode()
    c.check("skipped lines: exit 0, each named with its line and reason", r.returncode == 0 and
            f"{mixed}:1: skipped: not a JSON object" in err and
            f"{mixed}:3: skipped: no kibana.alert.uuid" in err and "1 alert(s)" in err, err)
    r = c.run(["report", "--strict", mixed, "-o", os.path.join(tmp, "mixed.html")])
    c.check("--strict: exit 3 on a skipped line", r.returncode == 3, r.returncode)
    r = c.run(["report", "-o", os.path.join(tmp, "none.html")])
    c.check("no alert files and no --db: exit 2", r.returncode == 2, r.returncode)

    # The data: every alert, once; the three ways of writing the report agree.
    data = embedded_data(page)
    ids = sorted(data["s"][a[0]] for a in data["alerts"])
    c.check("every alert is in the page once", ids == sorted(a["kibana.alert.uuid"] for a in alerts),
            (len(ids), len(alerts)))
    for other in (hunt_page, db_page):
        d = embedded_data(other)
        c.check(f"{os.path.basename(other)} holds the same alerts", sorted(d["s"][a[0]] for a in d["alerts"]) == ids)
    shown = [a for a in alerts if "kibana.alert.building_block_type" not in a]
    hosts = sorted({a.get("host", {}).get("name", "") for a in shown})

    text, console = browser(url(page, "view=alerts"))
    dom = Dom(text)
    c.check("alerts view: the count is every alert but building blocks", match_count(dom) == len(shown),
            (match_count(dom), len(shown)))
    c.check("alerts view: one page of rows", len(dom.find("tr", class_="alert-row")) == min(100, len(shown)))
    c.check("no console message (alerts)", not console, console[:3])
    text, console = browser(url(page, "view=alerts&bb=1"))
    c.check("with building blocks: every alert", match_count(Dom(text)) == len(alerts))

    text, console = browser(url(page, "view=hosts"))
    dom = Dom(text)
    listed = sorted(a["data-host"] for _, a, _ in dom.find("tr", class_="host-row"))
    c.check("hosts view: every host", listed == hosts, (listed, hosts))
    c.check("no console message (hosts)", not console, console[:3])

    # Filters, as the URL fragment sets them.
    host = max(hosts, key=lambda h: sum(1 for a in shown if a.get("host", {}).get("name") == h))
    for fragment, expected in [
        ("host=" + host, sum(1 for a in shown if a.get("host", {}).get("name") == host)),
        ("sev=2", sum(1 for a in shown if a["kibana.alert.severity"] in ("high", "critical"))),
        ("rule=" + shown[0]["kibana.alert.rule.rule_id"],
         sum(1 for a in shown if a["kibana.alert.rule.rule_id"] == shown[0]["kibana.alert.rule.rule_id"])),
        ("from=2020-01-01&to=2020-12-31",
         sum(1 for a in shown if "2020-01-01" <= a["kibana.alert.original_time"][:10] <= "2020-12-31")),
        ("tech=T1003", sum(1 for a in shown if any(
            t["id"].split(".")[0] == "T1003" or any(s["id"].split(".")[0] == "T1003" for s in t.get("subtechnique", []))
            for th in a["kibana.alert.rule.threat"] for t in th.get("technique", [])))),
    ]:
        text, console = browser(url(page, "view=alerts&" + fragment))
        got = match_count(Dom(text))
        c.check(f"filter {fragment}", got == expected and expected > 0, (got, expected))
        c.check(f"no console message ({fragment})", not console, console[:3])
    # Search: every alert whose reason holds the word, and none whose document does not.
    word = "mimikatz"
    low = sum(1 for a in shown if word in a["kibana.alert.reason"].lower())
    high = sum(1 for a in shown if word in json.dumps(a).lower())
    text, _ = browser(url(page, "view=alerts&q=" + word))
    got = match_count(Dom(text))
    c.check("search finds the alerts that name it", low > 0 and low <= got <= high, (low, got, high))

    # The process tree of chosen alerts: the ancestry, oldest first, then the alerting process.
    chosen = [a for a in shown if len(a.get("vigil.context", {}).get("process_ancestry", [])) >= 2
              and a.get("process", {}).get("name")][:3]
    c.check("alerts with a two-generation ancestry exist", len(chosen) == 3)
    for a in chosen:
        aid = a["kibana.alert.uuid"]
        text, console = browser(url(page, "view=alerts&bb=1&open=" + aid))
        dom = Dom(text)
        procs = [x for x in dom.find("li") if "proc" in x[1].get("class", "").split()
                 and any(p[1].get("data-alert-id") == aid and "details" in p[1].get("class", "") for p in x[2])]
        names = [x[1].get("data-name") for x in procs]
        ancestry = [p.get("name", "") for p in a["vigil.context"]["process_ancestry"]]
        expected = list(reversed(ancestry)) + [a["process"]["name"]]
        c.check(f"process tree of {aid[:12]}", names == expected, (names, expected))
        # Each node is a child of the one before: nested lists, not siblings.
        depths = [len(x[2]) for x in procs]
        c.check(f"process tree of {aid[:12]} is nested", depths == sorted(depths) and len(set(depths)) == len(depths), depths)
        alerting = [x[1].get("data-name") for x in procs if "proc-alerting" in x[1].get("class", "")]
        c.check(f"the alerting process is marked ({aid[:12]})", alerting == [a["process"]["name"]], alerting)
        c.check("no console message (details)", not console, console[:3])
    sequences = [a for a in shown if a.get("kibana.alert.group.id")]
    c.check("sequence alerts exist", len(sequences) > 0)
    if sequences:
        s = sequences[0]
        blocks = [a for a in alerts if a.get("kibana.alert.group.id") == s["kibana.alert.group.id"]
                  and "kibana.alert.building_block_type" in a]
        text, _ = browser(url(page, "view=alerts&open=" + s["kibana.alert.uuid"]))
        got = [x[1]["data-alert-id"] for x in Dom(text).find("div", class_="block")]
        want = [b["kibana.alert.uuid"] for b in sorted(blocks, key=lambda b: b["kibana.alert.group.index"])]
        c.check("a sequence alert shows its events in order", got == want and len(want) >= 2, (got, want))

    # The ATT&CK matrix with coverage: every technique with alerts has a cell naming the count.
    text, console = browser(url(page, "view=attack"))
    dom = Dom(text)
    cells = {a["data-technique"]: a for _, a, _ in dom.find("button") if "data-technique" in a}
    per_technique = {}
    for a in shown:
        seen = set()
        for th in a["kibana.alert.rule.threat"]:
            for t in th.get("technique", []):
                seen.add(t["id"].split(".")[0])
        for t in seen:
            per_technique[t] = per_technique.get(t, 0) + 1
    known = {t for t in per_technique if any(x[0] == t for x in data["attack"]["techniques"])}
    wrong = {t: (cells.get(t, {}).get("data-alerts"), per_technique[t]) for t in known
             if cells.get(t, {}).get("data-alerts") != str(per_technique[t])}
    c.check("matrix: each technique's alert count", not wrong and known, list(wrong.items())[:5])
    # Each cell names its rules (the tooltip; a click lists them): every rule with alerts for the technique.
    unnamed = []
    for a in shown:
        for th in a["kibana.alert.rule.threat"]:
            for t in th.get("technique", []):
                cell = cells.get(t["id"])
                if cell is not None and a["kibana.alert.rule.name"] not in cell.get("title", ""):
                    unnamed.append((t["id"], a["kibana.alert.rule.name"]))
    c.check("matrix: each cell names the rules behind its alerts", not unnamed, unnamed[:5])
    statuses = {a.get("data-coverage") for a in cells.values()}
    c.check("matrix: coverage colours the cells", len(statuses - {""}) >= 2, statuses)
    c.check("no console message (attack)", not console, console[:3])

    for name, fragment, size in [("report-overview.png", "view=overview", "1400,1000"),
                                 ("report-alert.png", "view=alerts&open=" + chosen[0]["kibana.alert.uuid"] if chosen else "view=alerts", "1400,1400"),
                                 ("report-attack.png", "view=attack", "1600,1000")]:
        png = os.path.join(artefacts, name)
        if os.path.exists(png):
            os.remove(png)
        browser(url(page, fragment), ["--screenshot=" + png], size)
        c.check(f"screenshot {name}", os.path.exists(png) and os.path.getsize(png) > 20000)

    # ---- 2. hostile text ----------------------------------------------------
    hostile_dir = os.path.join(tmp, "hostile")
    os.makedirs(hostile_dir)
    marker = "document.body.setAttribute('data-pwned','1')"
    payloads = [
        "<script>" + marker + "</script>",
        '"><img src=x onerror="' + marker + '">',
        "</script><script>" + marker + "</script>",
        "<svg onload=\"" + marker + "\"></svg>",
        "javascript:" + marker,
        "{{constructor.constructor('" + marker + "')()}}",
        "evil\u202egnp.exe",
        "<!--<script>",
    ]
    rule = f'''[rule]
author = ["<script>{marker}</script>"]
description = "<img src=x onerror=\\"{marker}\\">"
from = "now-9m"
language = "eql"
name = "Hostile <script>{marker}</script> rule"
risk_score = 99
rule_id = "x<script>y"
severity = "critical"
type = "eql"
references = ["javascript:{marker}", "https://example.org/\\"><script>x</script>", "https://example.org/ok"]
query = \'\'\'
process where event.type == "start"
\'\'\'
'''
    open(os.path.join(hostile_dir, "hostile.toml"), "w").write(rule)
    events = os.path.join(hostile_dir, "events.ndjson")
    with open(events, "wb") as f:
        for i, p in enumerate(payloads):
            doc = {"@timestamp": f"2024-01-01T00:00:0{i}Z", "event": {"category": ["process"], "type": ["start"]},
                   "host": {"name": p}, "user": {"name": p},
                   "process": {"name": p, "pid": 100 + i, "command_line": p, "executable": "C:\\" + p,
                               "entity_id": p, "parent": {"name": p, "pid": 1}},
                   "file": {"path": p}, "registry": {"path": "HKLM\\" + p}, "url": {"full": p}}
            f.write(json.dumps(doc, ensure_ascii=False).encode() + b"\n")
    # Invalid UTF-8 (the JSON reader rejects it; Windows event XML passes bytes through) in the host and process names.
    xml = os.path.join(hostile_dir, "events.xml")
    with open(xml, "wb") as f:
        f.write(b'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
                b'<Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"/>'
                b'<EventID>1</EventID><TimeCreated SystemTime="2024-01-01T00:00:09.000Z"/><EventRecordID>7</EventRecordID>'
                b'<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>bad\xff\xfeutf8</Computer></System>'
                b'<EventData><Data Name="Image">C:\\x\xc3(.exe</Data><Data Name="ProcessId">9</Data>'
                b'<Data Name="CommandLine">x\xc3( -a</Data></EventData></Event>\n')
    hostile_alerts = os.path.join(hostile_dir, "alerts.ndjson")
    hostile_page = os.path.join(hostile_dir, "report.html")
    r = c.run(["hunt", "--quiet", "--no-schedule", "--rules", os.path.join(hostile_dir, "hostile.toml"), events,
               xml, "-o", hostile_alerts, "--report", hostile_page])
    c.check("hunt over hostile events exits 0", r.returncode == 0, r.stderr.decode()[-800:])
    hostile = lines(open(hostile_alerts, "rb").read())
    c.check("every hostile event alerts", len(hostile) == len(payloads) + 1, len(hostile))
    views = ["view=overview", "view=alerts", "view=hosts", "view=attack", "view=alerts&q=script"]
    views += ["view=alerts&open=" + a["kibana.alert.uuid"] for a in hostile]
    for fragment in views:
        text, console = browser(url(hostile_page, fragment))
        dom = Dom(text)
        body = dom.find("body")
        c.check(f"[{fragment}] no script ran (marker unset)", body and "data-pwned" not in body[0][1], body[:1])
        injected = [t for t, _, _ in dom.elements if t in ("img", "svg", "iframe", "object", "embed", "form", "base")
                    and not (t == "svg" and fragment == "view=overview")]
        c.check(f"[{fragment}] no injected element", not injected, injected)
        handlers = [(t, k) for t, a, _ in dom.elements for k in a if k.startswith("on")]
        c.check(f"[{fragment}] no event-handler attribute", not handlers, handlers[:3])
        scripts = dom.find("script")
        c.check(f"[{fragment}] the page's two scripts only", len(scripts) == 2, len(scripts))
        links = [a.get("href", "") for _, a, _ in dom.find("a")]
        c.check(f"[{fragment}] no javascript: link", all(h.startswith("https://") or h.startswith("http://") for h in links),
                links)
        c.check(f"[{fragment}] no console message", not console, console[:3])
        title = dom.find("title")
        c.check(f"[{fragment}] title unchanged", "".join(dom.text).find("vigil report") >= 0 and title, title)
        if fragment.startswith("view=alerts&open="):
            shown_text = "".join(dom.text)
            c.check(f"[{fragment}] the payload is shown as text", any(p in shown_text for p in payloads),
                    shown_text[:300])
    text, _ = browser(url(hostile_page, "view=hosts"))
    listed = sorted(a["data-host"] for _, a, _ in Dom(text).find("tr", class_="host-row"))
    c.check("hostile host names listed as they are", set(listed) == set(payloads) | {"bad\ufffd\ufffdutf8"}, listed)

    # ---- 3. the Navigator layer ---------------------------------------------
    layer = json.load(open(layer_path))
    coverage = json.load(open(cov_path))
    for key in ("name", "domain", "versions", "techniques"):
        c.check(f"layer has {key}", key in layer)
    c.check("layer format 4.5", layer.get("versions", {}).get("layer") == "4.5" and layer.get("domain") == "enterprise-attack")
    tsv = os.path.join(repo, "src", "report", "attack", "enterprise-attack.tsv")
    attack_ids = {l.split("\t")[1] for l in open(tsv, encoding="utf-8") if l.startswith("technique\t")}
    unknown = [t["techniqueID"] for t in layer["techniques"] if t["techniqueID"] not in attack_ids]
    c.check("layer: only ATT&CK technique ids", not unknown, unknown)
    by_id = {t["id"]: t for t in coverage["techniques"]}
    mismatched = []
    for t in layer["techniques"]:
        meta = {m["name"]: m["value"] for m in t.get("metadata", [])}
        row = by_id.get(t["techniqueID"])
        if not row or [meta.get(k) for k in ("ready", "degraded", "blind")] != [str(row[k]) for k in ("ready", "degraded", "blind")]:
            mismatched.append(t["techniqueID"])
        total = row["ready"] + row["degraded"] + row["blind"] if row else 0
        if row and total and t["score"] != int(100 * row["ready"] / total + 0.5):
            mismatched.append(t["techniqueID"] + " score")
    c.check("layer: coverage counts round-trip", not mismatched and layer["techniques"], mismatched[:5])
    left_out = [t for t in by_id if t not in attack_ids]
    c.check("layer: every known technique of the coverage is in it",
            len(layer["techniques"]) == len(by_id) - len(left_out), (len(layer["techniques"]), len(by_id), left_out))
    c.finish()


main()
