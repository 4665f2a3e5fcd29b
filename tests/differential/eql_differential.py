#!/usr/bin/env python3
"""Differential test: generated EQL event queries run through vigil and the
reference implementation (../shared/eql/oracle, endgame EQL with
Elasticsearch syntax) over the conformance data; the matching event ids must
be identical, in the same order.

The generator only produces queries on which the two dialects agree by
design (see docs/eql.md, "Differences from the reference implementation"):
  - negations (not, !=, not in) only wrap predicates on fields every event of
    the queried category has: on a missing field Elasticsearch (and vigil)
    treat `not field : "x"` as true (Lucene must_not) while the reference
    engine propagates null;
  - string functions are generated in their `~` form only: the reference
    engine's startsWith/endsWith/stringContains ignore case, Elasticsearch's
    (and vigil's) plain forms do not;
  - between() is only generated with delimiters present in the value
    (Elasticsearch returns "" when one is missing, the reference null).

usage: eql_differential.py VIGIL SHARED_EQL_DIR [--count N] [--seed S]
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile

STRING_FUNCS = ["startsWith", "endsWith", "stringContains"]


def load_events(path):
    with open(path) as f:
        return json.load(f)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Generator:
    def __init__(self, events, rng):
        self.rng = rng
        self.by_category = {}
        for e in events:
            self.by_category.setdefault(e["event_type"], []).append(e)
        self.categories = sorted(self.by_category)

    def fields(self, events, kind):
        names = set()
        for e in events:
            for k, v in e.items():
                if k.startswith("@"):  # the reference's grammar has no @ in names
                    continue
                if kind == "str" and isinstance(v, str):
                    names.add(k)
                if kind == "int" and isinstance(v, int) and not isinstance(v, bool) and k != "timestamp":
                    names.add(k)
        return sorted(names)

    def always_present(self, events):
        common = None
        for e in events:
            keys = {k for k, v in e.items() if v is not None and not isinstance(v, (list, dict))}
            common = keys if common is None else common & keys
        return common or set()

    def sample_value(self, events, field):
        vals = [e[field] for e in events if field in e and e[field] is not None and not isinstance(e[field], (list, dict))]
        return self.rng.choice(vals) if vals else None

    def string_predicate(self, events, field):
        r = self.rng
        v = self.sample_value(events, field)
        if not isinstance(v, str) or v == "":
            return None
        choice = r.randrange(9)
        if choice == 0:
            return f"{field} == {quote(v)}"
        if choice == 1:
            return f"{field} : {quote(v.upper() if r.random() < 0.5 else v)}"
        if choice == 2:
            cut = r.randrange(1, len(v) + 1)
            return f"{field} : {quote(v[:cut] + '*')}"
        if choice == 3:
            cut = r.randrange(0, len(v))
            return f"{field} : {quote('*' + v[cut:])}"
        if choice == 4:
            a = r.randrange(0, len(v))
            b = r.randrange(a, len(v) + 1)
            return f"{field} : {quote('*' + v[a:b] + '*')}"
        if choice == 5:
            others = [self.sample_value(events, field) for _ in range(3)]
            items = ", ".join(quote(o) for o in {v, *[o for o in others if isinstance(o, str)]})
            return f"{field} in ({items})"
        if choice == 6:
            f = r.choice(STRING_FUNCS)
            a = r.randrange(0, len(v))
            part = v[:a + 1] if f == "startsWith" else v[a:] if f == "endsWith" else v[a:a + 3]
            if r.random() < 0.3:
                part = part.swapcase()
            # Always the ~ form: the reference engine's string functions ignore case.
            return f"{f}~({field}, {quote(part)})"
        if choice == 7:
            op = r.choice(["<", "<=", ">", ">="])
            return f"length({field}) {op} {len(v) + r.randrange(-2, 3)}"
        n = r.randrange(1, max(2, len(v)))
        # ':' not '==': the reference engine compares function results ignoring case.
        return f"substring({field}, 0, {n}) : {quote(v[:n])}"

    def int_predicate(self, events, field):
        r = self.rng
        v = self.sample_value(events, field)
        if not isinstance(v, int) or isinstance(v, bool):
            return None
        choice = r.randrange(5)
        if choice == 0:
            return f"{field} {r.choice(['==', '<', '<=', '>', '>='])} {v}"
        if choice == 1:
            vals = {v} | {self.sample_value(events, field) for _ in range(3)}
            return f"{field} in ({', '.join(str(x) for x in vals if isinstance(x, int))})"
        if choice == 2:
            k = r.randrange(1, 7)
            return f"{field} % {k} == {v % k}"
        if choice == 3:
            return f"{field} + {r.randrange(1, 9)} > {v}"
        return f"add({field}, 1) {r.choice(['==', '>'])} {v + 1}"

    def predicate(self, events, negatable):
        for _ in range(20):
            if self.rng.random() < 0.6:
                fields = self.fields(events, "str")
                if not fields:
                    continue
                p = self.string_predicate(events, self.rng.choice(fields))
            else:
                fields = self.fields(events, "int")
                if not fields:
                    continue
                p = self.int_predicate(events, self.rng.choice(fields))
            if p is None:
                continue
            field = p.split("(")[-1].split(",")[0].split(" ")[0] if "(" in p.split(" ")[0] else p.split(" ")[0]
            if negatable and field not in self.always_present(events):
                continue
            return p
        return "true"

    def condition(self, events, depth=0):
        r = self.rng
        if depth >= 2 or r.random() < 0.45:
            if r.random() < 0.2:
                return "not " + "(" + self.predicate(events, True) + ")"
            return self.predicate(events, False)
        op = r.choice(["and", "or"])
        return f"({self.condition(events, depth + 1)} {op} {self.condition(events, depth + 1)})"

    def query(self):
        cat = self.rng.choice(self.categories + ["any"])
        events = self.by_category[cat] if cat != "any" else [e for es in self.by_category.values() for e in es]
        return f"{cat} where {self.condition(events)}"

    def sequence_query(self):
        """sequence [by key] [with maxspan=..] [term] [term] (...) [until [term]]"""
        r = self.rng
        terms = []
        for _ in range(r.choice([2, 2, 3])):
            cat = r.choice(self.categories + ["any"])
            events = self.by_category[cat] if cat != "any" else [e for es in self.by_category.values() for e in es]
            cond = "true" if r.random() < 0.3 else self.predicate(events, False)
            terms.append(f"[{cat} where {cond}]")
        head = "sequence"
        if r.random() < 0.7:
            head += " by " + r.choice(["unique_pid", "user_name", "pid", "process_name", "user_name, unique_pid"])
        if r.random() < 0.4:
            head += " with maxspan=" + r.choice(["1s", "30s", "5m", "1h", "1d"])
        query = head + " " + " ".join(terms)
        if r.random() < 0.2:
            cat = r.choice(self.categories)
            query += f" until [{cat} where {self.predicate(self.by_category[cat], False)}]"
        return query


def run_vigil(vigil, data, query):
    out = subprocess.run([vigil, "query", "--event-category-field", "event_type", "--fields", "serial_event_id",
                          "--tiebreaker", "serial_event_id", query, data], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip()
    ids = []
    for line in out.stdout.splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        # Sequences print one line per match with its events; flatten them as the reference does.
        for e in doc.get("events", [doc]):
            ids.append(e["serial_event_id"])
    return ids, ""


def run_oracle(oracle, data, query):
    out = subprocess.run(["/usr/bin/python3", oracle, "--es", "--ids", "serial_event_id", query, data],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "error"
    return [int(l) for l in out.stdout.split()], ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("shared_eql")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--sequences", action="store_true", help="generate sequence queries instead of event queries")
    a = ap.parse_args()
    source = os.path.join(a.shared_eql, "endgame", "test_data.json")
    oracle = os.path.join(a.shared_eql, "oracle", "oracle.py")
    events = load_events(source)
    # The reference engine streams in file order; give both engines the events
    # in time order (timestamp, then serial_event_id as the tiebreaker), as
    # Elasticsearch orders them.
    events.sort(key=lambda e: (e["timestamp"], e["serial_event_id"]))
    for e in events:  # the data's FILETIME as @timestamp, to the 100 ns
        ticks = e["timestamp"] - 116444736000000000
        secs, rem = divmod(ticks, 10_000_000)
        e["@timestamp"] = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S") + f".{rem:07d}Z"
    tmp = tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False)
    tmp.write("\n".join(json.dumps(e) for e in events) + "\n")
    tmp.close()
    data = tmp.name
    gen = Generator(events, random.Random(a.seed))
    queries = [gen.sequence_query() if a.sequences else gen.query() for _ in range(a.count)]

    def check(q):
        mine, err_mine = run_vigil(a.vigil, data, q)
        ref, err_ref = run_oracle(oracle, data, q)
        return q, mine, err_mine, ref, err_ref

    passed = failed = 0
    nonempty = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for q, mine, err_mine, ref, err_ref in pool.map(check, queries):
            if mine is not None and mine == ref:
                passed += 1
                nonempty += bool(mine)
            else:
                failed += 1
                print(f"DIFF {q}\n  vigil:     {mine if mine is not None else err_mine}\n"
                      f"  reference: {ref if ref is not None else err_ref}")
    os.unlink(data)
    kind = "sequence" if a.sequences else "event"
    print(f"differential: {len(queries)} generated {kind} queries, {nonempty} with matches")
    print(f"{passed} passed, {failed} failed")
    # A generator that only produces empty results would prove nothing.
    if nonempty < len(queries) // (8 if a.sequences else 4):
        print(f"too few queries with matches ({nonempty}); the generator is broken")
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
