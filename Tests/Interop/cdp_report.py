"""Opens a report.html from file:// in headless Chromium with every network request blocked.

  cdp_report.py DEVTOOLS_PORT FILE_URL

Prints one JSON object: console messages and exceptions, failed and blocked loads, how many
charts are visible with drawn data, and the page's text.
"""
import asyncio
import json
import sys
import time

import cdp

PROBE = """JSON.stringify({
  charts: [...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 0
            && Number(s.dataset.points) > 0 && s.querySelector('polyline[points]')?.getAttribute('points').trim().length > 0).length,
  text: document.body.innerText})"""


async def main():
    port, url = sys.argv[1], sys.argv[2]
    problems, failed = [], []
    loaded = asyncio.Event()

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

    async with await cdp.connect(port) as socket:
        session = cdp.Session(socket, note)
        for domain in ("Runtime", "Log", "Network", "Page"):
            await session.call(f"{domain}.enable")
        await session.call("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
        await session.call("Page.navigate", {"url": url})
        end = time.time() + 20
        while not loaded.is_set() and time.time() < end:
            try:
                note(json.loads(await asyncio.wait_for(socket.recv(), timeout=0.5)))
            except asyncio.TimeoutError:
                pass
        await asyncio.sleep(0.5)
        probe = await session.evaluate(PROBE) or {}
        print(json.dumps({"problems": problems, "failed": failed, "loaded": loaded.is_set(), **probe}))


asyncio.run(main())
