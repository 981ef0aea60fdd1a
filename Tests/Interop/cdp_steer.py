"""Steers a running test from the dashboard in headless Chromium (DevTools protocol).

  cdp_steer.py DEVTOOLS_PORT API_BASE TARGET_URL

Starts a 40 s tsunami at 100 req/s through the API, waits for the page's steering controls, sets
the rate to 300 and clicks apply, clicks pause, then resume, then stop, each once the page shows
the one before. Prints one JSON object: the controls the page offered, the changes it listed, and
the API's report.
"""
import asyncio
import json
import sys

import cdp
from cdp import api

STATUS = "JSON.stringify({conn: document.getElementById('conn').textContent, status: document.getElementById('status').textContent, " \
         "shown: !document.getElementById('steerSection').hidden, " \
         "fields: [...document.querySelectorAll('input.steerValue')].map(i => i.dataset.field + '=' + i.value), " \
         "changes: [...document.querySelectorAll('#changeList li')].map(li => li.textContent), " \
         "paused: document.getElementById('pausedMark').textContent, steer: document.getElementById('steerStatus').textContent})"


async def main():
    port, base, target = sys.argv[1], sys.argv[2], sys.argv[3]
    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket)

        async def probe():
            return await session.evaluate(STATUS) or {"conn": "", "status": "", "shown": False, "fields": [], "changes": [], "paused": ""}

        await cdp.until(probe, lambda s: s["conn"] == "live", 20)
        api("POST", f"{base}/tests", {"test_id": "steer-dash", "test_type": "TSUNAMI", "duration_s": 40, "connections": 4, "rate": 100,
                                      "target": target})
        api("POST", f"{base}/trigger", {"test_id": "steer-dash"})
        shown = await cdp.until(probe, lambda s: s["shown"] and s["fields"], 20)
        await asyncio.sleep(2)
        await session.evaluate("(() => { const i = document.querySelector('input.steerValue'); i.value = '300'; "
                               "document.querySelector('button.apply').click(); return 'true'; })()")
        await cdp.until(probe, lambda s: len(s["changes"]) >= 1, 10)
        await asyncio.sleep(2)
        await session.evaluate("document.getElementById('pauseButton').click(), 'true'")
        await cdp.until(probe, lambda s: s["paused"] == "(paused)", 10)
        await asyncio.sleep(2)
        await session.evaluate("document.getElementById('resumeButton').click(), 'true'")
        await cdp.until(probe, lambda s: len(s["changes"]) >= 3, 10)
        await asyncio.sleep(1)
        await session.evaluate("document.getElementById('stopButton').click(), 'true'")
        last = await cdp.until(probe, lambda s: s["status"].startswith("done"), 30)
        report = api("GET", f"{base}/tests/steer-dash").get("report", {})
        print(json.dumps({"fields": shown["fields"], "changes": last["changes"], "steer": last.get("steer"), "report": report}))


asyncio.run(main())
