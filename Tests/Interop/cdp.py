"""A small client of Chromium's DevTools protocol for the browser tests (cdp_*.py)."""
import asyncio
import json
import time
import urllib.request

import websockets


async def page_socket(port, seconds=20):
    """The first page target's DevTools WebSocket URL, once Chromium answers."""
    deadline = time.time() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as r:
                return next(t for t in json.loads(r.read()) if t["type"] == "page")["webSocketDebuggerUrl"]
        except Exception:  # noqa: BLE001 - Chromium still starting
            if time.time() > deadline:
                raise
            await asyncio.sleep(0.2)


class Session:
    """Calls methods one at a time; events that arrive meanwhile go to `on_event`."""

    def __init__(self, socket, on_event=lambda message: None):
        self.socket = socket
        self.on_event = on_event
        self.counter = 0

    async def call(self, method, params=None):
        self.counter += 1
        await self.socket.send(json.dumps({"id": self.counter, "method": method, "params": params or {}}))
        while True:
            message = json.loads(await self.socket.recv())
            if message.get("id") == self.counter:
                return message.get("result", {})
            self.on_event(message)

    async def evaluate(self, expression):
        """The JSON value of `expression` (a JSON.stringify(...) string), or None while the page loads."""
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        value = result.get("result", {}).get("value")
        return json.loads(value) if value is not None else None


async def connect(port):
    return await websockets.connect(await page_socket(port), max_size=None)


def api(method, url, body=None):
    """A JSON call to the orchestrator's REST API; its answer decoded."""
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


async def until(probe, done, seconds, step=0.2):
    """Awaits `probe()` until `done(value)` holds or `seconds` pass; returns the last value."""
    end = time.time() + seconds
    value = await probe()
    while not done(value) and time.time() < end:
        await asyncio.sleep(step)
        value = await probe()
    return value


async def samples_until_done(probe, seconds=30, step=0.3):
    """Every `probe()` value, `step` apart, until one shows the test done (its `status` starts
    with "done") or `seconds` pass."""
    samples = []
    end = time.time() + seconds
    while time.time() < end:
        s = await probe()
        samples.append(s)
        if s["status"].startswith("done"):
            break
        await asyncio.sleep(step)
    return samples
