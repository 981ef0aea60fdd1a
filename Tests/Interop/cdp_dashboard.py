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
import time
import urllib.request

import cdp

PROBE = """JSON.stringify({conn: document.getElementById('conn').textContent,
  responses: document.getElementById('responses').textContent, rps: document.getElementById('rps').textContent,
  p99: document.getElementById('p99').textContent, status: document.getElementById('status').textContent,
  drivers: document.querySelectorAll('#drivers tr').length, charts: typeof Chart !== 'undefined'})"""


def http(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


async def main():
    port, api, target, shot = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket)
        call = session.call

        async def probe():
            return await session.evaluate(PROBE) or {"conn": "", "status": ""}  # None while the page loads

        samples = []
        end = time.time() + 20
        while time.time() < end and (await probe())["conn"] != "live":
            await asyncio.sleep(0.2)
        http("POST", f"{api}/tests", {"test_id": "dash-1", "duration_s": 4, "connections": 2, "target": target})
        http("POST", f"{api}/trigger", {"test_id": "dash-1"})
        end = time.time() + 30
        while time.time() < end:
            s = await probe()
            samples.append(s)
            if s["status"].startswith("done"):
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(0.5)
        shot_data = await call("Page.captureScreenshot", {"format": "png"})
        with open(shot, "wb") as f:
            f.write(base64.b64decode(shot_data["data"]))
        report = http("GET", f"{api}/tests/dash-1")["report"]
        print(json.dumps({"samples": samples, "report": report}))


asyncio.run(main())
