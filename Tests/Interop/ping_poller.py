"""Polls an HTTP server's /ping every 10 ms on one keep-alive connection, as a health check would,
until SECONDS pass or stdin closes; prints one JSON line: every poll's time in milliseconds, and
when each poll over 100 ms started (Unix seconds), to line it up with the server's log.

  ping_poller.py PORT SECONDS
"""
import http.client
import json
import select
import sys
import time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
times, slow, failures, end = [], [], 0, time.time() + seconds
while time.time() < end:
    started = time.time()
    try:
        conn.request("GET", "/ping")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            failures += 1
    except OSError:
        failures += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times.append((time.time() - started) * 1000)
    if times[-1] > 100:
        slow.append([round(started, 3), round(times[-1], 1)])
    if select.select([sys.stdin], [], [], 0.01)[0] and not sys.stdin.read(1):
        break  # stdin closed: the test is over
print(json.dumps({"ms": times, "slow": slow, "failures": failures}))
