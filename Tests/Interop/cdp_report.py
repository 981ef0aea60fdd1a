"""Opens a report.html from file:// in headless Chromium with every network request blocked.

  cdp_report.py DEVTOOLS_PORT FILE_URL

Prints one JSON object: console messages and exceptions, failed and blocked loads, how many
charts are visible with drawn data, and the page's text.
"""
import asyncio
import json
import sys
import time
import urllib.request

import websockets

PROBE = """JSON.stringify({
  charts: [...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 0
            && Number(s.dataset.points) > 0 && s.querySelector('polyline[points]')?.getAttribute('points').trim().length > 0).length,
  text: document.body.innerText})"""


async def main():
    port, url = sys.argv[1], sys.argv[2]
    deadline = time.time() + 20
    page = None
    while time.time() < deadline and page is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as r:
                page = next(t for t in json.loads(r.read()) if t["type"] == "page")
        except Exception:  # noqa: BLE001 - Chromium still starting
            await asyncio.sleep(0.2)
    problems, failed = [], []
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as cdp:
        counter = 0
        loaded = asyncio.Event()

        async def call(method, params=None):
            nonlocal counter
            counter += 1
            await cdp.send(json.dumps({"id": counter, "method": method, "params": params or {}}))
            while True:
                m = json.loads(await cdp.recv())
                if m.get("id") == counter:
                    return m.get("result", {})
                note(m)

        def note(m):
            method = m.get("method", "")
            if method == "Runtime.consoleAPICalled" and m["params"]["type"] in ("error", "warning"):
                problems.append(" ".join(str(a.get("value", a.get("description", ""))) for a in m["params"]["args"]))
            elif method == "Runtime.exceptionThrown":
                problems.append(m["params"]["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and m["params"]["entry"]["level"] == "error":
                problems.append(m["params"]["entry"]["text"])
            elif method == "Network.loadingFailed":
                failed.append(m["params"].get("errorText", "") + " " + m["params"].get("blockedReason", ""))
            elif method == "Page.loadEventFired":
                loaded.set()

        for domain in ("Runtime", "Log", "Network", "Page"):
            await call(f"{domain}.enable")
        await call("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
        await call("Page.navigate", {"url": url})
        end = time.time() + 20
        while not loaded.is_set() and time.time() < end:
            try:
                note(json.loads(await asyncio.wait_for(cdp.recv(), timeout=0.5)))
            except asyncio.TimeoutError:
                pass
        await asyncio.sleep(0.5)
        r = await call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True})
        probe = json.loads(r["result"]["value"])
        print(json.dumps({"problems": problems, "failed": failed, "loaded": loaded.is_set(), **probe}))


asyncio.run(main())
