#!/usr/bin/env python3
"""Per-call cost by function, before and after a change: two pairs of callgrind runs (as
callgrind.sh writes them) compared function by function.

usage: diff.py BEFORE_DIR AFTER_DIR PEER SIDE [--test seq|stream] [--n1 500 --n2 2500]
               [--inclusive] [--top 30]

Prints the per-call (per-message for stream) cost in each, and the difference, largest
changes first. Totals are printed first.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from percall import costs, short  # noqa: E402

PCT = re.compile(r"\(\s*[\d.]+%\)\s*")


def total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return 0


def per_call(d, peer, side, test, n1, n2, inclusive):
    a = os.path.join(d, f"{peer}-{side}-{test}-{n1}.out")
    b = os.path.join(d, f"{peer}-{side}-{test}-{n2}.out")
    unit = (n2 - n1) * (1000 if test == "stream" else 1)
    sa, sb = costs(a, inclusive), costs(b, inclusive)
    out = {}
    for k in set(sa) | set(sb):
        name = PCT.sub("", k)
        out[name] = out.get(name, 0) + (sb.get(k, 0) - sa.get(k, 0)) / unit
    return out, (total(b) - total(a)) / unit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("peer")
    ap.add_argument("side")
    ap.add_argument("--test", default="seq")
    ap.add_argument("--n1", type=int)
    ap.add_argument("--n2", type=int)
    ap.add_argument("--inclusive", action="store_true")
    ap.add_argument("--top", type=int, default=30)
    a = ap.parse_args()
    n1 = a.n1 or (2 if a.test == "stream" else 500)
    n2 = a.n2 or (10 if a.test == "stream" else 2500)
    x, tx = per_call(a.before, a.peer, a.side, a.test, n1, n2, a.inclusive)
    y, ty = per_call(a.after, a.peer, a.side, a.test, n1, n2, a.inclusive)
    print(f"total per {'message' if a.test == 'stream' else 'call'}: {tx:.0f} -> {ty:.0f} ({ty - tx:+.0f})")
    rows = sorted(((y.get(k, 0) - x.get(k, 0)), k) for k in set(x) | set(y))
    rows = [r for r in rows if abs(r[0]) >= 1]
    half = a.top // 2
    for d, k in rows[:half] + [(None, None)] + rows[-half:][::-1] if len(rows) > a.top else rows:
        if d is None:
            print("     ...")
            continue
        print(f"{x.get(k, 0):9.0f} {y.get(k, 0):9.0f} {d:+8.0f}  {short(k)[:160]}")


if __name__ == "__main__":
    main()
