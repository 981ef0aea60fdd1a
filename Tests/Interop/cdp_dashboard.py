"""Drives the dashboard in headless Chromium through the DevTools protocol during a real run.

  cdp_dashboard.py DEVTOOLS_PORT API_BASE TARGET_URL SCREENSHOT_PATH

Waits for the page to show "live", triggers a 4 s test through the API, samples the page's
numbers every 300 ms until it shows the test done, then prints one JSON object: the samples, the
API's report for the test, and whether the charts library loaded. Saves a screenshot.
"""
import asyncio
import base64
import json
import sys

import cdp
from cdp import api

PROBE = """JSON.stringify({conn: document.getElementById('conn').textContent,
  responses: document.getElementById('responses').textContent, rps: document.getElementById('rps').textContent,
  p99: document.getElementById('p99').textContent, status: document.getElementById('status').textContent,
  drivers: document.querySelectorAll('#drivers tr').length, charts: typeof Chart !== 'undefined',
  clocks: Array.from(document.querySelectorAll('#drivers td.clock')).map(c => c.textContent),
  names: Array.from(document.querySelectorAll('#names tr')).map(r => Array.from(r.cells).map(c => c.textContent)),
  kinds: document.getElementById('errorKinds').textContent})"""


async def main():
    port, base, target, shot = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket)
        call = session.call

        async def probe():
            return await session.evaluate(PROBE) or {"conn": "", "status": ""}  # None while the page loads

        await cdp.until(probe, lambda s: s["conn"] == "live", 20)
        # A mix: one name answers as expected, the other fails its check (it expects a 201).
        api("POST", f"{base}/tests", {"test_id": "dash-1", "duration_s": 4, "connections": 2,
                                      "requests": [{"name": "home", "url": target},
                                                   {"name": "missing", "url": target + "nosuch", "expect_status": [201]}]})
        api("POST", f"{base}/trigger", {"test_id": "dash-1"})
        samples = await cdp.samples_until_done(probe)
        await asyncio.sleep(0.5)
        shot_data = await call("Page.captureScreenshot", {"format": "png"})
        with open(shot, "wb") as f:
            f.write(base64.b64decode(shot_data["data"]))
        report = api("GET", f"{base}/tests/dash-1")["report"]
        print(json.dumps({"samples": samples, "report": report}))


asyncio.run(main())
