#!/usr/bin/env python3
"""End-to-end tests of the `vigil query` command: output, pipes, inputs
(files, gzip, zstd, stdin), diagnostics for malformed lines, and the
documented exit codes (0 ok, 2 usage/query error, 3 bad input with --strict).

usage: cli_test.py VIGIL EXAMPLES_DIR
"""
import glob
import gzip
import io
import json
import tarfile
import zipfile
import os
import subprocess
import sys

import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks, lines  # noqa: E402

VIGIL, EXAMPLES = sys.argv[1], sys.argv[2]
SHARED_DATA = sys.argv[3] if len(sys.argv) > 3 else None
SAMPLE = os.path.join(EXAMPLES, "windows-ecs.ndjson")
checks = Checks(VIGIL)
run, check = checks.run, checks.check




# Matching events come out as their raw documents, in input order.
r = run(["query", 'process where process.name : "regsvr32.exe"', SAMPLE])
docs = lines(r.stdout)
check("query exit 0", r.returncode == 0, r.stderr)
check("query finds regsvr32", [d["process"]["pid"] for d in docs] == [4242, 4300], docs)

# --count, --fields, head/tail pipes
r = run(["query", "--count", "any where true", SAMPLE])
check("count", r.stdout.decode().strip() == "13", r.stdout)
r = run(["query", "--fields", "process.name,event.code", 'process where process.parent.name : "cmd.exe"', SAMPLE])
check("fields projection", lines(r.stdout) == [{"process.name": "regsvr32.exe", "event.code": "1"}], r.stdout)
r = run(["query", "--fields", "event.code", "any where true | head 3 | tail 1", SAMPLE])
check("head then tail", lines(r.stdout) == [{"event.code": "13"}], r.stdout)

# Malformed line: skipped and reported with file:line; exit 0, or 3 with --strict.
check("malformed reported", f"{SAMPLE}:10 " in r.stderr.decode(), r.stderr)
r = run(["query", "--strict", "any where true", SAMPLE])
check("strict exit 3", r.returncode == 3, r.returncode)

# Query errors: exit 2 with line, column and caret.
r = run(["query", 'process where process.name == "a" and and', SAMPLE])
err = r.stderr.decode()
check("syntax error exit 2", r.returncode == 2, r.returncode)
check("syntax error location", "<query>:1:39: error:" in err and "^" in err, err)
r = run(["query", "process where true", "/nonexistent.ndjson"])
check("missing input exit 2", r.returncode == 2, r.returncode)
r = run(["query"])
check("usage exit 2", r.returncode == 2, r.returncode)

# stdin and compressed inputs give the same answer as the plain file.
with open(SAMPLE, "rb") as f:
    raw = f.read()
q = ["query", "--count", 'any where process.name : ("*.exe")']
expected = run(q + [SAMPLE]).stdout
check("stdin", run(q + ["-"], stdin=raw).stdout == expected, "")
with tempfile.TemporaryDirectory() as tmp:
    gz = os.path.join(tmp, "sample.gz")
    with gzip.open(gz, "wb") as f:
        f.write(raw)
    check("gzip input", run(q + [gz]).stdout == expected, "")
    zst = os.path.join(tmp, "sample.zst")
    subprocess.run(["zstd", "-q", "-o", zst, SAMPLE], check=True)
    check("zstd input", run(q + [zst]).stdout == expected, "")
    # Several inputs are read in order.
    r = run(["query", "--count", "any where true", SAMPLE, gz])
    check("two inputs", r.stdout.decode().strip() == "26", r.stdout)

