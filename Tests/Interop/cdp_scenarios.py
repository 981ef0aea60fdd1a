"""Drives the dashboard in headless Chromium during a real run of a test with scenarios.

  cdp_scenarios.py DEVTOOLS_PORT API_BASE TARGET_URL SCREENSHOT_PATH

Triggers a 4 s test of two scenarios (one following a redirect that never happens) through the
API, samples the page's scenario table, its per-name table and its charts every 300 ms until the
test is done, then prints one JSON object: the samples and the API's report. Saves a screenshot.
"""
import asyncio
import base64
import json
import sys

import cdp
from cdp import api

PROBE = """JSON.stringify({conn: document.getElementById('conn').textContent,
  status: document.getElementById('status').textContent,
  shown: !document.getElementById('scenarioSection').hidden,
  scenarios: Array.from(document.querySelectorAll('#scenarios tr')).map(r => Array.from(r.cells).map(c => c.textContent)),
  names: Array.from(document.querySelectorAll('#names tr')).map(r => r.cells[0].textContent),
  lines: typeof Chart !== 'undefined' ? Chart.getChart('scenarioChart').data.datasets.map(d => [d.label, d.data.filter(v => v != null).length]) : [],
  thresholds: Array.from(document.querySelectorAll('#thresholds tr')).map(r => Array.from(r.cells).map(c => c.textContent.trim())),
  sessionAxes: typeof Chart !== 'undefined' ? Chart.getChart('sessionChart').data.datasets.map(d => d.yAxisID) : []})"""


async def main():
    port, base, target, shot = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket)

        async def probe():
            return await session.evaluate(PROBE) or {"conn": "", "status": ""}

        await cdp.until(probe, lambda s: s["conn"] == "live", 20)
        api("POST", f"{base}/tests", {"test_id": "dash-sc", "scenarios": {
            "home": {"requests": [{"name": "home", "url": target}], "follow_redirects": 1, "duration_s": 4, "connections": 2,
                     "thresholds": {"p99_ms": 10000}},
            "api": {"target": target + "api", "test_type": "TSUNAMI", "rate": 50, "duration_s": 2, "start_after_s": 1, "connections": 1,
                    "thresholds": {"max_ms": 0.001}}},
            "thresholds": {"error_rate": 0}})
        api("POST", f"{base}/trigger", {"test_id": "dash-sc"})
        samples = await cdp.samples_until_done(probe)
        await asyncio.sleep(0.5)
        samples.append(await probe())
        shot_data = await session.call("Page.captureScreenshot", {"format": "png"})
        with open(shot, "wb") as f:
            f.write(base64.b64decode(shot_data["data"]))
        report = api("GET", f"{base}/tests/dash-sc")["report"]
        print(json.dumps({"samples": samples, "report": report}))


asyncio.run(main())
