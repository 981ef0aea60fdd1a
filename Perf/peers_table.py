#!/usr/bin/env python3
"""The peers table: stampede against wrk, ab, h2load, hey and Locust on the same nginx, same run.

nginx (1 worker on CPU 0, access log off) serves a 17-byte answer; each client runs pinned to
CPU 1 with 50 connections (Locust: 50 users, FastHttpUser, one process, headless) for SECONDS,
and the tools take turns, round after round (the order turns around every other round). Three
workloads: plain HTTP keep-alive, TLS keep-alive (the tools that speak TLS), and
`Connection: close` churn (a new connection per request; the tools that can). Per tool: req/s,
CPU µs per request (user+sys from wait4 over the whole process, start-up included) and maximum
RSS, medians over rounds with their spread, and each as a multiple of stampede's. The figures are
the tools' own output (their request counts), never derived from stampede's.

With --static BINARY, the release tarball's binary (`make dist`: the Swift runtime and Foundation
linked in) runs beside it as `stampede-static`: the same code, loaded differently, so its RSS shows
what dynamic loading costs.

Usage: Perf/peers_table.py STAMPEDE_BINARY [--static BINARY] [--rounds N] [--seconds S] [--markdown FILE] [--summary ROWS]
"""
import argparse
import csv
import json
import os
import re
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import run_measured, start_nginx, stop_nginx, write_results  # noqa: E402

CONNECTIONS = 50
LOCUSTFILE = """from locust import FastHttpUser, constant, task


class Visitor(FastHttpUser):
    wait_time = constant(0)

    @task
    def home(self):
        self.client.get("/"{headers})
"""


def pinned(argv):
    return ["taskset", "-c", "1"] + argv


def count(pattern, text, what):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"{what}: no request count in its output:\n{text[-1500:]}")
    return float(m.group(1).replace(",", ""))


