#!/usr/bin/env python3
"""The AN1229 seed rule (proxy-execution binary connecting to an internal
host or unusual port) with and without a baseline, on the real recordings:
the 121 OTRF datasets (mostly background activity of lab domains) and the
attack samples. With a baseline learned from the OTRF data the rule is far
quieter there, and the attack recordings still alert. The numbers are in
docs/baselines.md.

usage: baseline_otrf_test.py VIGIL REPO_DIR SHARED_DIR
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Checks, lines  # noqa: E402

VIGIL, REPO, SHARED = sys.argv[1:4]
checks = Checks(VIGIL)
run, check = checks.run, checks.check

RULE = os.path.join(REPO, "rules", "windows", "command_and_control_proxy_execution_network.toml")
OTRF = os.path.join(SHARED, "data", "otrf-security-datasets")
ATTACKS = [os.path.join(SHARED, "data", "evtx-attack-samples"), os.path.join(SHARED, "data", "more-samples")]


def alerts(args):
    r = run(["hunt", "-q", "--no-schedule", "--rules", RULE] + args)
    return [a for a in lines(r.stdout) if "kibana.alert.building_block_type" not in a]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "otrf.db")
        learned = run(["baseline", "learn", "-q", "--rules", RULE, "-b", db, OTRF])
        check("learn from the OTRF datasets", learned.returncode == 0, learned.stderr[-500:])
        without = alerts([OTRF])
        tuned = alerts(["--baseline", db, OTRF])
        print(f"OTRF: {len(without)} alert(s) without a baseline, {len(tuned)} with one")
        check("the rule alerts on the OTRF background without a baseline", len(without) >= 3, len(without))
        check("far fewer with the learned baseline", len(tuned) * 4 <= len(without), (len(tuned), len(without)))
        attack_plain = alerts(ATTACKS)
        attack_tuned = alerts(["--baseline", db] + ATTACKS)
        print(f"attack recordings: {len(attack_plain)} alert(s) without a baseline, {len(attack_tuned)} with the OTRF one")
        check("the attack recordings still alert with the baseline",
              len(attack_tuned) == len(attack_plain) and len(attack_plain) >= 3, (len(attack_tuned), len(attack_plain)))
    checks.finish()


if __name__ == "__main__":
    main()
