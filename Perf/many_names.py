"""The orchestrator through a run of 1,000-name tests: its memory and how promptly it answers.

Starts Tansu, `stampede target`, the orchestrator (--keep-tests K) and one driver; runs N tests of
1,000 request names, 2 s and 8 connections each, one after another, while one client polls
`GET /ping` every 10 ms on a keep-alive connection and another polls `GET /tests/{id}` every
200 ms until each test is done (as a script waiting for it would). Prints the orchestrator's RSS
idle and after each test, /ping's p50, p99 and slowest answers, and with --restart the RSS of an
orchestrator restarted on the same reports directory.

Usage: Perf/many_names.py STAMPEDE_BINARY [--tests N] [--keep-tests K] [--restart]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import api, free_port, stop_all, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds(pid):
    """User and system CPU the process has used so far (/proc/PID/stat, clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_idle(port):
    deadline = time.time() + 60
    while time.time() < deadline:
        if any(d["state"] == "idle" for d in api(port, "GET", "/drivers")[1]):
            return
        time.sleep(0.1)
    sys.exit("the driver did not become idle")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--tests", type=int, default=10)
    ap.add_argument("--keep-tests", default="1")
    ap.add_argument("--restart", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stampede-many-names-")
    broker, target, port = free_port(), free_port(), free_port()
    procs = []
    orchestrator = [args.binary, "orchestrator", "--listen", f"127.0.0.1:{port}", "--brokers", f"127.0.0.1:{broker}",
                    "--reports-dir", f"{work}/reports", "--keep-tests", args.keep_tests]
    try:
        url = f"tcp://127.0.0.1:{broker}"
        procs.append(subprocess.Popen([f"{ROOT}/.deps/bin/tansu", "broker", "--listener-url", url, "--advertised-listener-url", url],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(broker)
        procs.append(subprocess.Popen([args.binary, "target", "--listen", f"127.0.0.1:{target}"], stdout=subprocess.DEVNULL))
        orch = subprocess.Popen(orchestrator, stdout=subprocess.DEVNULL, stderr=open(f"{work}/orchestrator.log", "w"))
        procs.append(orch)
        wait_port(port)
        procs.append(subprocess.Popen([args.binary, "driver", "--brokers", f"127.0.0.1:{broker}", "--id", "d1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_idle(port)
        time.sleep(1)
        print(f"many names ({time.strftime('%Y-%m-%d')}): {args.tests} tests of 1,000 names, --keep-tests {args.keep_tests}")
        print(f"  RSS idle: {rss_mib(orch.pid):.0f} MiB")
        cpu_before = cpu_seconds(orch.pid)
        poller = subprocess.Popen([sys.executable, f"{ROOT}/Tests/Interop/ping_poller.py", str(port), "3600"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        requests = [{"name": f"n{i}", "url": f"http://127.0.0.1:{target}/p{i}"} for i in range(1000)]
        for k in range(1, args.tests + 1):
            wait_idle(port)
            status, body = api(port, "POST", "/tests", {"test_id": f"t{k}", "requests": requests, "duration_s": 2, "connections": 8})
            if status != 201:
                sys.exit(f"POST /tests: {status} {body}")
            api(port, "POST", "/trigger", {"test_id": f"t{k}"})
            deadline = time.time() + 120
            while time.time() < deadline:
                detail = api(port, "GET", f"/tests/t{k}")[1]
                if detail.get("status") in ("done", "failed"):
                    break
                time.sleep(0.2)
            # Once its page is written: glibc is asked to give memory back just after.
            while time.time() < deadline and not os.path.exists(f"{work}/reports/t{k}/report.html"):
                time.sleep(0.1)
            time.sleep(0.3)
            print(f"  after test {k}: {detail.get('status')}, RSS {rss_mib(orch.pid):.0f} MiB")
        print(f"  orchestrator CPU through the tests: {cpu_seconds(orch.pid) - cpu_before:.1f} s")
        poller.stdin.close()
        polled = json.loads(poller.stdout.read())
        ms = sorted(polled["ms"])
        print(f"  /ping: {len(ms)} polls, {polled['failures']} failed, p50 {ms[len(ms) // 2]:.1f} ms, "
              f"p99 {ms[int(len(ms) * 0.99)]:.1f} ms, slowest {', '.join(f'{x:.0f}' for x in ms[-5:])} ms")
        if args.restart:
            orch.terminate()
            orch.wait()
            again = subprocess.Popen(orchestrator, stdout=subprocess.DEVNULL, stderr=open(f"{work}/orchestrator2.log", "w"))
            procs.append(again)
            wait_port(port)
            time.sleep(3)
            print(f"  restarted on the same reports: RSS {rss_mib(again.pid):.0f} MiB, {len(api(port, 'GET', '/tests')[1])} tests listed")
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
