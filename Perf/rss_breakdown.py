#!/usr/bin/env python3
"""Where a running `stampede bench` keeps its memory: resident bytes by mapping, read from
/proc/PID/smaps halfway through a run against nginx (50 connections by default). Shared
libraries count where their pages are resident (their code and data as loaded); [heap] and
anonymous mappings are the allocator's and the threads' stacks.

Usage: Perf/rss_breakdown.py STAMPEDE_BINARY [--connections N] [--seconds S] [-- EXTRA BENCH FLAGS]
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import raise_nofile, start_nginx, stop_nginx  # noqa: E402


def breakdown(pid):
    by_mapping = collections.Counter()
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:
                path = parts[5] if len(parts) >= 6 else "[anonymous]"
                name = os.path.basename(path) if path.startswith("/") else path
            elif parts[0] == "Rss:":
                by_mapping[name] += int(parts[1])
    return by_mapping


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stampede-rss-")
    nginx = start_nginx(work, 18990)
    try:
        proc = subprocess.Popen([args.binary, "bench", "http://127.0.0.1:18990/", "--connections", str(args.connections),
                                 "--threads", "1", "--duration", str(args.seconds), "--json"] + args.extra,
                                stdout=subprocess.DEVNULL, preexec_fn=raise_nofile)
        time.sleep(args.seconds / 2)
        rss = breakdown(proc.pid)
        with open(f"/proc/{proc.pid}/status") as f:
            status = {k: v.strip() for k, v in (line.split(":", 1) for line in f)}
        proc.wait()
        total = sum(rss.values())
        print(f"RSS {total / 1024:.1f} MiB at {args.seconds / 2:.0f} s ({status['VmRSS']}; anonymous {status['RssAnon']}, "
              f"file-backed {status['RssFile']}), threads {status['Threads']}")
        for mapping, kib in rss.most_common(15):
            print(f"  {kib / 1024:7.2f} MiB  {mapping}")
    finally:
        stop_nginx(nginx)


if __name__ == "__main__":
    main()
