#!/usr/bin/env python3
"""make perf: many connections per driver, plain and TLS, against wrk holding the same count.

nginx (1 worker, ECDSA certificate so 15,000 handshakes take seconds, not a minute) serves a small
response. For plain HTTP and for TLS:
  - stampede holds CONNECTIONS keep-alive connections at 1 request/s each (tsunami at CONNECTIONS
    req/s) for SECONDS: requests, responses and errors (exact counts: rate x duration, none), the
    connect phase (how long, connect time percentiles), the first second's responses, p99;
  - memory per connection: peak RSS (wait4) with CONNECTIONS connections minus peak RSS with 1,
    over CONNECTIONS; the same for wrk (-t1) holding CONNECTIONS connections for the same time.
Goals: <= 8 KiB per plain connection, <= 40 KiB per TLS connection; 0 errors.

Usage: Perf/connections.py STAMPEDE_BINARY [--connections N] [--seconds S] [--summary FILE]
"""
import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import run_measured, start_nginx, stop_nginx  # noqa: E402

def stampede(binary, url, connections, seconds):
    out, _, rss = run_measured([binary, "bench", url, "--mode", "tsunami", "--rate", str(connections), "--connections", str(connections),
                        "--duration", str(seconds), "--insecure", "--json", "--hlog", "/dev/null"], seconds + 120)
    return json.loads(out), rss


def wrk(url, connections, seconds):
    _, _, rss = run_measured(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url], seconds + 120)
    return rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--connections", type=int, default=15_000)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--summary", help="append the rows as JSON lines to this file")
    args = ap.parse_args()
    n, seconds = args.connections, args.seconds
    work = tempfile.mkdtemp(prefix="stampede-conns-")
    port, tls_port = 18290, 18643
    nginx = start_nginx(work, port, tls_port, pin_cpu0=False, key="ec")
    rows = []
    try:
        print(f"many connections, {datetime.date.today()}: {n:,} connections at 1 request/s each for {seconds} s, "
              f"nginx 1 worker; memory = (peak RSS with {n:,} - peak RSS with 1) / {n:,}")
        for name, url in (("plain", f"http://127.0.0.1:{port}/"), ("TLS", f"https://127.0.0.1:{tls_port}/")):
            _, idle = stampede(args.binary, url, 1, 2)
            report, busy = stampede(args.binary, url, n, seconds)
            wrk_idle = wrk(url, 1, 2)
            wrk_busy = wrk(url, n, seconds)
            ours = (busy - idle) / n
            theirs = (wrk_busy - wrk_idle) / n
            errors = sum(report["errors"].values())
            exact = report["requests"] == n * seconds and report["responses"] == n * seconds
            connect = report.get("connect_time_us") or {}
            print(f"  {name}: {report['requests']:,} requests, {report['responses']:,} responses (intended {n * seconds:,}), "
                  f"{errors} errors; p99 {report['latency_us']['p99'] / 1000:.1f} ms, p50 {report['latency_us']['p50'] / 1000:.2f} ms "
                  f"(service time p50 {report['service_time_us']['p50'] / 1000:.2f} ms)")
            print(f"    connect phase {report.get('connect_phase_s', 0):.2f} s: connect p50 {connect.get('p50', 0) / 1000:.1f} ms, "
                  f"p99 {connect.get('p99', 0) / 1000:.1f} ms, max {connect.get('max', 0) / 1000:.1f} ms, "
                  f"{report.get('connect_phase_errors', 0)} failed")
            print(f"    memory: stampede {ours:.2f} KiB per connection (peak {busy / 1024:.1f} MiB, idle {idle / 1024:.1f} MiB); "
                  f"wrk {theirs:.2f} KiB (peak {wrk_busy / 1024:.1f} MiB); ratio {ours / theirs:.2f}")
            goal = 8 if name == "plain" else 40
            rows.append({"row": f"RSS per {name} connection, {n:,} connections", "value": ours, "unit": "KiB", "goal": f"<= {goal}",
                         "peer": theirs, "peer_name": "wrk"})
            rows.append({"row": f"{n:,} {name} connections held {seconds} s: errors, counts exact", "value": errors,
                         "unit": f"errors ({'exact' if exact else 'NOT exact'})", "goal": "0"})
            rows.append({"row": f"{n:,} {name} connections: p99", "value": report["latency_us"]["p99"] / 1000, "unit": "ms",
                         "goal": "< 100"})
        if args.summary:
            with open(args.summary, "a") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
