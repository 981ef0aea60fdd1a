#!/usr/bin/env python3
"""Where the latency overhead against a slow server goes: wake-ups, traced by the scheduler.

Two measurements against the asyncio server of Perf/latency_overhead.py (CPU 0; the client on
CPU 1), for stampede and wrk in turn:

1. One connection, answers after 10 ms, 2 s: `perf record -a` of the scheduler's wake-up and
   switch tracepoints and the client's and server's read/write system calls. For every request:
   how long the client's write(2) of it took in the kernel, when the server was woken and when it
   read the request; for every response: when the client was woken and when it read it. Medians.
2. 1,000 connections, 10 ms answers, 5 s: how often the client slept (voluntary context switches,
   from /usr/bin/time), the wake-ups and function-call IPIs system-wide (perf stat), and what the
   server served (responses, passes of its event loop).

Usage: Perf/wakeups.py STAMPEDE_BINARY
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency_overhead import start_server, stop_server  # noqa: E402
from peers import raise_nofile  # noqa: E402

EVENTS = ["sched:sched_wakeup", "sched:sched_switch", "syscalls:sys_enter_write", "syscalls:sys_exit_write",
          "syscalls:sys_enter_read", "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_sendto"]


def client_argv(tool, binary, url, connections, seconds):
    if tool == "stampede":
        return [binary, "bench", url, "-c", str(connections), "--threads", "1", "-d", str(seconds), "--json"]
    return ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]


def trace_one_connection(tool, binary, work, port):
    server = start_server(work, 10, port)
    data = os.path.join(work, f"sched-{tool}.data")
    record = subprocess.Popen(["perf", "record", "-q", "-a", "-o", data, "-e", ",".join(EVENTS)], stderr=subprocess.DEVNULL)
    time.sleep(1)
    subprocess.run(["taskset", "-c", "1"] + client_argv(tool, binary, f"http://127.0.0.1:{port}/", 1, 2), capture_output=True)
    record.send_signal(2)
    record.wait()
    stop_server(server)
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True).stdout
    events = []
    for line in script.splitlines():
        m = re.match(r"\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s+(.*)", line)
        if m and m.group(1) != "perf":
            events.append((float(m.group(4)) * 1e6, m.group(1), m.group(5), m.group(6)))
    client = os.path.basename(binary)[:15] if tool == "stampede" else "wrk"

    def first_after(t, test):
        return next((e for e in events if e[0] >= t and test(e)), None)

    write_us, server_woken, server_read, client_woken, client_read = [], [], [], [], []
    enters = [e for e in events if e[1] == client and e[2] == "syscalls:sys_enter_write"]
    for w in enters[3:-3]:
        done = first_after(w[0], lambda e: e[1] == client and e[2] == "syscalls:sys_exit_write")
        woken = first_after(w[0], lambda e: e[2] == "sched:sched_wakeup" and "comm=python3" in e[3])
        read = first_after(w[0], lambda e: e[1] == "python3" and e[2] == "syscalls:sys_enter_recvfrom")
        if done and woken and read:
            write_us.append(done[0] - w[0])
            server_woken.append(woken[0] - w[0])
            server_read.append(read[0] - w[0])
    sends = [e for e in events if e[1] == "python3" and e[2] == "syscalls:sys_enter_sendto"]
    for s in sends[3:-3]:
        woken = first_after(s[0], lambda e: e[2] == "sched:sched_wakeup" and f"comm={client}" in e[3])
        read = first_after(s[0], lambda e: e[1] == client and e[2] == "syscalls:sys_enter_read")
        if woken and read:
            client_woken.append(woken[0] - s[0])
            client_read.append(read[0] - s[0])
    med = lambda xs: statistics.median(xs) if xs else float("nan")  # noqa: E731
    return (f"| {tool} | {med(write_us):.0f} | {med(server_woken):.0f} | {med(server_read):.0f} | {med(client_woken):.0f} | "
            f"{med(client_read):.0f} | {len(write_us)} |")


def count_sleeps(tool, binary, work, port):
    server = start_server(work, 10, port)
    run = subprocess.run(["perf", "stat", "-x,", "-a", "-e", "sched:sched_wakeup,irq_vectors:call_function_single_entry", "--",
                          "/usr/bin/time", "-f", "%w voluntary", "taskset", "-c", "1"]
                         + client_argv(tool, binary, f"http://127.0.0.1:{port}/", 1000, 5),
                         capture_output=True, text=True, preexec_fn=raise_nofile)
    count, _, _, passes = stop_server(server)
    sleeps = re.search(r"(\d+) voluntary", run.stderr).group(1)
    counts = {m.group(2): int(m.group(1)) for m in re.finditer(r"^(\d+),,([\w:]+)", run.stderr, re.M)}
    return (f"| {tool} | {int(sleeps):,} | {counts.get('sched:sched_wakeup', 0):,} | "
            f"{counts.get('irq_vectors:call_function_single_entry', 0):,} | {count:,} | {count / max(passes, 1):.0f} |")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    for tool in ("perf", "wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing")
    work = tempfile.mkdtemp(prefix="stampede-wakeups-")
    port = 18940
    lines = ["One connection, 10 ms answers, 2 s (µs, medians; from the client's write or the server's sendto):", "",
             "| client | its write(2) in the kernel | server woken | server reads | client woken | client reads | requests |",
             "|---|---|---|---|---|---|---|"]
    try:
        for tool in ("stampede", "wrk"):
            port += 1
            lines.append(trace_one_connection(tool, binary, work, port))
        lines += ["", "1,000 connections, 10 ms answers, 5 s:", "",
                  "| client | its sleeps (voluntary switches) | wake-ups, system-wide | function-call IPIs | server responses | "
                  "responses per server loop pass |", "|---|---|---|---|---|---|"]
        for tool in ("stampede", "wrk"):
            port += 1
            lines.append(count_sleeps(tool, binary, work, port))
            time.sleep(0.5)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
