#!/usr/bin/env python3
"""Orchestrator at scale: N driver processes and M WebSocket clients on this machine.

Starts Tansu, `stampede target`, the orchestrator and the drivers; connects the WebSocket
clients; runs a 10 s tsunami (100 req/s per driver by default) and reports:
  - registration: from starting the drivers until the orchestrator lists all of them idle,
  - start skew: each driver's start_lag_ms (its own final message), max over drivers,
  - counts: requests and responses against rate x duration (exact), and the report's percentiles
    against Python's merge (hdrhistogram) of the drivers' histograms,
  - merge time: decoding + merging drivers' interval histograms (from /metrics), per second and
    per histogram (each interval carries latency, the timings (connect, TLS, waiting, receiving),
    and the same per name and scenario: --names N gives the test N request names, --scenarios K
    runs K scenarios of those names),
  - interval delay: when each interval message reached the clients, from the end of the second
    it covers (start_at + t): p50, p99 and max; the spread between the first and last client,
  - orchestrator CPU seconds during the test (utime+stime from /proc), and its peak RSS (VmHWM).
With --summary FILE, appends the headline figures as JSON lines (Perf/summary.py reads them).

Usage: Perf/orchestrator_scale.py STAMPEDE_BINARY [--drivers N] [--clients M] [--rate R] [--names N] [--scenarios K]
       [--summary FILE]
"""
import argparse
import asyncio
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import websockets
from hdrh.histogram import HdrHistogram

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import api, free_port, stop_all, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECONDS = 10


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def python_merge(paths):
    """The drivers' final histograms merged by Python's hdrhistogram: the figures to compare."""
    merged = None
    for path in paths:
        h = HdrHistogram.decode(json.load(open(path))["histogram"])
        if merged is None:
            merged = h
        else:
            merged.add(h)
    return merged


def python_merge_field(paths, field):
    """The drivers' final timing histograms (`timings.FIELD`) merged by Python's hdrhistogram."""
    merged = None
    for path in paths:
        encoded = (json.load(open(path)).get("timings") or {}).get(field)
        if not encoded:
            continue
        h = HdrHistogram.decode(encoded)
        if merged is None:
            merged = h
        else:
            merged.add(h)
    return merged


def test_config(target, rate, names, scenarios):
    """A tsunami against `stampede target`: one URL, or `names` request names (each its own path),
    in `scenarios` scenarios sharing the rate."""
    load = {"test_type": "TSUNAMI", "rate": rate, "duration_s": SECONDS, "connections": 5}
    if names:
        load["requests"] = [{"name": f"n{k:02}", "url": f"http://127.0.0.1:{target}/p{k}"} for k in range(names)]
    else:
        load["target"] = f"http://127.0.0.1:{target}/"
    if scenarios > 1:
        return {"test_id": "scale", "scenarios": {f"s{j}": dict(load, rate=rate / scenarios) for j in range(scenarios)}}
    return dict(load, test_id="scale")


def orch_alive(procs):
    return len(procs) > 2 and procs[2].poll() is None


def metric(port, name):
    _, text = api(port, "GET", "/metrics")
    for line in str(text).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def client(url, test_id, arrivals, done):
    # No keep-alive pings: a stalled orchestrator shows as late intervals, not as a dropped client.
    async with websockets.connect(url, max_size=None, open_timeout=30, ping_interval=None) as ws:
        done["connected"] += 1
        while True:
            m = json.loads(await ws.recv())
            if m["type"] == "interval" and m["test_id"] == test_id:
                arrivals.append((m["t"], time.time()))
            elif m["type"] == "final" and m["test_id"] == test_id:
                return


async def crowd(url, test_id, start, arrivals, clients):
    done = {"connected": 0}
    tasks = [asyncio.create_task(client(url, test_id, arrivals, done)) for _ in range(clients)]
    while done["connected"] < clients:
        await asyncio.sleep(0.05)
    await asyncio.get_running_loop().run_in_executor(None, start)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=SECONDS + 300)


