"""Opens the dashboard in headless Chromium mid-test and reads its charts at once.

  cdp_late.py DEVTOOLS_PORT DASHBOARD_URL

Navigates to the dashboard (a test is already running), waits for the page to show "live", then
prints one JSON object read from the Chart.js instances: how many seconds the rate chart holds,
how many points the percentile chart holds, and the page's status.
"""
import asyncio
import json
import sys
import time
import urllib.request

import websockets

PROBE = """JSON.stringify({conn: document.getElementById('conn').textContent, status: document.getElementById('status').textContent,
  seconds: (charts.rateChart ? charts.rateChart.data.labels.length : -1),
  spectrum: (charts.spectrumChart ? charts.spectrumChart.data.datasets[0].data.length : -1),
  tension: (charts.latencyChart ? charts.latencyChart.data.datasets[0].tension : -1)})"""


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
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as cdp:
        counter = 0

        async def call(method, params=None):
            nonlocal counter
            counter += 1
            await cdp.send(json.dumps({"id": counter, "method": method, "params": params or {}}))
            while True:
                m = json.loads(await cdp.recv())
                if m.get("id") == counter:
                    return m.get("result", {})

        await call("Page.navigate", {"url": url})
        first = {}
        end = time.time() + 20
        while time.time() < end:
            r = await call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True})
            if "value" in r.get("result", {}):
                first = json.loads(r["result"]["value"])
                if first["conn"] == "live" and first["seconds"] > 0:
                    break
            await asyncio.sleep(0.1)
        print(json.dumps(first))


asyncio.run(main())
