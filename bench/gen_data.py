#!/usr/bin/env python3
"""Scales the EQL conformance events (../shared/eql/endgame/test_data.json)
up to an ECS NDJSON file of at least SIZE bytes for benchmarks: each source
event is mapped to ECS field names (process.name, event.category, ...) and
repeated with fresh ids and advancing timestamps.

usage: gen_data.py SHARED_EQL_DIR OUT.ndjson [--mb 1024]
"""
import argparse
import datetime
import json

ap = argparse.ArgumentParser()
ap.add_argument("shared_eql")
ap.add_argument("out")
ap.add_argument("--mb", type=int, default=1024)
a = ap.parse_args()

with open(f"{a.shared_eql}/endgame/test_data.json") as f:
    source = json.load(f)

EPOCH = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)


def ecs(e, serial, seconds, copy):
    ts = (EPOCH + datetime.timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    doc = {
        "@timestamp": ts,
        # The reference EQL engine reads the event category from event_type.
        "event_type": e.get("event_type", "unknown"),
        "event": {"category": [e.get("event_type", "unknown")], "type": [e.get("subtype", "info")],
                  "action": e.get("event_subtype_full", ""), "sequence": serial},
        # Each copy of the source events is one host's activity, so the source's
        # process lineage (unique_pid) survives as process.entity_id per host.
        "host": {"name": f"WKSTN-{copy % 997:03d}", "id": f"host-{copy % 997}"},
        "process": {"name": e.get("process_name", ""), "pid": e.get("pid", 0),
                    "entity_id": f"{{{e.get('unique_pid', 0)}-{copy}}}"},
        "user": {"name": e.get("user_name", ""), "domain": e.get("user_domain", "")},
    }
    if "process_path" in e:
        doc["process"]["executable"] = e["process_path"]
    if "command_line" in e:
        doc["process"]["command_line"] = e["command_line"]
        doc["process"]["args"] = e["command_line"].split()
    if "parent_process_name" in e:
        doc["process"]["parent"] = {"name": e["parent_process_name"], "pid": e.get("ppid", 0)}
    if "file_path" in e:
        doc["file"] = {"path": e["file_path"], "name": e.get("file_name", "")}
    if "key_path" in e:
        doc["registry"] = {"path": e["key_path"]}
    if "source_address" in e:
        doc["source"] = {"ip": e["source_address"], "port": e.get("source_port", 0)}
        doc["destination"] = {"ip": e.get("destination_address", ""), "port": e.get("destination_port", 0)}
    if "md5" in e:
        doc["process"]["hash"] = {"md5": e["md5"]}
    return doc


limit = a.mb * 1024 * 1024
written = 0
serial = 0
with open(a.out, "w") as out:
    while written < limit:
        chunk = []
        copy = serial // len(source)
        for e in source:
            serial += 1
            chunk.append(json.dumps(ecs(e, serial, serial // 10, copy), separators=(",", ":")))
        text = "\n".join(chunk) + "\n"
        out.write(text)
        written += len(text)
print(f"{a.out}: {written} bytes, {serial} events")