def main():
    parser = argparse.ArgumentParser(description="orchestrator at scale")
    parser.add_argument("binary")
    parser.add_argument("--drivers", type=int, default=20)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=int, default=0, help="total req/s (default 100 per driver)")
    parser.add_argument("--names", type=int, default=0, help="request names in the test (0: one URL)")
    parser.add_argument("--scenarios", type=int, default=1, help="scenarios running those names")
    parser.add_argument("--summary", help="append headline figures as JSON lines to this file")
    args = parser.parse_args()
    drivers, clients = args.drivers, args.clients
    rate = args.rate or 100 * drivers
    binary = args.binary
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
                                 "--reports-dir", f"{work}/reports"], stdout=subprocess.DEVNULL,
                                stderr=open(f"{work}/orchestrator.log", "w"))
        procs.append(orch)
        wait_port(apiport)
        spawned = time.time()
        for i in range(drivers):
            procs.append(subprocess.Popen([binary, "driver", "--brokers", f"127.0.0.1:{broker}", "--id", f"d{i:03}"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.time() + 120
        while time.time() < deadline and sum(d["state"] == "idle" for d in api(apiport, "GET", "/drivers")[1]) < drivers:
            time.sleep(0.1)
        registered = time.time() - spawned
        status, created = api(apiport, "POST", "/tests", test_config(target, rate, args.names, args.scenarios))
        if status != 201:
            sys.exit(f"POST /tests: {status} {created}")
        arrivals, marks = [], {}

        def start():
            marks["cpu0"], marks["merge0"] = cpu_seconds(orch.pid), metric(apiport, "stampede_merge_seconds_total")
            marks["merged0"] = metric(apiport, "stampede_merged_histograms_total")
            status, body = api(apiport, "POST", "/trigger", {"test_id": "scale"})
            marks["start_at"] = body["start_at_ms"] / 1000

        asyncio.run(crowd(f"ws://127.0.0.1:{apiport}/ws", "scale", start, arrivals, clients))
        cpu = cpu_seconds(orch.pid) - marks["cpu0"]
        merge = metric(apiport, "stampede_merge_seconds_total") - marks["merge0"]
        merged = metric(apiport, "stampede_merged_histograms_total") - marks["merged0"]
        rss = peak_rss_mib(orch.pid)
        report = api(apiport, "GET", "/tests/scale")[1]["report"]
        finals = sorted(glob.glob(f"{work}/reports/scale/drivers/*.json"))
        skew = max(json.load(open(f)).get("start_lag_ms", 0) for f in finals)
        python = python_merge(finals)
        ours = report["latency_us"]
        theirs = {k: python.get_value_at_percentile(p) for k, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9))}
        exact_merge = all(ours[k] == v for k, v in theirs.items()) and python.get_total_count() == report["responses"]
        # The timings too: waiting and receiving merged like latency.
        for field in ("waiting_us", "receiving_us"):
            h = python_merge_field(finals, field)
            mine = report.get(field) or {}
            exact_merge = exact_merge and h is not None and h.get_total_count() == report["responses"] and all(
                mine.get(k) == h.get_value_at_percentile(p) for k, p in (("p50", 50), ("p99", 99)))
        expected = rate * SECONDS
        lags = sorted(at - (marks["start_at"] + t) for t, at in arrivals)
        by_t = {}
        for t, at in arrivals:
            by_t.setdefault(t, []).append(at)
        spread = max(max(v) - min(v) for v in by_t.values())
        shape = (f", {args.names} request names" if args.names else "") + (f" in {args.scenarios} scenarios" if args.scenarios > 1 else "")
        print(f"orchestrator at scale ({time.strftime('%Y-%m-%d')}): {drivers} drivers, {clients} WebSocket clients, "
              f"{SECONDS} s tsunami at {rate} req/s total{shape}")
        print(f"  registration: all {drivers} drivers idle {registered:.1f} s after they were started; start skew max {skew:.1f} ms")
        print(f"  report: {report['requests']} requests, {report['responses']} responses (intended {expected}), "
              f"p99 {ours['p99']} us, partial {report['partial']}")
        print(f"  merged percentiles (latency, waiting, receiving) {'equal' if exact_merge else 'DIFFER FROM'} Python's merge of the "
              f"{len(finals)} drivers' histograms ({theirs})")
        print(f"  orchestrator: CPU {cpu:.2f} s over the test ({cpu / SECONDS * 100:.1f} % of one core), peak RSS {rss:.1f} MiB")
        per_second = merge / SECONDS * 1000
        print(f"  merge: {merged:.0f} interval histograms merged, {merge * 1000:.1f} ms in total, "
              f"{per_second:.2f} ms of CPU per second of test (goal < {250 if args.names else 10} ms), "
              f"{merge / max(merged, 1) * 1e6:.2f} us per histogram")
        print(f"  interval delay after the end of each second: p50 {percentile(lags, 50) * 1000:.0f} ms, "
              f"p99 {percentile(lags, 99) * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms over {len(arrivals)} deliveries; "
              f"spread across clients max {spread * 1000:.0f} ms")
        if args.summary:
            with open(args.summary, "a") as f:
                for row in [
                    {"row": f"merge per second, {drivers} drivers{shape}", "value": per_second, "unit": "ms",
                     "goal": "< 250" if args.names else "< 10"},
                    {"row": f"merge per histogram, {drivers} drivers{shape}", "value": merge / max(merged, 1) * 1e6, "unit": "µs"},
                    {"row": f"interval delay p99, {drivers} drivers", "value": percentile(lags, 99) * 1000, "unit": "ms", "goal": "< 1500"},
                    {"row": f"orchestrator peak RSS, {drivers} drivers", "value": rss, "unit": "MiB", "goal": "< 200"},
                    {"row": f"counts exact and merge equal to Python's, {drivers} drivers",
                     "value": int(report["requests"] == expected and report["responses"] == expected and exact_merge), "unit": "(1: yes)", "goal": "1"},
                ]:
                    f.write(json.dumps(row) + "\n")
    except BaseException:
        # What the orchestrator said last (its log), when the run went wrong.
        if os.path.exists(f"{work}/orchestrator.log"):
            print("orchestrator log (last lines):\n" + "".join(open(f"{work}/orchestrator.log").readlines()[-30:]), file=sys.stderr)
        if orch_alive(procs):
            print("the orchestrator is still running", file=sys.stderr)
        raise
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
