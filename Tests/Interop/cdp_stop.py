"""Stops a running test from the dashboard in headless Chromium (DevTools protocol).

  cdp_stop.py DEVTOOLS_PORT API_BASE TARGET_URL

Waits for the page to show "live", starts a 60 s test through the API, waits until the page shows
its stop button, clicks it, and waits for the page to show the test done. Prints one JSON object:
whether the button was there, seconds from the click to "done" on the page, and the API's report.
"""
import asyncio
import json
import sys
import time

import cdp
from cdp import api

STATUS = "JSON.stringify({conn: document.getElementById('conn').textContent, status: document.getElementById('status').textContent, " \
         "stop: document.querySelector('button.stop[data-id=\"stop-dash\"]') !== null})"


async def main():
    port, base, target = sys.argv[1], sys.argv[2], sys.argv[3]
    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket)

        async def probe():
            return await session.evaluate(STATUS) or {"conn": "", "status": "", "stop": False}

        await cdp.until(probe, lambda s: s["conn"] == "live", 20)
        api("POST", f"{base}/tests", {"test_id": "stop-dash", "duration_s": 60, "connections": 2, "target": target})
        api("POST", f"{base}/trigger", {"test_id": "stop-dash"})
        button = (await cdp.until(probe, lambda s: s["stop"], 20))["stop"]
        await asyncio.sleep(2)  # let it send for a while
        await session.evaluate("document.querySelector('button.stop[data-id=\"stop-dash\"]').click(), 'true'")
        clicked = time.time()
        await cdp.until(probe, lambda s: s["status"].startswith("done"), 30)
        done_after = time.time() - clicked
        report = api("GET", f"{base}/tests/stop-dash").get("report", {})
        print(json.dumps({"button": button, "done_after_s": done_after, "report": report}))


asyncio.run(main())
