#!/usr/bin/env python3
"""make perf: what sessions cost, as a ratio to the same requests without them.

nginx (1 worker on CPU 0, access log off) serves a three-step journey: /login sets a cookie,
/account answers JSON with a token, /cart answers. `stampede bench --order sequence` (on CPU 1,
50 connections) takes turns, ROUNDS rounds of SECONDS each, at:
  - plain:   the three requests, --cookies off, no capture (the baseline);
  - session: the same three with the cookie kept and sent back, the token captured from
             /account's JSON and sent in /cart's X-CSRF header ({{var.csrf}}).
For each: req/s and client CPU seconds (user+sys, from wait4) per 100k requests, medians over
rounds, and the ratio to plain measured in the same run. Goal: <= 1.15x CPU per request. The
session run must answer every cart with the captured token (no check or capture errors).

Then the memory of sessions waiting: the same journey with 1,000 and then 5,000 connections, every
session thinking 30 s after its account page (so each slot holds its cookie, its captured token and
its last response's leftovers); peak RSS from wait4, the difference over the 4,000 extra slots is
what one idle session costs. Goal: <= 2 KiB plus its cookies and variables (here a ~20-byte cookie
and a ~10-byte token).

Usage: Perf/session_journey.py STAMPEDE_BINARY [--rounds N] [--seconds S] [--summary FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import run_measured, start_nginx, stop_nginx  # noqa: E402

LOCATIONS = """
        location = /login { add_header Set-Cookie "sid=s$connection$connection_requests; Path=/; HttpOnly"; return 200 "ok\\n"; }
        location = /account { default_type application/json; return 200 '{"user": "ann", "csrf": "tok$connection_requests"}'; }
        location = /cart { if ($http_x_csrf !~ "^tok") { return 403; } return 200 "added\\n"; }"""


def measured(binary, args, seconds):
    out, cpu, _ = run_measured(["taskset", "-c", "1", binary, "bench", *args, "--order", "sequence", "--connections", "50",
                                "--duration", str(seconds), "--json"], seconds + 60)
    report = json.loads(out)
    errors = sum(report["errors"].values())
    return report["rps"], cpu / report["responses"] * 100_000, errors


def idle_session_bytes(binary, work, base):
    """Peak RSS at 5,000 thinking sessions less at 1,000, per extra slot."""
    with open(f"{work}/thinking.json", "w") as f:
        json.dump([{"name": "login", "method": "POST", "url": f"{base}/login", "body": "user=ann"},
                   {"name": "account", "url": f"{base}/account", "capture": {"csrf": {"json": "csrf"}}, "think_ms": 30000},
                   {"name": "cart", "method": "POST", "url": f"{base}/cart", "headers": {"X-CSRF": "{{var.csrf}}"}, "body": "{}"}], f)
    rss = {}
    for n in (1000, 5000):
        # Each slot logs in, reads its account page and thinks; the run ends while all of them do.
        out, _, peak = run_measured(["taskset", "-c", "1", binary, "bench", "--targets", f"{work}/thinking.json", "--order", "sequence",
                                     "--connections", str(n), "--duration", "4", "--json"], 90)
        report = json.loads(out)
        if report["responses"] != 2 * n or sum(report["errors"].values()):
            sys.exit(f"{n} slots: {report['responses']} responses, errors {report['errors']} (expected 2 per slot)")
        rss[n] = peak * 1024
    return (rss[5000] - rss[1000]) / 4000


def write_journeys(work, base):
    """The journey's three requests without a session (plain.json) and with one (session.json:
    the cookie kept, the token captured from /account's JSON and sent in /cart's X-CSRF header,
    /cart's status checked)."""
    with open(f"{work}/plain.json", "w") as f:
        json.dump([{"name": "login", "method": "POST", "url": f"{base}/login", "body": "user=ann"},
                   {"name": "account", "url": f"{base}/account"},
                   {"name": "cart", "method": "POST", "url": f"{base}/cart", "headers": {"X-CSRF": "tok0"}, "body": "{}"}], f)
    with open(f"{work}/session.json", "w") as f:
        json.dump([{"name": "login", "method": "POST", "url": f"{base}/login", "body": "user=ann"},
                   {"name": "account", "url": f"{base}/account", "capture": {"csrf": {"json": "csrf"}}},
                   {"name": "cart", "method": "POST", "url": f"{base}/cart", "headers": {"X-CSRF": "{{var.csrf}}"}, "body": "{}",
                    "expect_status": [200]}], f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--summary", help="append the rows as JSON lines to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stampede-sessions-")
    port = 18193
    base = f"http://127.0.0.1:{port}"
    write_journeys(work, base)
    shapes = {"plain": ["--targets", f"{work}/plain.json", "--cookies", "off"],
              "session": ["--targets", f"{work}/session.json"]}
    nginx = start_nginx(work, port, locations=LOCATIONS)
    try:
        samples = {name: [] for name in shapes}
        for r in range(args.rounds):
            order = list(shapes) if r % 2 == 0 else list(reversed(shapes))
            for name in order:
                rps, cpu, errors = measured(args.binary, shapes[name], args.seconds)
                if errors:
                    sys.exit(f"{name}: {errors} errors (the journey must succeed to be measured)")
                samples[name].append((rps, cpu))
            print(f"  round {r + 1}: " + ", ".join(f"{n} {samples[n][-1][0]:.0f} req/s" for n in shapes), file=sys.stderr)
        med = {n: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v)) for n, v in samples.items()}
        plain_rps, plain_cpu = med["plain"]
        print(f"\nsessions vs the same requests without them, nginx 1 worker on CPU 0, stampede on CPU 1, 50 connections, "
              f"{args.rounds} rounds x {args.seconds} s, medians")
        print(f"{'':10} {'req/s':>10} {'ratio':>7}   {'CPU-s/100k':>11} {'ratio':>7}   goal: <= 1.15x CPU")
        for name, (rps, cpu) in med.items():
            spread = [s[1] for s in samples[name]]
            print(f"{name:10} {rps:10.0f} {rps / plain_rps:7.3f}   {cpu:11.3f} {cpu / plain_cpu:7.3f}   "
                  f"(CPU {min(spread):.3f}-{max(spread):.3f})")
        footprint = idle_session_bytes(args.binary, work, base)
        print(f"\nan idle session (thinking between requests): {footprint:.0f} bytes per connection slot "
              f"(RSS at 5,000 slots less RSS at 1,000, over 4,000)   goal: <= 2048 plus cookies and variables")
        if args.summary:
            with open(args.summary, "a") as f:
                f.write(json.dumps({"row": "an idle session: bytes per connection slot", "value": footprint, "unit": "bytes",
                                    "goal": "<= 2048 + cookies and variables"}) + "\n")
            rps, cpu = med["session"]
            with open(args.summary, "a") as f:
                f.write(json.dumps({"row": "session journey (cookie + JSON capture): CPU per 100k requests", "value": cpu,
                                    "unit": "CPU-s", "peer": plain_cpu, "peer_name": "the same requests, no session",
                                    "goal": "<= 1.15x"}) + "\n")
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
