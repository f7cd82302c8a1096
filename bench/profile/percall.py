#!/usr/bin/env python3
"""Per-call cost by function from two callgrind runs that differ only in the number of calls.

usage: percall.py SMALL.out LARGE.out CALLS_DIFF [--inclusive] [--grep TEXT] [--top N]

Runs callgrind_annotate on both files and prints (Ir(LARGE) - Ir(SMALL)) / CALLS_DIFF per
function, largest first: self cost by default, inclusive cost with --inclusive.
"""
import argparse
import re
import subprocess

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([\d.]+%\)\s+)?(.*?)(?:\s+\[[^\]]*\])?$")


def costs(path, inclusive):
    args = ["callgrind_annotate", "--auto=no", "--threshold=100", f"--inclusive={'yes' if inclusive else 'no'}", path]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    table = {}
    started = False
    for line in out.splitlines():
        if "file:function" in line:
            started = True
            continue
        if not started or line.startswith("-") or not line.strip():
            continue
        m = LINE.match(line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        name = m.group(2)
        if "PROGRAM TOTALS" in name:
            continue
        table[name] = table.get(name, 0) + n
    return table


def short(name):
    file, _, func = name.partition(":")
    file = re.sub(r".*/registry/src/[^/]+/", "", file)
    file = re.sub(r".*/rustc/[0-9a-f]+/library/", "std/", file)
    file = file.replace("/work/main/", "")
    return f"{file}: {func}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("small")
    ap.add_argument("large")
    ap.add_argument("diff", type=float)
    ap.add_argument("--inclusive", action="store_true")
    ap.add_argument("--grep", default="")
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()
    s = costs(a.small, a.inclusive)
    l = costs(a.large, a.inclusive)
    rows = []
    for k in set(s) | set(l):
        d = (l.get(k, 0) - s.get(k, 0)) / a.diff
        if a.grep and a.grep not in k:
            continue
        rows.append((d, k))
    rows.sort(reverse=True)
    for d, k in rows[: a.top]:
        print(f"{d:10.0f}  {short(k)[:220]}")


if __name__ == "__main__":
    main()
