#!/usr/bin/env python3
"""Calls per call: how often FUNC is entered per measured call, from two callgrind runs.

usage: calls.py SMALL.out LARGE.out CALLS_DIFF FUNC_SUBSTRING...
"""
import re
import subprocess
import sys

EDGE = re.compile(r"^\s*[\d,]+\s+\(\s*[\d.]+%\)\s+<\s.*\(([\d,]+)x\)")
NODE = re.compile(r"^\s*[\d,]+\s+\(\s*[\d.]+%\)\s+\*\s+(.*)$")


def counts(path, wanted):
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--tree=caller", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    acc = 0
    res = {w: 0 for w in wanted}
    for line in out.splitlines():
        m = EDGE.match(line)
        if m:
            acc += int(m.group(1).replace(",", ""))
            continue
        m = NODE.match(line)
        if m:
            for w in wanted:
                if w in m.group(1):
                    res[w] += acc
        acc = 0
    return res


small, large, diff, *wanted = sys.argv[1:]
a, b = counts(small, wanted), counts(large, wanted)
for w in wanted:
    print(f"{(b[w] - a[w]) / float(diff):8.1f}  {w}")
