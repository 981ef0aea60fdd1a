#!/usr/bin/env python3
"""Two stampede binaries (before and after a change) on the same nginx, in the same run.

For a change to the engine: both binaries, and wrk as the common yardstick, take turns (rounds
alternate) against one nginx (1 worker on CPU 0; each client on CPU 1, 50 connections). Per tool:
req/s and CPU µs per request (user+sys from wait4), medians over rounds. Then the figures noise
does not move, for a fixed count of requests:
  - user-space instructions per request (valgrind --tool=callgrind on a stripped copy: valgrind
    3.19 cannot read this toolchain's DWARF 5), as the difference between two request counts so
    start-up cancels out;
  - system calls per request by kind (perf stat on the syscall tracepoints).
Plain HTTP and TLS keep-alive.

Usage: Perf/before_after.py BEFORE_BINARY AFTER_BINARY [--rounds N] [--seconds S]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_vs_wrk import wrk  # noqa: E402
from peers import run_measured, start_nginx, stop_nginx  # noqa: E402

SYSCALLS = ["read", "write", "epoll_wait", "epoll_ctl"]


def stampede_round(binary, url, seconds):
    out, cpu, _ = run_measured(["taskset", "-c", "1", binary, "bench", url, "--connections", "50", "--threads", "1",
                                "--duration", str(seconds), "--insecure", "--json"], seconds + 30)
    responses = int(re.search(r'"responses"\s*:\s*(\d+)', out).group(1))
    rps = float(re.search(r'"rps"\s*:\s*([\d.]+)', out).group(1))
    return rps, cpu / responses * 1e6


def wrk_round(url, seconds):
    rps, cpu, requests = wrk(url, seconds)
    return rps, cpu / requests * 1e6


def fixed_run(binary, url, requests):
    return [binary, "bench", url, "--connections", "50", "--threads", "1", "--requests", str(requests), "--insecure", "--json"]


def instructions(binary, url, requests):
    """User-space instructions callgrind counts for a run of `requests` requests."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "cg.out")
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + fixed_run(binary, url, requests),
                             capture_output=True, text=True, timeout=900)
        total = re.search(r"Collected\s*:\s*(\d+)", run.stderr)
        if not total:
            sys.exit(f"callgrind gave no total:\n{run.stderr[-2000:]}")
        return int(total.group(1))


def syscalls(binary, url, requests):
    events = ",".join(f"syscalls:sys_enter_{s}" for s in SYSCALLS)
    run = subprocess.run(["perf", "stat", "-x", ",", "-e", events] + fixed_run(binary, url, requests),
                         capture_output=True, text=True, timeout=300)
    counts = {}
    for line in run.stderr.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2].startswith("syscalls:sys_enter_"):
            counts[parts[2].removeprefix("syscalls:sys_enter_")] = int(parts[0]) if parts[0].isdigit() else None
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stampede-before-after-")
    stripped = {}
    for name, path in (("before", args.before), ("after", args.after)):
        stripped[name] = os.path.join(work, f"stampede-{name}")
        shutil.copy(path, stripped[name])
        subprocess.run(["strip", stripped[name]], check=True)
    nginx = start_nginx(work, 18931, tls_port=18932, key="ec")
    try:
        for scheme, url in (("http", "http://127.0.0.1:18931/"), ("tls", "https://127.0.0.1:18932/")):
            samples = {"before": [], "after": [], "wrk": []}
            for r in range(args.rounds):
                order = ["before", "after", "wrk"] if r % 2 == 0 else ["wrk", "after", "before"]
                for tool in order:
                    if tool == "wrk":
                        samples[tool].append(wrk_round(url, args.seconds))
                    else:
                        samples[tool].append(stampede_round(stripped[tool], url, args.seconds))
            print(f"\n## {scheme}: {args.rounds} alternating rounds of {args.seconds} s, 50 connections")
            print("| tool | req/s (median) | CPU µs/request (median) | spread | vs wrk |")
            print("|---|---|---|---|---|")
            wrk_cpu = statistics.median(s[1] for s in samples["wrk"])
            for tool in ("before", "after", "wrk"):
                cpu = [s[1] for s in samples[tool]]
                med = statistics.median(cpu)
                print(f"| {tool} | {statistics.median(s[0] for s in samples[tool]):,.0f} | {med:.2f} | "
                      f"{min(cpu):.2f}-{max(cpu):.2f} | {med / wrk_cpu:.3f} |")
            short, long = 20_000, 60_000
            for tool in ("before", "after"):
                s_short = syscalls(stripped[tool], url, short)
                s_long = syscalls(stripped[tool], url, long)
                per = {k: (s_long[k] - s_short[k]) / (long - short) for k in SYSCALLS
                       if s_long.get(k) is not None and s_short.get(k) is not None}
                line = ", ".join(f"{k} {v:.3f}" for k, v in per.items())
                print(f"- {tool}: system calls per request: {line}")
                if not args.no_callgrind:
                    per_request = (instructions(stripped[tool], url, long) - instructions(stripped[tool], url, short)) / (long - short)
                    print(f"- {tool}: user-space instructions per request (callgrind): {per_request:,.0f}")
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
