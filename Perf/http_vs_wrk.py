#!/usr/bin/env python3
"""make perf: stampede bench against wrk, same box, same run.

nginx (1 worker, pinned to CPU 0, access log off) serves a small fixed response over plain HTTP
and TLS. wrk and `stampede bench` take turns, each pinned to CPU 1 with 50 connections for
ROUND_SECONDS, for ROUNDS rounds. For each we take req/s and the client's CPU seconds (user+sys,
from wait4's rusage) per 100k requests; the table shows medians over rounds and the ratios
stampede/wrk. Then memory: stampede's peak RSS with 10,000 connections, and after 1M and 10M
requests (a leak would show as growth between the two).

With --summary FILE, appends the rows as JSON lines (Perf/summary.py reads them).

Usage: Perf/http_vs_wrk.py STAMPEDE_BINARY [--rounds N] [--seconds S] [--quick] [--summary FILE]
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import run_measured, start_nginx, stop_nginx  # noqa: E402


def wrk(url, seconds):
    out, cpu, _ = run_measured(["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s", url], seconds + 30)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    return rps, cpu, requests


def stampede(binary, url, seconds):
    out, cpu, _ = run_measured(["taskset", "-c", "1", binary, "bench", url, "--connections", "50",
                                "--duration", str(seconds), "--insecure", "--json"], seconds + 30)
    report = json.loads(out)
    return report["rps"], cpu, report["responses"]


def median_row(samples):
    rps = statistics.median(s[0] for s in samples)
    cpu_per_100k = statistics.median(s[1] / s[2] * 100_000 for s in samples)
    return rps, cpu_per_100k


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the 10M-request memory run")
    ap.add_argument("--summary", help="append the rows as JSON lines to this file")
    args = ap.parse_args()
    for tool in ("nginx", "wrk", "taskset", "openssl"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is missing: run make setup")

    work = tempfile.mkdtemp(prefix="stampede-perf-")
    port, tls_port = 18190, 18543
    nginx = start_nginx(work, port, tls_port)
    try:
        results = {}
        for name, url in (("HTTP", f"http://127.0.0.1:{port}/"), ("TLS", f"https://127.0.0.1:{tls_port}/")):
            w, s = [], []
            for r in range(args.rounds):
                w.append(wrk(url, args.seconds))
                s.append(stampede(args.binary, url, args.seconds))
                print(f"  {name} round {r + 1}: wrk {w[-1][0]:.0f} req/s, stampede {s[-1][0]:.0f} req/s", file=sys.stderr)
            results[name] = (median_row(w), median_row(s))

        print(f"\nstampede vs wrk, {datetime.date.today()}, nginx 1 worker on CPU 0, clients on CPU 1, "
              f"50 connections, {args.rounds} rounds x {args.seconds} s, medians")
        print(f"{'':6} {'wrk req/s':>12} {'stampede req/s':>15} {'ratio':>7}   "
              f"{'wrk CPU-s/100k':>15} {'stampede CPU-s/100k':>20} {'ratio':>7}")
        for name, ((w_rps, w_cpu), (s_rps, s_cpu)) in results.items():
            print(f"{name:6} {w_rps:12.0f} {s_rps:15.0f} {s_rps / w_rps:7.2f}   {w_cpu:15.3f} {s_cpu:20.3f} {s_cpu / w_cpu:7.2f}")
        if args.summary:
            goals = {"HTTP": (">= 1.0x", None), "TLS": (">= 1.0x", "<= 0.85x")}
            with open(args.summary, "a") as f:
                for name, ((w_rps, w_cpu), (s_rps, s_cpu)) in results.items():
                    f.write(json.dumps({"row": f"{name} keep-alive, 50 connections: req/s", "value": s_rps, "unit": "req/s",
                                        "peer": w_rps, "peer_name": "wrk", "higher_is_better": True, "goal": goals[name][0]}) + "\n")
                    row = {"row": f"{name} keep-alive: CPU per 100k requests", "value": s_cpu, "unit": "CPU-s",
                           "peer": w_cpu, "peer_name": "wrk"}
                    if goals[name][1]:
                        row["goal"] = goals[name][1]
                    f.write(json.dumps(row) + "\n")

        url = f"http://127.0.0.1:{port}/"
        print("\nstampede memory (peak RSS):")
        _, _, rss = run_measured([args.binary, "bench", url, "--connections", "10000", "--duration", "5", "--json"], 60)
        print(f"  10,000 connections, 5 s: {rss / 1024:.1f} MiB")
        counts = [1_000_000] if args.quick else [1_000_000, 10_000_000]
        for n in counts:
            _, _, rss = run_measured(["taskset", "-c", "1", args.binary, "bench", url, "--connections", "50",
                                      "--requests", str(n), "--json"], 600)
            print(f"  {n:,} requests: {rss / 1024:.1f} MiB")
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
