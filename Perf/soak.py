#!/usr/bin/env python3
"""make soak: a long tsunami through the full distributed system, watching for leaks.

Starts Tansu, `stampede target`, the orchestrator and two drivers; runs a tsunami of SOAK_RATE
req/s for SOAK_SECONDS (default 1800 = 30 min) through the REST API; samples every process's RSS
(VmRSS) and open file descriptors after a warm-up minute and at the end; prints the table and fails
(exit 1) if any process's RSS grew by more than 20 % or its descriptors by more than 16.

Usage: Perf/soak.py STAMPEDE_BINARY
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import api, free_port, stop_all, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECONDS = int(os.environ.get("SOAK_SECONDS", "1800"))
RATE = int(os.environ.get("SOAK_RATE", "1000"))


def sample(pid):
    rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="stampede-soak-")
    broker, target, apiport = free_port(), free_port(), free_port()
    procs = {}
    try:
        url = f"tcp://127.0.0.1:{broker}"
        procs["tansu"] = subprocess.Popen([f"{ROOT}/.deps/bin/tansu", "broker", "--listener-url", url,
                                           "--advertised-listener-url", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(broker)
        procs["target"] = subprocess.Popen([binary, "target", "--listen", f"127.0.0.1:{target}"], stdout=subprocess.DEVNULL)
        procs["orchestrator"] = subprocess.Popen([binary, "orchestrator", "--listen", f"127.0.0.1:{apiport}", "--brokers",
                                                  f"127.0.0.1:{broker}", "--reports-dir", f"{work}/reports"],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(apiport)
        for d in ("soak-1", "soak-2"):
            procs[d] = subprocess.Popen([binary, "driver", "--brokers", f"127.0.0.1:{broker}", "--id", d],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            if sum(d["state"] == "idle" for d in api(apiport, "GET", "/drivers")[1]) == 2:
                break
            time.sleep(0.2)
        api(apiport, "POST", "/tests", {"test_id": "soak", "test_type": "TSUNAMI", "rate": RATE, "duration_s": SECONDS,
                                         "connections": 10, "target": f"http://127.0.0.1:{target}/"})
        api(apiport, "POST", "/trigger", {"test_id": "soak"})
        warm = min(60, SECONDS // 4)
        time.sleep(warm)
        start = {name: sample(p.pid) for name, p in procs.items()}
        print(f"soak: {SECONDS} s tsunami at {RATE} req/s; first sample after {warm} s", flush=True)
        last_print = time.time()
        while True:
            t = api(apiport, "GET", "/tests/soak")[1]
            if t["status"] in ("done", "failed"):
                break
            if time.time() - last_print >= 300:
                last_print = time.time()
                now = {name: sample(p.pid)[0] / 1024 for name, p in procs.items() if p.poll() is None}
                print("  RSS (MiB): " + ", ".join(f"{k} {v:.1f}" for k, v in now.items()), flush=True)
            time.sleep(5)
        end = {name: sample(p.pid) for name, p in procs.items() if p.poll() is None}
        report = t["report"]
        print(f"soak report: {report['requests']} requests, {report['responses']} responses, "
              f"errors {sum(report['errors'].values())}, p99 {report['latency_us']['p99']} us, partial {report['partial']}")
        print(f"{'process':14} {'RSS start':>10} {'RSS end':>10} {'growth':>8} {'fds start':>10} {'fds end':>8}")
        failed = False
        for name, (rss0, fd0) in start.items():
            rss1, fd1 = end.get(name, (0, 0))
            growth = (rss1 - rss0) / rss0 * 100
            print(f"{name:14} {rss0 / 1024:9.1f}M {rss1 / 1024:9.1f}M {growth:7.1f}% {fd0:10} {fd1:8}")
            if name != "tansu" and (growth > 20 or fd1 > fd0 + 16):
                failed = True
        sys.exit(1 if failed else 0)
    finally:
        stop_all(list(procs.values()))


if __name__ == "__main__":
    main()
