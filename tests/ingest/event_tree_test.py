#!/usr/bin/env python3
"""Windows events as JSON trees of their XML (evtx_dump's JSON lines,
python-evtx through xmltodict, the Go decoders') give the documents their
event XML gives. Debian's python3-evtx (run with /usr/bin/python3) renders
each record of real EVTX files as XML; this script writes that XML as an
export and as the three JSON shapes, has `vigil convert` read each, and
compares the documents one by one.

usage: event_tree_test.py VIGIL SHARED_DIR
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import Evtx.Evtx as evtx

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
# Channels and shapes: Sysmon and Security EventData, System's unnamed
# <Data>, UserData (Security 1102, the log cleared; AppLocker; WMI).
FILES = [
    "evtx-attack-samples/Execution/exec_sysmon_lobin_regsvr32_sct.evtx",
    "evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx",
    "evtx-attack-samples/AutomatedTestingTools/WinDefender_Events_1117_1116_AtomicRedTeam.evtx",
    "evtx-attack-samples/Privilege Escalation/System_7045_namedpipe_privesc.evtx",
    "evtx-attack-samples/Defense Evasion/DE_1102_security_log_cleared.evtx",
    "evtx-attack-samples/Lateral Movement/LM_5145_Remote_FileCopy.evtx",
    "evtx-attack-samples/Lateral Movement/DFIR_RDP_Client_TimeZone_RdpCoreTs_104_example.evtx",
    "evtx-attack-samples/Persistence/Persistence_Shime_Microsoft-Windows-Application-Experience_Program-Telemetry_500.evtx",
    "evtx-attack-samples/Execution/Exec_via_cpl_Application_Experience_EventID_17_ControlPanelApplet.evtx",
]
MAX_RECORDS = 400


def local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def text_of(e):
    return e.text if e.text is not None and e.text.strip() != "" or len(e) == 0 else None


def evtx_dump_tree(e):
    """evtx_dump: attributes under "#attributes", a leaf as its text (null when empty)."""
    if len(e) == 0 and not e.attrib:
        return e.text
    node = {}
    if e.attrib:
        node["#attributes"] = {local(k): v for k, v in e.attrib.items()}
    for c in e:
        node.setdefault(local(c.tag), []).append(evtx_dump_tree(c))
    node = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in node.items()}
    if e.text is not None and e.text.strip() and len(e) == 0:
        node["#text"] = e.text
    return node


def evtx_dump_event_data(e):
    named = {c.get("Name"): c.text for c in e if local(c.tag) == "Data" and c.get("Name")}
    unnamed = [c.text or "" for c in e if local(c.tag) == "Data" and not c.get("Name")]
    if unnamed:
        named["Data"] = {"#text": unnamed if len(unnamed) > 1 else unnamed[0]}
    return named


def xmltodict_tree(e):
    """xmltodict: attributes as "@name", text as "#text", repeated children as lists."""
    if len(e) == 0 and not e.attrib:
        return e.text
    node = {"@" + local(k): v for k, v in e.attrib.items()}
    for c in e:
        node.setdefault(local(c.tag), []).append(xmltodict_tree(c))
    node = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in node.items()}
    if e.text and len(e) == 0:  # as xmltodict.parse(strip_whitespace=False) keeps " "
        node["#text"] = e.text
    return node


def go_tree(e):
    """The Go decoders: attributes as members, an element's text as "Value"."""
    if len(e) == 0 and not e.attrib:
        return e.text or ""
    node = {local(k): v for k, v in e.attrib.items()}
    for c in e:
        node[local(c.tag)] = go_tree(c)
    if e.text is not None and e.text.strip():
        node["Value"] = e.text
    return node


def go_event_data(e):
    named = {c.get("Name"): c.text or "" for c in e if local(c.tag) == "Data" and c.get("Name")}
    unnamed = [c.text or "" for c in e if local(c.tag) == "Data" and not c.get("Name")]
    if unnamed:
        named["Data"] = unnamed
    return named


def shapes(xml):
    root = ET.fromstring(xml)
    parts = {local(c.tag): c for c in root}
    system = parts["System"]
    event_data = parts.get("EventData")
    user_data = parts.get("UserData")
    dump = {"System": evtx_dump_tree(system)}
    go = {"System": go_tree(system)}
    if event_data is not None:
        dump["EventData"] = evtx_dump_event_data(event_data)
        go["EventData"] = go_event_data(event_data)
    if user_data is not None:
        dump["UserData"] = evtx_dump_tree(user_data)
        go["UserData"] = go_tree(user_data)
    todict = {"Event": {"@xmlns": NS.strip("{}")}}
    todict["Event"].update({local(c.tag): xmltodict_tree(c) for c in root})
    return {
        "evtx_dump": {"Event": {"#attributes": {"xmlns": NS.strip("{}")}, **dump}},
        "xmltodict": todict,
        "go": go,  # System and EventData at the top level
    }


def convert(vigil, path):
    r = subprocess.run([vigil, "convert", path], capture_output=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"vigil convert {path}: exit {r.returncode}: {r.stderr.decode(errors='replace')[-500:]}")
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def main():
    vigil, shared = sys.argv[1], sys.argv[2]
    failures, compared, user_data = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel in FILES:
            path = os.path.join(shared, "data", rel)
            if not os.path.exists(path):
                failures.append(f"{rel}: not in the shared data")
                continue
            xmls = []
            with evtx.Evtx(path) as log:
                for record in log.records():
                    xmls.append(record.xml())
                    if len(xmls) == MAX_RECORDS:
                        break
            xml_file = os.path.join(tmp, "events.xml")
            with open(xml_file, "w", encoding="utf-8") as f:
                f.write("\n".join(xmls))
            want = convert(vigil, xml_file)
            user_data += sum("user_data" in d.get("winlog", {}) for d in want)
            trees = [shapes(x) for x in xmls]
            for shape in ("evtx_dump", "xmltodict", "go"):
                json_file = os.path.join(tmp, f"{shape}.json")
                with open(json_file, "w", encoding="utf-8") as f:
                    for t in trees:
                        f.write(json.dumps(t[shape]) + "\n")
                got = convert(vigil, json_file)
                if len(got) != len(want):
                    failures.append(f"{rel} as {shape}: {len(got)} documents, the XML gives {len(want)}")
                    continue
                for i, (g, w) in enumerate(zip(got, want)):
                    compared += 1
                    if g != w:
                        keys = sorted(set(json.dumps(g, sort_keys=True).split(",")) ^
                                      set(json.dumps(w, sort_keys=True).split(",")))[:6]
                        failures.append(f"{rel} as {shape}, record {i + 1}: differs: {keys}")
                        break
    print(f"{compared} documents compared over {len(FILES)} files and 3 JSON shapes "
          f"({user_data} XML documents with UserData)")
    if user_data < 10:
        failures.append(f"only {user_data} events with UserData were compared")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
