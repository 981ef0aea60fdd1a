#!/usr/bin/env python3
"""make perf: what the timings (connect, TLS, waiting, receiving) cost the request path, and what
a session journey's request costs against a plain one.

User-space instructions per request, counted by valgrind --tool=callgrind on stripped copies
(valgrind 3.19 cannot read this toolchain's DWARF 5), as the difference between runs of 20,000
and 60,000 requests (start-up cancels out); 50 connections, one thread, nginx on CPU 0:
  - with and without timings: this binary against one built from BASE (default 7655ae9, the last
    commit before timings; built once into .build-base/, reused after), plain HTTP and TLS
    keep-alive GETs. Goal: at most 2 % more.
  - a session journey (--order sequence: /login sets a cookie, /account answers JSON whose token
    is captured, /cart sends it in a header and checks its status) against the same three
    requests without a session (--cookies off, no capture), and against a plain GET. Goal: a
    journey's request at most 1.5x a plain request's, where the plain request is the same
    journey's without a session, as in the figures the goal was set from (11,045 against 6,795
    for the plain journey, Perf/README 2026-12-04). The ratio to a plain GET, a stricter reading
    the 2026-12-06 results used, is printed beside it.

Usage: Perf/timings_cost.py STAMPEDE_BINARY [--base REF] [--markdown FILE] [--summary ROWS]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import start_nginx, stop_nginx, write_results  # noqa: E402
from session_journey import LOCATIONS, write_journeys  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHORT, LONG = 20_000, 60_000


def base_binary(ref):
    """stampede built from `ref` (a git worktree under .build-base/, built once)."""
    tree = os.path.join(ROOT, ".build-base", ref)
    binary = os.path.join(tree, ".build", "release", "stampede")
    if os.path.exists(binary):
        return binary
    if not os.path.isdir(tree):
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-f", tree, ref], check=True, capture_output=True)
    print(f"building stampede at {ref} (once, into {tree})", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "stampede"], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL)
    return binary


def instructions(binary, argv):
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "cg.out")
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary] + argv,
                             capture_output=True, text=True, timeout=1800)
        total = re.search(r"Collected\s*:\s*(\d+)", run.stderr)
        if not total:
            sys.exit(f"callgrind gave no total:\n{run.stderr[-2000:]}")
        report = json.loads(run.stdout)
        errors = sum(report["errors"].values())
        if errors:
            sys.exit(f"{argv}: {errors} errors {report['errors']} (a run must succeed to be measured)")
        return int(total.group(1))


def per_request(binary, args):
    """Instructions per request: (long run - short run) / (LONG - SHORT)."""
    def argv(n):
        return ["bench", *args, "--connections", "50", "--threads", "1", "--requests", str(n), "--insecure", "--json"]
    return (instructions(binary, argv(LONG)) - instructions(binary, argv(SHORT))) / (LONG - SHORT)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--base", default="7655ae9")
    ap.add_argument("--markdown")
    ap.add_argument("--summary")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stampede-timings-cost-")
    stripped = {}
    for name, path in (("with", args.binary), ("without", base_binary(args.base))):
        stripped[name] = os.path.join(work, f"stampede-{name}")
        shutil.copy(path, stripped[name])
        subprocess.run(["strip", "--strip-debug", stripped[name]], check=True)
    port, tls_port = 18941, 18942
    base = f"http://127.0.0.1:{port}"
    write_journeys(work, base)
    nginx = start_nginx(work, port, tls_port=tls_port, key="ec", locations=LOCATIONS)
    rows = []
    try:
        costs = {}
        for name in ("without", "with"):
            costs[name, "plain"] = per_request(stripped[name], [f"{base}/"])
            costs[name, "tls"] = per_request(stripped[name], [f"https://127.0.0.1:{tls_port}/"])
        journey = per_request(stripped["with"], ["--targets", f"{work}/session.json", "--order", "sequence"])
        unsessioned = per_request(stripped["with"], ["--targets", f"{work}/plain.json", "--order", "sequence", "--cookies", "off"])
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)
    lines = [f"What timings cost (callgrind, user-space instructions per request, ({LONG:,} - {SHORT:,} requests) / {LONG - SHORT:,}; "
             f"50 connections, one thread; without: built from {args.base})", "",
             "| request | without timings | with timings | change | goal |", "|---|---|---|---|---|"]
    for kind, label in (("plain", "plain GET, keep-alive"), ("tls", "GET over TLS, keep-alive")):
        a, b = costs["without", kind], costs["with", kind]
        lines.append(f"| {label} | {a:,.0f} | {b:,.0f} | {(b / a - 1) * 100:+.1f} % | at most +2 % |")
        rows.append({"row": f"timings: instructions per request, {label}", "value": round(b), "unit": "instructions",
                     "peer": round(a), "peer_name": "the same without timings", "goal": "<= 1.02x"})
    plain = costs["with", "plain"]
    lines += ["", "| journey (timings on) | instructions per request | vs the journey without a session | vs a plain GET | goal |",
              "|---|---|---|---|---|",
              f"| plain GET | {plain:,.0f} | | 1.00 | |",
              f"| three requests in sequence, no session (--cookies off, no capture) | {unsessioned:,.0f} | 1.00 | "
              f"{unsessioned / plain:.2f} | |",
              f"| session journey: cookie kept and sent, JSON capture, header template, status check | {journey:,.0f} | "
              f"{journey / unsessioned:.2f} | {journey / plain:.2f} | at most 1.5x the journey without a session |"]
    rows.append({"row": "session journey: instructions per request", "value": round(journey), "unit": "instructions",
                 "peer": round(unsessioned), "peer_name": "the same journey without a session", "goal": "<= 1.5x"})
    rows.append({"row": "session journey against a plain GET: instructions per request", "value": round(journey),
                 "unit": "instructions", "peer": round(plain), "peer_name": "a plain GET"})
    text = "\n".join(lines)
    write_results(text, text, rows, args.markdown, args.summary)


if __name__ == "__main__":
    main()
