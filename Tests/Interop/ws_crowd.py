"""Many WebSocket clients at once against the orchestrator's /ws, plus one that never reads.

  ws_crowd.py URL CLIENTS SECONDS TEST_ID

Prints one JSON object: how many connected, got the snapshot, got intervals and the final for
TEST_ID, and the spread of arrival times of each interval message across clients (how far the
slowest client lagged the fastest).
"""
import asyncio
import json
import socket
import sys
import time

import websockets


def silent_client(host, port):
    """Completes the handshake, then never reads and never answers a ping."""
    s = socket.create_connection((host, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    return s


async def client(url, seconds, test_id, arrivals, state):
    try:
        async with websockets.connect(url, open_timeout=20, max_size=None, ping_interval=None) as ws:
            state["connected"] += 1
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=max(0.05, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    return
                now = time.monotonic()
                m = json.loads(raw)
                if m["type"] == "snapshot":
                    state["snapshot"] += 1
                elif m["type"] == "interval" and m["test_id"] == test_id:
                    arrivals.setdefault(m["t"], []).append(now)
                elif m["type"] == "final" and m["test_id"] == test_id:
                    state["final"] += 1
                    return
    except Exception as e:  # noqa: BLE001 - report, don't crash the crowd
        state["errors"].append(str(e))


async def main():
    url, n, seconds, test_id = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    host, port = url.split("//")[1].split("/")[0].split(":")
    silent = silent_client(host, int(port))
    arrivals, state = {}, {"connected": 0, "snapshot": 0, "final": 0, "errors": []}
    await asyncio.gather(*(client(url, seconds, test_id, arrivals, state) for _ in range(n)))
    spreads = sorted(max(v) - min(v) for v in arrivals.values() if len(v) > 1)
    per_second = [len(v) for _, v in sorted(arrivals.items())]
    silent.close()
    print(json.dumps({**state, "errors": state["errors"][:5], "seconds": len(arrivals), "receivers_per_second": per_second,
                      "max_spread_s": spreads[-1] if spreads else None}))


asyncio.run(main())