# FIFOs (named pipes, process substitution) yield their bytes once: each is
# opened once and read as a stream, whatever it holds, on any thread count.
def through_fifo(args, data, tmp, name):
    fifo = os.path.join(tmp, name)
    os.mkfifo(fifo)

    def write():
        try:
            with open(fifo, "wb") as f:
                f.write(data)
        except BrokenPipeError:  # the reader closed early (a failure the caller sees)
            pass

    writer = threading.Thread(target=write)
    writer.start()
    try:
        r = subprocess.run([VIGIL] + args + [fifo], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired as e:
        r = subprocess.CompletedProcess(e.cmd, -1, b"timed out", b"")
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # a writer still waiting for a reader goes on
    writer.join()
    return r


with tempfile.TemporaryDirectory() as tmp:
    for threads in ("1", "2"):
        r = through_fifo(q + ["--threads", threads], raw, tmp, f"ndjson-{threads}")
        check(f"ndjson through a fifo, {threads} thread(s)", r.stdout == expected, r.stdout + r.stderr)
        r = through_fifo(q + ["--threads", threads], gzip.compress(raw), tmp, f"gzip-{threads}")
        check(f"gzip through a fifo, {threads} thread(s)", r.stdout == expected, r.stdout + r.stderr)
    # Event XML starts with '<': its kind is told from more than the first bytes a pipe returns.
    xml = os.path.join(EXAMPLES, "sysmon-events.xml")
    xml_expected = run(["query", "--count", "any where true", xml]).stdout
    r = through_fifo(["query", "--count", "any where true"], open(xml, "rb").read(), tmp, "xml")
    check("xml through a fifo", r.stdout == xml_expected and int(xml_expected) > 0, r.stdout + r.stderr)
    check("xml on stdin", run(["query", "--count", "any where true", "-"], stdin=open(xml, "rb").read()).stdout
          == xml_expected, "")
    if SHARED_DATA:
        evtx = os.path.join(SHARED_DATA, "evtx-attack-samples/UACME_59_Sysmon.evtx")
        evtx_expected = run(["query", "any where true", evtx]).stdout
        for threads in ("1", "2"):
            r = through_fifo(["query", "--threads", threads, "any where true"], open(evtx, "rb").read(), tmp,
                             f"evtx-{threads}")
            check(f"evtx through a fifo, {threads} thread(s)", r.stdout == evtx_expected and len(lines(r.stdout)) == 7,
                  r.stdout[:300] + r.stderr[:300])
        check("evtx on stdin", run(["query", "any where true", "-"], stdin=open(evtx, "rb").read()).stdout
              == evtx_expected, "")

# --explain shows the compiled plan without reading input.
r = run(["query", "--explain", 'process where process.name : ("a.exe", "*.dll")', SAMPLE])
check("explain", b"in-set[1]" in r.stdout and b"wildcard[1]" in r.stdout, r.stdout)

# Sequences: one line per match with join keys and the events in order.
r = run(["query", "sequence by process.pid with maxspan=1m [process where process.name : \"regsvr32.exe\"] "
                  "[network where true] [library where dll.code_signature.status : \"unsigned\"]", SAMPLE])
seqs = lines(r.stdout)
check("sequence exit 0", r.returncode == 0, r.stderr)
check("sequence match", len(seqs) == 1 and seqs[0]["join_keys"] == [4242]
      and [e["event"]["code"] for e in seqs[0]["events"]] == ["1", "3", "7"], seqs)
r = run(["query", "--count", "sequence with maxspan=5m [registry where registry.path : \"HKLM\\\\SOFTWARE\\\\Microsoft\\\\Netsh\\\\*\"] "
                  "[library where process.name : \"netsh.exe\"]", SAMPLE])
check("netsh helper chain", r.stdout.decode().strip() == "1", r.stdout + r.stderr)
# A missing event: regsvr32 started without ever touching the network within a minute.
r = run(["query", "--fields", "process.pid", "sequence by process.pid with maxspan=1m "
                  "[process where process.name : \"regsvr32.exe\"] ![network where true]", SAMPLE])
check("missing event", lines(r.stdout) == [{"join_keys": [4300], "events": [{"process.pid": 4300}, {"missing": True}]}],
      r.stdout + r.stderr)
# until, and maxspan too short
r = run(["query", "--count", "sequence by process.pid with maxspan=1s [process where process.name : \"regsvr32.exe\"] "
                  "[library where true]", SAMPLE])
check("maxspan too short", r.stdout.decode().strip() == "0", r.stdout)
# Samples: per join key, events in any order.
r = run(["query", "--fields", "event.code", "sample by host.name [library where true] [registry where true]", SAMPLE])
check("sample", lines(r.stdout) == [{"join_keys": ["WKSTN-07"], "events": [{"event.code": "7"}, {"event.code": "13"}]}],
      r.stdout + r.stderr)
# Sequence syntax errors point at the term.
r = run(["query", "sequence [process where true] by process.pid [file where true]", SAMPLE])
check("join key count error", r.returncode == 2 and b"same number of join keys" in r.stderr, r.stderr)

# Archives and directories: every entry / file is read, in order.
with tempfile.TemporaryDirectory() as tmp:
    z = os.path.join(tmp, "logs.zip")
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(SAMPLE, "host1/sysmon.ndjson")
        zf.write(SAMPLE, "host2/sysmon.ndjson")
    r = run(["query", "--count", "any where true", z])
    check("zip archive", r.stdout.decode().strip() == "26", r.stdout + r.stderr)
    check("zip entry named in diagnostics", b"logs.zip:host1/sysmon.ndjson:10" in r.stderr, r.stderr)
    t = os.path.join(tmp, "logs.tar.gz")
    with tarfile.open(t, "w:gz") as tf:
        tf.add(SAMPLE, "a/sample.ndjson")
    r = run(["query", "--count", "any where true", t])
    check("tar.gz archive", r.stdout.decode().strip() == "13", r.stdout + r.stderr)
    r = run(["query", "--count", "any where true", tmp])
    check("directory of archives", r.stdout.decode().strip() == "39", r.stdout + r.stderr)

# Flat Windows exports (OTRF / nxlog): winlog.* and ECS fields are added.
flat = json.dumps({"@timestamp": "2020-06-10T02:50:56.537Z", "SourceName": "Microsoft-Windows-Sysmon", "EventID": 1,
                   "Hostname": "WKS6", "Image": "C:\\Windows\\System32\\rundll32.exe",
                   "CommandLine": "rundll32.exe x.dll,Run", "ProcessId": "77",
                   "ParentImage": "C:\\Windows\\explorer.exe", "User": "CORP\\bob"}) + "\n"
r = run(["query", "--fields", "event.category,process.name,process.args,process.parent.name,user.name,winlog.event_id",
         "process where true", "-"], stdin=flat.encode())
check("flat windows export → ECS", lines(r.stdout) == [{"event.category": ["process"], "process.name": "rundll32.exe",
      "process.args": ["rundll32.exe", "x.dll,Run"], "process.parent.name": "explorer.exe", "user.name": "bob",
      "winlog.event_id": "1"}], r.stdout + r.stderr)

# Real Windows logs: EVTX decoded and mapped to ECS, queried with ECS field names.
if SHARED_DATA:
    smbexec = os.path.join(SHARED_DATA, "more-samples/e/ID11,13-SMBexec service registration.evtx")
    r = run(["query", "--fields", "registry.value,registry.data.strings,process.name",
             r'registry where registry.path : "HKLM\\System\\*\\Services\\*\\ImagePath"', smbexec])
    got = lines(r.stdout)
    check("evtx sysmon 13 → ECS registry", len(got) >= 1 and got[0]["registry.value"] == "ImagePath"
          and got[0]["process.name"] == "services.exe", r.stdout[:500] + r.stderr[:500])
    netsh = os.path.join(SHARED_DATA, "more-samples/a/ID4688-netsh helper DLL.evtx")
    r = run(["query", "--count", 'process where process.name : "netsh.exe" and process.args : "add"', netsh])
    check("evtx 4688 → ECS process", r.returncode == 0 and int(r.stdout.decode().strip() or 0) >= 1,
          r.stdout + r.stderr)
    # OTRF datasets: no record lost (every JSON line of every entry becomes an event).
    for z in sorted(glob.glob(os.path.join(SHARED_DATA, "otrf-security-datasets/windows/**/*.zip"), recursive=True))[:4]:
        with zipfile.ZipFile(z) as zf:
            expected = sum(sum(1 for l in io.TextIOWrapper(zf.open(n), errors="replace") if l.strip())
                           for n in zf.namelist() if not n.endswith("/"))
        r = run(["query", "--count", "any where true", z])
        check(f"otrf {os.path.basename(z)}", r.stdout.decode().strip() == str(expected),
              f"{r.stdout.decode().strip()} != {expected}: {r.stderr[:300]}")

# Windows event XML (wevtutil /f:xml, no root element): the same documents as the EVTX path.
XML = os.path.join(EXAMPLES, "sysmon-events.xml")
r = run(["query", "--count", "any where true", XML])
xml_count = sum(1 for _ in open(XML, encoding="utf-8").read().split("<Event xmlns")[1:])
check("xml events", r.returncode == 0 and r.stdout.decode().strip() == str(xml_count), r.stdout + r.stderr)
r = run(["query", "--fields", "process.name,process.parent.name,event.category,user.name",
         'process where event.code == "1"', XML])
got = lines(r.stdout)
check("xml sysmon 1 → ECS", len(got) == 1 and got[0]["event.category"] == ["process"] and got[0]["process.name"],
      r.stdout + r.stderr)
with tempfile.TemporaryDirectory() as tmp:
    # PowerShell's Out-File writes UTF-16LE with a BOM.
    utf16 = os.path.join(tmp, "export.xml")
    with open(utf16, "wb") as f:
        f.write(b"\xff\xfe" + open(XML, encoding="utf-8").read().encode("utf-16-le"))
    r = run(["query", "--count", "any where true", utf16])
    check("xml utf-16", r.stdout.decode().strip() == str(xml_count), r.stdout + r.stderr)
    # A damaged event is reported with its number; the others are still read.
    text = open(XML, encoding="utf-8").read()
    second = text.index("<Event xmlns", 10)
    damaged = os.path.join(tmp, "damaged.xml")
    with open(damaged, "w", encoding="utf-8") as f:
        f.write(text[:second] + "<Event xmlns='x'><System><EventID>1</Event>" + text[second:])
    r = run(["query", "--count", "any where true", damaged])
    check("xml damaged event skipped", r.stdout.decode().strip() == str(xml_count) and b"damaged.xml:2 " in r.stderr,
          r.stdout + r.stderr)
    # vigil convert: one document per record, event.code set, written atomically.
    out = os.path.join(tmp, "out.ndjson")
    r = run(["convert", XML, "-o", out])
    docs = [json.loads(l) for l in open(out)]
    check("convert xml", r.returncode == 0 and len(docs) == xml_count and all(d["event"]["code"] for d in docs),
          r.stderr)
    r = run(["convert", SAMPLE, "-o", os.path.join(tmp, "no-such-dir", "x.ndjson")])
    check("convert unwritable output exit 2", r.returncode == 2, r.returncode)
    r = run(["convert", "--strict", SAMPLE, "-o", os.path.join(tmp, "strict.ndjson")])
    check("convert --strict leaves no file", r.returncode == 3 and not os.path.exists(os.path.join(tmp, "strict.ndjson")),
          r.returncode)

if SHARED_DATA:
    # An indented JSON array (eqllib's Sysmon captures) converts to one line per
    # event: the source text loses its whitespace between tokens, not its content.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "arts.ndjson")
        r = run(["convert", os.path.join(SHARED_DATA, "more-samples/b/sysmon-atomic-red-team.json.gz"), "-o", out])
        rows = open(out, encoding="utf-8").read().splitlines()
        docs = [json.loads(l) for l in rows]
        check("convert of an indented JSON array: one valid line per event", r.returncode == 0 and len(docs) == 19882 and
              all(d["event"]["code"] for d in docs) and docs[0]["SourceImage"] == "C:\\WINDOWS\\Explorer.EXE",
              (len(docs), r.stderr[-300:]))
    # EVTX chunks decode in parallel; the output never depends on the thread count.
    big = os.path.join(SHARED_DATA, "evtx-edge-cases/security.evtx")
    one = run(["query", "--threads", "1", "any where true", big])
    many = run(["query", "--threads", "4", "any where true", big])
    check("evtx output independent of threads", one.stdout == many.stdout and len(one.stdout) > 100000,
          len(one.stdout))

checks.finish()
