"""Shared helpers of the end-to-end benchmark scripts."""
import os
import re
import subprocess
import sys
import time


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (seconds, peak_rss_kb, stdout, stderr)."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "RSS_KB=%M"] + cmd, capture_output=True, text=True)
    secs = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    rss = int(re.search(r"RSS_KB=(\d+)", out.stderr).group(1))
    return secs, rss, out.stdout, re.sub(r"RSS_KB=\d+\n?", "", out.stderr)


def warm(path):
    """Drops the file from the page cache, then reads it once, so every contender reads it from the page
    cache in one defined state: that of a file read from disk (how the file came into the cache matters:
    see BENCHMARKS.md, "page cache"). Returns its line count."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    lines = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 24)
            if not block:
                return lines
            lines += block.count(b"\n")
