"""Opens the dashboard in headless Chromium mid-test and reads its charts at once.

  cdp_late.py DEVTOOLS_PORT DASHBOARD_URL

Navigates to the dashboard (a test is already running), waits for the page to show "live", then
prints one JSON object read from the Chart.js instances: how many seconds the rate chart holds,
how many points the percentile chart holds, the lines' smoothing, and the page's status.
"""
import asyncio
import json
import sys
import time

import cdp

PROBE = """JSON.stringify({conn: document.getElementById('conn').textContent, status: document.getElementById('status').textContent,
  seconds: (charts.rateChart ? charts.rateChart.data.labels.length : -1),
  spectrum: (charts.spectrumChart ? charts.spectrumChart.data.datasets[0].data.length : -1),
  tension: (charts.latencyChart ? charts.latencyChart.data.datasets[0].tension : -1)})"""


async def main():
    port, url = sys.argv[1], sys.argv[2]
    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket)
        await session.call("Page.navigate", {"url": url})
        first = {}
        end = time.time() + 20
        while time.time() < end:
            first = await session.evaluate(PROBE) or {}
            if first.get("conn") == "live" and first.get("seconds", 0) > 0:
                break
            await asyncio.sleep(0.1)
        print(json.dumps(first))


asyncio.run(main())
