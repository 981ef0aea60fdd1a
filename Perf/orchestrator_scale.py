#!/usr/bin/env python3
"""Orchestrator at scale: 20 driver processes and 200 WebSocket clients on this machine.

Starts Tansu, `stampede target`, the orchestrator and 20 drivers; connects 200 WebSocket clients;
runs a 10 s tsunami (2,000 req/s in total over the 20 drivers) and reports:
  - orchestrator CPU seconds during the test (utime+stime from /proc) and per test second,
  - merge time: decoding + merging drivers' interval histograms (from /metrics), per second,
  - /ws lag: when each interval message reached the clients, measured from the end of the second
    it covers (start_at + t); median and max over clients and seconds; and the spread between the
    first and last client for the same message.

Usage: Perf/orchestrator_scale.py STAMPEDE_BINARY
"""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import api, free_port, stop_all, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVERS, CLIENTS, SECONDS = 20, 200, 10


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(port, name):
    _, text = api(port, "GET", "/metrics")
    for line in str(text).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def client(url, test_id, arrivals, done):
    async with websockets.connect(url, max_size=None, open_timeout=30) as ws:
        done["connected"] += 1
        while True:
            m = json.loads(await ws.recv())
            if m["type"] == "interval" and m["test_id"] == test_id:
                arrivals.append((m["t"], time.time()))
            elif m["type"] == "final" and m["test_id"] == test_id:
                return


async def crowd(url, test_id, start, arrivals):
    done = {"connected": 0}
    tasks = [asyncio.create_task(client(url, test_id, arrivals, done)) for _ in range(CLIENTS)]
    while done["connected"] < CLIENTS:
        await asyncio.sleep(0.05)
    await asyncio.get_running_loop().run_in_executor(None, start)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=SECONDS + 60)


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="stampede-scale-")
    broker, target, apiport = free_port(), free_port(), free_port()
    procs = []
    try:
        url = f"tcp://127.0.0.1:{broker}"
        procs.append(subprocess.Popen([f"{ROOT}/.deps/bin/tansu", "broker", "--listener-url", url, "--advertised-listener-url", url],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(broker)
        procs.append(subprocess.Popen([binary, "target", "--listen", f"127.0.0.1:{target}"], stdout=subprocess.DEVNULL))
        orch = subprocess.Popen([binary, "orchestrator", "--listen", f"127.0.0.1:{apiport}", "--brokers", f"127.0.0.1:{broker}",
                                 "--reports-dir", f"{work}/reports"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(orch)
        wait_port(apiport)
        for i in range(DRIVERS):
            procs.append(subprocess.Popen([binary, "driver", "--brokers", f"127.0.0.1:{broker}", "--id", f"d{i:02}"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.time() + 60
        while time.time() < deadline and sum(d["state"] == "idle" for d in api(apiport, "GET", "/drivers")[1]) < DRIVERS:
            time.sleep(0.2)
        api(apiport, "POST", "/tests", {"test_id": "scale", "test_type": "TSUNAMI", "rate": 2000, "duration_s": SECONDS,
                                         "connections": 5, "target": f"http://127.0.0.1:{target}/"})
        arrivals, marks = [], {}

        def start():
            marks["cpu0"], marks["merge0"] = cpu_seconds(orch.pid), metric(apiport, "stampede_merge_seconds_total")
            status, body = api(apiport, "POST", "/trigger", {"test_id": "scale"})
            marks["start_at"] = body["start_at_ms"] / 1000

        asyncio.run(crowd(f"ws://127.0.0.1:{apiport}/ws", "scale", start, arrivals))
        cpu = cpu_seconds(orch.pid) - marks["cpu0"]
        merge = metric(apiport, "stampede_merge_seconds_total") - marks["merge0"]
        merged = metric(apiport, "stampede_merged_histograms_total")
        report = api(apiport, "GET", "/tests/scale")[1]["report"]
        lags = sorted(at - (marks["start_at"] + t) for t, at in arrivals)
        by_t = {}
        for t, at in arrivals:
            by_t.setdefault(t, []).append(at)
        spread = max(max(v) - min(v) for v in by_t.values())
        print(f"orchestrator at scale ({time.strftime('%Y-%m-%d')}): {DRIVERS} drivers, {CLIENTS} WebSocket clients, "
              f"{SECONDS} s tsunami at 2000 req/s total")
        print(f"  report: {report['requests']} requests, {report['responses']} responses, p99 {report['latency_us']['p99']} us, "
              f"partial {report['partial']}")
        print(f"  orchestrator CPU: {cpu:.2f} s over the test ({cpu / SECONDS * 100:.1f} % of one core)")
        print(f"  merge: {merged:.0f} interval histograms merged, {merge * 1000:.1f} ms in total, "
              f"{merge / SECONDS * 1000:.2f} ms per second of test")
        print(f"  /ws lag after the end of each second: median {lags[len(lags) // 2] * 1000:.0f} ms, "
              f"max {lags[-1] * 1000:.0f} ms over {len(arrivals)} deliveries; spread across clients max {spread * 1000:.0f} ms")
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
