"""What the end-to-end CLI tests share: running vigil, recording checks,
reading NDJSON output, and the final report (exit status 1 on any failure)."""
import json
import subprocess
import sys


class Checks:
    def __init__(self, vigil):
        self.vigil = vigil
        self.failures = []
        self.passed = 0

    def run(self, args, stdin=None):
        return subprocess.run([self.vigil] + args, input=stdin, capture_output=True)

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failures.append(f"{name}: {str(detail)[:600]}")

    def finish(self):
        for f in self.failures:
            print("FAIL", f)
        print(f"{self.passed} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def lines(out):
    """The JSON documents of NDJSON output (bytes)."""
    return [json.loads(l) for l in out.decode().splitlines() if l.strip()]
