#!/usr/bin/env python3
"""What scenarios cost a request: the same plain GETs alone, and split over three scenarios of one
test file (the same URL, the same connections in all, one thread), in user-space instructions per
request counted by valgrind --tool=callgrind on a stripped copy (instruction counts repeat for the
same binary and input, whatever else the machine does).

Each figure is the difference between a long and a short run divided by the difference in
requests, so start-up and the end of a run cancel out. Goal: a request in a three-scenario test
costs what it costs alone, within 3 %.

Usage: Perf/scenarios_cost.py STAMPEDE_BINARY [--markdown FILE] [--summary ROWS]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from costs import callgrind, per_request  # noqa: E402
from peers import start_nginx, stop_nginx, write_results  # noqa: E402

CONNECTIONS = 48
SHORT, LONG = 18_000, 54_000


def alone(binary, url, requests):
    return [binary, "bench", url, "--connections", str(CONNECTIONS), "--threads", "1", "--requests", str(requests), "--json"]


def three(binary, work, url, requests):
    """A test file of three scenarios, each a third of the requests and of the connections."""
    scenarios = {name: {"target": url, "connections": CONNECTIONS // 3, "message_count_per_driver": requests // 3}
                 for name in ("one", "two", "three")}
    path = os.path.join(work, f"three-{requests}.json")
    with open(path, "w") as f:
        json.dump({"scenarios": scenarios}, f)
    return [binary, "bench", path, "--threads", "1", "--json"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--markdown", help="write the table here too")
    ap.add_argument("--summary", help="append the rows as JSON lines")
    args = ap.parse_args()
    for tool in ("valgrind", "strip"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing")
    work = tempfile.mkdtemp(prefix="stampede-scenarios-cost-")
    stripped = os.path.join(work, "stampede")
    shutil.copy(args.binary, stripped)
    subprocess.run(["strip", stripped], check=True)
    port = 18972
    nginx = start_nginx(work, port)
    url = f"http://127.0.0.1:{port}/"
    try:
        counts = {}
        for label, argv in (("alone", alone), ("three scenarios", lambda b, u, n: three(b, work, u, n))):
            short, out_short = callgrind(argv(stripped, url, SHORT))
            long, out_long = callgrind(argv(stripped, url, LONG))
            for out, n in ((out_short, SHORT), (out_long, LONG)):
                sent = json.loads(out)["requests"]
                if sent != n:
                    sys.exit(f"{label}: sent {sent} requests, expected {n}")
            counts[label] = per_request(short, long, SHORT, LONG)
            print(f"{label}: {counts[label]:,.0f} instructions per request", file=sys.stderr)
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)
    ratio = counts["three scenarios"] / counts["alone"]
    lines = [f"Plain GETs to nginx, {CONNECTIONS} connections, one thread: alone, and as three scenarios of one test file "
             f"(a third of the connections and requests each); per request, the difference between runs of {SHORT:,} and "
             f"{LONG:,} requests under callgrind.", "",
             "| run | user-space instructions per request |", "|---|---|",
             f"| alone | {counts['alone']:,.0f} |", f"| three scenarios | {counts['three scenarios']:,.0f} ({(ratio - 1) * 100:+.1f} %) |"]
    rows = [{"row": "three scenarios against alone: instructions per request (callgrind)", "value": round(counts["three scenarios"]),
             "unit": "instr", "peer": round(counts["alone"]), "peer_name": "alone", "goal": "<= 1.03x"}]
    write_results("\n".join(lines), "\n".join(lines), rows, args.markdown, args.summary)


if __name__ == "__main__":
    main()
