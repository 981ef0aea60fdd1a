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
import urllib.request

import cdp

STATUS = "JSON.stringify({conn: document.getElementById('conn').textContent, status: document.getElementById('status').textContent, " \
         "stop: document.querySelector('button.stop[data-id=\"stop-dash\"]') !== null})"


def http(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


async def main():
    port, api, target = sys.argv[1], sys.argv[2], sys.argv[3]
    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket)

        async def probe():
            return await session.evaluate(STATUS) or {"conn": "", "status": "", "stop": False}

        end = time.time() + 20
        while time.time() < end and (await probe())["conn"] != "live":
            await asyncio.sleep(0.2)
        http("POST", f"{api}/tests", {"test_id": "stop-dash", "duration_s": 60, "connections": 2, "target": target})
        http("POST", f"{api}/trigger", {"test_id": "stop-dash"})
        end = time.time() + 20
        while time.time() < end and not (await probe())["stop"]:
            await asyncio.sleep(0.2)
        button = (await probe())["stop"]
        await asyncio.sleep(2)  # let it send for a while
        await session.evaluate("document.querySelector('button.stop[data-id=\"stop-dash\"]').click(), 'true'")
        clicked = time.time()
        end = clicked + 30
        while time.time() < end and not (await probe())["status"].startswith("done"):
            await asyncio.sleep(0.2)
        done_after = time.time() - clicked
        report = http("GET", f"{api}/tests/stop-dash").get("report", {})
        print(json.dumps({"button": button, "done_after_s": done_after, "report": report}))


asyncio.run(main())
