#!/usr/bin/env python3
"""The engine's latency overhead: what a load tester adds to a server's own answer time.

A Python asyncio server (on CPU 0) answers every request exactly DELAY ms after reading it and
records its own service time (request read to response written). Each client (pinned to CPU 1,
closed loop, N connections, one thread) runs against a fresh server; the overhead is the
client's p50/p99 minus the server's own p50/p99 of the same run. The clients' figures are their
own: stampede's JSON, wrk's --latency table, h2load's per-request --log-file.

Where the server cannot keep up (1 ms answers need 50,000 req/s at 50 connections, more than one
Python process serves), time queued before the server reads a request counts as overhead for
every client alike; the server's throughput is printed beside it, and how many responses it wrote
per pass of its event loop: a Python loop pays its per-pass cost (a select, the timer heap) once
per pass, so requests that arrive together are served for less CPU than requests that arrive one
by one, and a client's timing alone moves the server's capacity.

Usage: Perf/latency_overhead.py STAMPEDE_BINARY [--seconds S] [--markdown FILE] [--summary ROWS]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import raise_nofile, run_measured, write_results  # noqa: E402

SERVER = r"""
import asyncio, signal, sys, time
delay, port = float(sys.argv[1]) / 1000, int(sys.argv[2])
samples = []
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\nContent-Type: text/plain\r\n\r\nhello from async\n"

class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            loop.call_later(delay, self.answer, time.perf_counter())
    def answer(self, read_at):
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)
            samples.append((time.perf_counter() - read_at) * 1e6)

def done():
    samples.sort()
    pick = lambda p: samples[min(len(samples) - 1, int(len(samples) * p / 100))] if samples else 0
    print(f"{len(samples)} {pick(50):.0f} {pick(99):.0f} {passes[0]}", flush=True)
    loop.stop()

loop = asyncio.new_event_loop()
# Passes of the event loop (selector calls), to tell batched arrivals from spread ones.
passes = [0]
select = loop._selector.select
def counted_select(timeout=None):
    passes[0] += 1
    return select(timeout)
loop._selector.select = counted_select
loop.add_signal_handler(signal.SIGTERM, done)
server = loop.run_until_complete(loop.create_server(Answer, "127.0.0.1", port, backlog=4096, reuse_address=True))
print("ready", flush=True)
loop.run_forever()
"""


def start_server(work, delay_ms, port):
    path = os.path.join(work, "answer_after.py")
    with open(path, "w") as f:
        f.write(SERVER)
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, path, str(delay_ms), str(port)], stdout=subprocess.PIPE,
                            text=True, preexec_fn=raise_nofile)
    if proc.stdout.readline().strip() != "ready":
        sys.exit("the asyncio server did not start")
    return proc


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    count, p50, p99, passes = out.split()
    return int(count), int(p50), int(p99), int(passes)


def ms_value(text):
    """wrk's latency figures: 10.21ms, 950.00us, 1.02s."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * {"us": 1, "ms": 1_000, "s": 1_000_000}[m.group(2)]


def client(tool, binary, url, connections, seconds, work):
    """(p50 µs, p99 µs, responses) from the client's own output."""
    if tool == "stampede":
        out, _, _ = run_measured(["taskset", "-c", "1", binary, "bench", url, "--connections", str(connections), "--threads", "1",
                                  "--duration", str(seconds), "--json"], seconds + 60)
        r = json.loads(out)
        return r["latency_us"]["p50"], r["latency_us"]["p99"], r["responses"]
    if tool == "wrk":
        out, _, _ = run_measured(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url], seconds + 60)
        p50 = ms_value(re.search(r"\n\s*50%\s+(\S+)", out).group(1))
        p99 = ms_value(re.search(r"\n\s*99%\s+(\S+)", out).group(1))
        return p50, p99, int(re.search(r"(\d+) requests in", out).group(1))
    if tool == "h2load":
        log = os.path.join(work, f"h2load-{connections}-{time.time_ns()}.log")  # h2load appends to an existing file
        run_measured(["taskset", "-c", "1", "h2load", "--h1", "-c", str(connections), "-t", "1", "-D", str(seconds),
                      "--log-file", log, url], seconds + 60)
        # Each line: start time (µs since the epoch), status, request time (µs).
        times = sorted(int(line.split()[2]) for line in open(log) if len(line.split()) >= 3 and line.split()[1] == "200")
        return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))], len(times)
    raise ValueError(tool)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--markdown")
    ap.add_argument("--summary")
    args = ap.parse_args()
    tools = ["stampede"] + [t for t in ("wrk", "h2load") if shutil.which(t)]
    work = tempfile.mkdtemp(prefix="stampede-overhead-")
    lines = [f"Latency overhead: client p50/p99 minus the server's own (an asyncio server answering after a fixed delay, "
             f"CPU 0; clients on CPU 1, closed loop, {args.seconds} s each; µs).", "",
             "| server delay | connections | tool | client p50 / p99 | server p50 / p99 | added p50 / p99 | req/s | server responses per loop pass |",
             "|---|---|---|---|---|---|---|---|"]
    rows = []
    port = 18980
    try:
        for delay in (10, 1):
            for connections in (50, 1000):
                added = {}
                for tool in tools:
                    port += 1
                    server = start_server(work, delay, port)
                    try:
                        p50, p99, responses = client(tool, args.binary, f"http://127.0.0.1:{port}/", connections, args.seconds, work)
                    finally:
                        count, s50, s99, passes = stop_server(server)
                    added[tool] = (p50 - s50, p99 - s99)
                    lines.append(f"| {delay} ms | {connections} | {tool} | {p50:,.0f} / {p99:,.0f} | {s50:,} / {s99:,} | "
                                 f"{p50 - s50:,.0f} / {p99 - s99:,.0f} | {responses / args.seconds:,.0f} | {count / max(passes, 1):.2f} |")
                    print(lines[-1], file=sys.stderr)
                    time.sleep(0.5)
                peers = [t for t in added if t != "stampede"]
                if peers:
                    best = min(peers, key=lambda t: added[t][1])
                    rows.append({"row": f"added p99, {delay} ms server, {connections} connections (least-adding peer)",
                                 "value": added["stampede"][1], "unit": "µs", "peer": added[best][1], "peer_name": best})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines)
    write_results(text, text, rows, args.markdown, args.summary)


if __name__ == "__main__":
    main()
