#!/usr/bin/python3
"""Picks the golden inputs: for each mapped Windows event (Sysmon IDs and the
Security/System events of the mapping table), the first real record found in
../shared/data, written as the event XML Windows exports (`wevtutil qe
/f:xml`), or as the OTRF JSON line when only the OTRF datasets hold that ID.
Run once with Debian's python3-evtx; the inputs are committed with their
origin in SOURCES.md, and the expected documents are reviewed by hand.

usage: /usr/bin/python3 make_inputs.py SHARED_DATA OUT_DIR
"""
import glob
import io
import json
import os
import re
import sys
import zipfile

import Evtx.Evtx as evtx

WANTED = {("Microsoft-Windows-Sysmon", i)
          for i in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 25, 26, 28)}
WANTED |= {("Microsoft-Windows-Security-Auditing", i) for i in (4688, 4689, 4657, 5156, 4697, 4624, 4625, 4648, 4672, 4662, 5136)}
WANTED |= {("Microsoft-Windows-PowerShell", 4104)}
WANTED |= {("Service Control Manager", 7045)}
PROVIDER = re.compile(r'<Provider Name="([^"]*)"')
EVENT_ID = re.compile(r"<EventID[^>]*>(\d+)</EventID>")
TIME = re.compile(r'SystemTime="(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?"')


def slug(provider, eid):
    short = {"Microsoft-Windows-Sysmon": "sysmon", "Microsoft-Windows-Security-Auditing": "security",
             "Service Control Manager": "system", "Microsoft-Windows-PowerShell": "powershell"}[provider]
    return f"{short}-{eid}"


def main():
    data, out = sys.argv[1], sys.argv[2]
    found = {}
    for path in sorted(glob.glob(os.path.join(data, "**", "*.evtx"), recursive=True)):
        try:
            with evtx.Evtx(path) as log:
                for record in log.records():
                    try:
                        xml = record.xml()
                    except Exception:
                        continue
                    p, e = PROVIDER.search(xml), EVENT_ID.search(xml)
                    if not p or not e:
                        continue
                    key = (p.group(1), int(e.group(1)))
                    if key in WANTED and key not in found:
                        # wevtutil writes SystemTime as ISO 8601 with 100 ns digits and Z.
                        xml = TIME.sub(lambda m: f'SystemTime="{m.group(1)}T{m.group(2)}.{(m.group(3) or "0").ljust(7, "0")}Z"', xml)
                        found[key] = (f"{os.path.relpath(path, data)} record {record.record_num()}", "xml", xml)
        except Exception:
            continue
    for z in sorted(glob.glob(os.path.join(data, "otrf-security-datasets", "**", "*.zip"), recursive=True)):
        if all(k in found for k in WANTED):
            break
        try:
            zf = zipfile.ZipFile(z)
        except zipfile.BadZipFile:
            continue
        with zf:
            for name in zf.namelist():
                for n, line in enumerate(io.TextIOWrapper(zf.open(name), errors="replace"), 1):
                    try:
                        doc = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(doc, dict) or not str(doc.get("EventID", "")).isdigit():
                        continue
                    key = (doc.get("SourceName"), int(doc["EventID"]))
                    if key in WANTED and key not in found:
                        found[key] = (f"{os.path.relpath(z, data)}:{name} line {n}", "json", json.dumps(doc) + "\n")
    with open(os.path.join(out, "SOURCES.md"), "w") as sources:
        sources.write("# Where each golden input comes from (all under ../shared/data)\n\n")
        for key in sorted(found, key=lambda k: (k[0], k[1])):
            origin, kind, text = found[key]
            name = f"{slug(*key)}.{kind}"
            with open(os.path.join(out, name), "w") as f:
                f.write(text if text.endswith("\n") else text + "\n")
            sources.write(f"- `{name}`: {origin}\n")
        for key in sorted(WANTED - set(found)):
            sources.write(f"- {key[0]} {key[1]}: no record in the shared data\n")


if __name__ == "__main__":
    main()
