#!/usr/bin/env python3
"""The engine's latency overhead, measured against the wire: what a load tester adds to the time
its requests spend between the wire and the wire.

A Python asyncio server (on CPU 0) answers every request DELAY ms after reading it. For each
setting (server delay, connections) one server is started and warmed (a short run first), then
the clients (pinned to CPU 1, closed loop, one thread) take turns in alternating order, ROUNDS
times. During each client's run tcpdump (Debian) captures the loopback packets that carry data;
the benchmark reads the pcap itself and pairs, per connection, each request's packet with its
response's first packet: the wire's own request-to-response times of that very run. A client's
added latency is its own p50/p99 (stampede's JSON, wrk's --latency table, h2load's per-request
--log-file) minus the wire's p50/p99 of the same run. The server's own report of its service
time is not used: it counts the server's time to read a request as the client's, and depends on
which client ran first against a new server.

Packets the kernel dropped from the capture are printed; a request or response whose packet was
dropped leaves its pair out (the pairing never joins a response to an older request).

Usage: Perf/latency_overhead.py STAMPEDE_BINARY [--seconds S] [--rounds N] [--markdown FILE] [--summary ROWS]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import raise_nofile, run_measured, write_results  # noqa: E402

SERVER = r"""
import asyncio, signal, sys
delay, port = float(sys.argv[1]) / 1000, int(sys.argv[2])
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\nContent-Type: text/plain\r\n\r\nhello from async\n"

class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            loop.call_later(delay, self.answer)
    def answer(self):
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)

loop = asyncio.new_event_loop()
loop.add_signal_handler(signal.SIGTERM, loop.stop)
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


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_capture(port, path):
    """tcpdump on loopback: the packets of `port` that carry data, nanosecond timestamps, the
    first 128 bytes of each (headers and the payload's first bytes)."""
    proc = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-s", "128", "-B", "65536", "--time-stamp-precision=nano",
                             "-w", path, f"tcp port {port} and (tcp[tcpflags] & tcp-push != 0)"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # tcpdump says "listening on lo" once capturing.
    deadline = time.time() + 10
    line = ""
    while time.time() < deadline and "listening" not in line:
        line = proc.stderr.readline()
    if "listening" not in line:
        sys.exit("tcpdump did not start capturing: " + line)
    return proc


def stop_capture(proc):
    """Stops tcpdump; returns how many packets the kernel dropped from the capture."""
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    m = re.search(r"(\d+) packets? dropped by kernel", err)
    return int(m.group(1)) if m else -1


def wire_times(path, port):
    """Per connection, each request packet's time to its response's first packet (µs), from a
    pcap of loopback (Ethernet framing, IPv4)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    scale = 1e-3 if magic == 0xA1B23C4D else 1.0  # nanosecond or microsecond fractions, to µs
    link = struct.unpack_from("<I", data, 20)[0]
    if link != 1:
        sys.exit(f"pcap link type {link}: expected Ethernet framing on lo")
    offset, pending, times = 24, {}, []
    while offset + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from("<IIII", data, offset)
        packet = data[offset + 16:offset + 16 + incl]
        offset += 16 + incl
        if len(packet) < 34 or packet[12:14] != b"\x08\x00":
            continue
        ihl = (packet[14] & 0x0F) * 4
        tcp = 14 + ihl
        sport, dport = struct.unpack_from("!HH", packet, tcp)
        payload = packet[tcp + (packet[tcp + 12] >> 4) * 4:]
        at = sec * 1e6 + frac * scale
        if dport == port and payload[:4] in (b"GET ", b"POST", b"HEAD"):
            pending[sport] = at
        elif sport == port and payload[:5] == b"HTTP/":
            sent = pending.pop(dport, None)
            if sent is not None:
                times.append(at - sent)
    times.sort()
    return times


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))] if sorted_values else 0


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
        return percentile(times, 50), percentile(times, 99), len(times)
    raise ValueError(tool)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--markdown")
    ap.add_argument("--summary")
    args = ap.parse_args()
    if not shutil.which("tcpdump"):
        sys.exit("tcpdump is needed (the wire is the reference): scripts/perf-peers.sh installs it")
    tools = ["stampede"] + [t for t in ("wrk", "h2load") if shutil.which(t)]
    work = tempfile.mkdtemp(prefix="stampede-overhead-")
    lines = [f"Latency overhead against the wire: each client's p50/p99 minus the same run's request-to-response times on "
             f"loopback (tcpdump). An asyncio server answers after a fixed delay (CPU 0, warmed); clients on CPU 1, closed loop, "
             f"{args.seconds} s each, {args.rounds} rounds in alternating order; µs.", "",
             "| server delay | connections | round | tool | client p50 / p99 | wire p50 / p99 | added p50 / p99 | req/s | pairs (dropped packets) |",
             "|---|---|---|---|---|---|---|---|---|"]
    rows, table = [], []
    port = 18980
    try:
        for delay in (10, 1):
            for connections in (50, 1000):
                port += 1
                server = start_server(work, delay, port)
                added = {t: [] for t in tools}
                try:
                    client("stampede", args.binary, f"http://127.0.0.1:{port}/", connections, 2, work)  # warm the server
                    for r in range(args.rounds):
                        order = tools if r % 2 == 0 else list(reversed(tools))
                        for tool in order:
                            pcap = os.path.join(work, f"{tool}-{delay}-{connections}-{r}.pcap")
                            capture = start_capture(port, pcap)
                            try:
                                p50, p99, responses = client(tool, args.binary, f"http://127.0.0.1:{port}/", connections, args.seconds, work)
                            finally:
                                dropped = stop_capture(capture)
                            wire = wire_times(pcap, port)
                            os.remove(pcap)
                            w50, w99 = percentile(wire, 50), percentile(wire, 99)
                            added[tool].append((p50 - w50, p99 - w99))
                            lines.append(f"| {delay} ms | {connections} | {r + 1} | {tool} | {p50:,.0f} / {p99:,.0f} | {w50:,.0f} / {w99:,.0f} | "
                                         f"{p50 - w50:+,.0f} / {p99 - w99:+,.0f} | {responses / args.seconds:,.0f} | {len(wire):,} ({dropped}) |")
                            print(lines[-1], file=sys.stderr)
                            time.sleep(0.3)
                finally:
                    stop(server)
                for tool in tools:
                    a50 = [a[0] for a in added[tool]]
                    a99 = [a[1] for a in added[tool]]
                    table.append(f"| {delay} ms | {connections} | {tool} | {min(a50):+,.0f} to {max(a50):+,.0f} | {min(a99):+,.0f} to {max(a99):+,.0f} |")
                peers = [t for t in tools if t != "stampede"]
                if peers:
                    best = min(peers, key=lambda t: statistics.median(a[0] for a in added[t]))
                    rows.append({"row": f"added p50 over the wire, {delay} ms server, {connections} connections (least-adding peer)",
                                 "value": round(statistics.median(a[0] for a in added["stampede"])), "unit": "µs",
                                 "peer": round(statistics.median(a[0] for a in added[best])), "peer_name": best})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines += ["", "Added over the wire, range over the rounds (µs):", "",
              "| server delay | connections | tool | added p50 | added p99 |", "|---|---|---|---|---|"] + table
    text = "\n".join(lines)
    write_results(text, text, rows, args.markdown, args.summary)


if __name__ == "__main__":
    main()
