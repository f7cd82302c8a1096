#!/usr/bin/env python3
"""Instructions of a callgrind run outside tokio's parking: the total minus the inclusive cost of
the worker threads' and `block_on`'s park (epoll_wait, the timer wheel, condvar waits).

How often a thread finds no work and parks depends on timing (under valgrind, on how fast the
native peer answers), so parking adds run-to-run noise of a few thousand instructions per call
to the seq figures. The busy count leaves it out; callgrind.sh prints both.

usage: busy.py FILE
"""
import re
import subprocess
import sys

PARKS = (
    "tokio::runtime::scheduler::multi_thread::worker::Context::park_internal [",
    "tokio::runtime::park::CachedParkThread::park [",
)
NUM = re.compile(r"^\s*([\d,]+)")


def busy(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--auto=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    total = idle = 0
    for line in out.splitlines():
        m = NUM.match(line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in line:
            total = n
        elif any(p in line for p in PARKS):
            idle += n
    return total - idle


if __name__ == "__main__":
    print(busy(sys.argv[1]))