class Tools:
    """Each tool as (argv, how to read its request count and req/s from its output)."""

    def __init__(self, stampede, work, seconds, static=None):
        self.stampede, self.work, self.seconds, self.static = stampede, work, seconds, static

    def run(self, tool, url, close):
        s = self.seconds
        header = ["-H", "Connection: close"] if close else []
        if tool in ("stampede", "stampede-static"):
            binary = self.stampede if tool == "stampede" else self.static
            out, cpu, rss = run_measured(pinned([binary, "bench", url, "--connections", str(CONNECTIONS), "--threads", "1",
                                                 "--duration", str(s), "--insecure", "--json"] + header), s + 60)
            report = json.loads(out)
            return report["responses"], report["rps"], cpu, rss
        if tool == "wrk":
            out, cpu, rss = run_measured(pinned(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{s}s"] + header + [url]), s + 60)
            return count(r"(\d+) requests in", out, tool), count(r"Requests/sec:\s*([\d.]+)", out, tool), cpu, rss
        if tool == "ab":
            out, cpu, rss = run_measured(pinned(["ab", "-q", "-c", str(CONNECTIONS), "-n", "100000000", "-t", str(s)]
                                                + ([] if close else ["-k"]) + [url]), s + 60)
            return (count(r"Complete requests:\s*(\d+)", out, tool), count(r"Requests per second:\s*([\d.]+)", out, tool), cpu, rss)
        if tool == "h2load":
            out, cpu, rss = run_measured(pinned(["h2load", "--h1", "-c", str(CONNECTIONS), "-t", "1", "-D", str(s), url]), s + 60)
            return count(r"(\d+) succeeded", out, tool), count(r"finished in [\d.]+s, ([\d.]+) req/s", out, tool), cpu, rss
        if tool == "hey":
            out, cpu, rss = run_measured(pinned(["hey", "-z", f"{s}s", "-c", str(CONNECTIONS)]
                                                + (["-disable-keepalive"] if close else []) + [url]), s + 60)
            return count(r"\[200\]\s+(\d+) responses", out, tool), count(r"Requests/sec:\s*([\d.]+)", out, tool), cpu, rss
        if tool == "locust":
            locustfile = os.path.join(self.work, "locustfile.py")
            with open(locustfile, "w") as f:
                f.write(LOCUSTFILE.format(headers=', headers={"Connection": "close"}' if close else ""))
            prefix = os.path.join(self.work, "locust")
            locust = os.path.join(os.path.dirname(sys.executable), "locust")
            if not os.path.exists(locust):
                locust = shutil.which("locust") or "locust"
            # Locust exits 1 when any request failed: read its CSV either way.
            _, cpu, rss = run_measured(pinned(["sh", "-c", " ".join([
                locust, "-f", locustfile, "--headless", "-u", str(CONNECTIONS), "-r", str(CONNECTIONS), "-t", f"{s}s",
                "--host", url.rstrip("/"), "--csv", prefix, "--only-summary", "--loglevel", "ERROR", "; exit 0"])]), s + 90)
            with open(prefix + "_stats.csv") as f:
                total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
            return int(total["Request Count"]), float(total["Requests/s"]), cpu, rss
        raise ValueError(tool)


WORKLOADS = [
    ("HTTP keep-alive", "http", False, ["stampede", "wrk", "ab", "h2load", "hey", "locust"]),
    ("TLS keep-alive", "https", False, ["stampede", "wrk", "ab", "h2load", "hey", "locust"]),
    ("Connection: close", "http", True, ["stampede", "wrk", "ab", "hey"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--static", help="the release tarball's stampede, measured beside the other (stampede-static)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--only", help="comma-separated tools (default: every one installed)")
    ap.add_argument("--markdown", help="write the table here too")
    ap.add_argument("--summary", help="append stampede's rows (peer: the best other tool) as JSON lines")
    args = ap.parse_args()
    missing = [t for t in ("wrk", "ab", "h2load", "hey") if not shutil.which(t)]
    if missing:
        print(f"not installed, left out: {', '.join(missing)} (scripts/perf-peers.sh installs them)", file=sys.stderr)
    work = tempfile.mkdtemp(prefix="stampede-peers-")
    port, tls_port = 18960, 18961
    nginx = start_nginx(work, port, tls_port, key="ec")
    tools = Tools(args.binary, work, args.seconds, args.static)
    only = set(args.only.split(",")) if args.only else None
    lines = [f"Peers: nginx 1 worker on CPU 0, each client on CPU 1, {CONNECTIONS} connections, {args.rounds} alternating "
             f"rounds of {args.seconds} s; medians (spread); × = the tool's figure over stampede's.", ""]
    rows = []
    try:
        for name, scheme, close, names in WORKLOADS:
            names = [t for t in names if (t == "stampede" or t not in missing) and (only is None or t in only or t == "stampede")]
            if args.static:
                names.insert(1, "stampede-static")
            url = f"{scheme}://127.0.0.1:{tls_port if scheme == 'https' else port}/"
            samples = {t: [] for t in names}
            for r in range(args.rounds):
                for tool in (names if r % 2 == 0 else list(reversed(names))):
                    requests, rps, cpu, rss = tools.run(tool, url, close)
                    samples[tool].append((rps, cpu / max(requests, 1) * 1e6, rss / 1024))
                    print(f"  {name} round {r + 1}: {tool} {rps:,.0f} req/s, {samples[tool][-1][1]:.2f} µs CPU/request, "
                          f"{rss / 1024:.1f} MiB", file=sys.stderr)
            med = {t: [statistics.median(s[i] for s in samples[t]) for i in range(3)] for t in names}
            base = med["stampede"]
            lines += [f"### {name}", "", "| tool | req/s | × | CPU µs/request | × | max RSS MiB | × |", "|---|---|---|---|---|---|---|"]
            for t in names:
                spread = [f"{min(s[i] for s in samples[t]):,.{p}f}-{max(s[i] for s in samples[t]):,.{p}f}" for i, p in ((0, 0), (1, 2), (2, 1))]
                lines.append(f"| {t} | {med[t][0]:,.0f} ({spread[0]}) | {med[t][0] / base[0]:.2f} | {med[t][1]:.2f} ({spread[1]}) | "
                             f"{med[t][1] / base[1]:.2f} | {med[t][2]:.1f} ({spread[2]}) | {med[t][2] / base[2]:.2f} |")
            lines.append("")
            others = [t for t in names if not t.startswith("stampede")]
            if others:
                best = min(others, key=lambda t: med[t][1])
                rows.append({"row": f"{name}: CPU per request, the thriftiest peer", "value": base[1], "unit": "µs",
                             "peer": med[best][1], "peer_name": best, "goal": "<= 1.0x"})
                slim = min(others, key=lambda t: med[t][2])
                rows.append({"row": f"{name}: max RSS, the slimmest peer", "value": base[2], "unit": "MiB",
                             "peer": med[slim][2], "peer_name": slim})
    finally:
        stop_nginx(nginx)
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines)
    write_results(text, text, rows, args.markdown, args.summary)


if __name__ == "__main__":
    main()
