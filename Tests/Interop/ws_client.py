"""A real WebSocket client (the `websockets` package) for Stampede's tests.

  ws_client.py URL SECONDS [--until-final TEST_ID] [--origin ORIGIN]

Prints every text message received, one JSON document per line, and stops after SECONDS or once a
"final" message for TEST_ID has arrived. Exits 3 if the handshake is refused.
"""
import asyncio
import sys

import websockets


async def main():
    url, seconds = sys.argv[1], float(sys.argv[2])
    until = sys.argv[sys.argv.index("--until-final") + 1] if "--until-final" in sys.argv else None
    origin = sys.argv[sys.argv.index("--origin") + 1] if "--origin" in sys.argv else None
    try:
        async with websockets.connect(url, origin=origin, open_timeout=10) as ws:
            print("CONNECTED", flush=True)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            while loop.time() < deadline:
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=max(0.05, deadline - loop.time()))
                except asyncio.TimeoutError:
                    break
                print(message, flush=True)
                if until and '"type":"final"' in message and f'"test_id":"{until}"' in message:
                    break
    except websockets.exceptions.ConnectionClosed as e:
        print(f"CLOSED {e.rcvd.code if e.rcvd else 'none'}", flush=True)
    except websockets.exceptions.InvalidStatus as e:
        print(f"REFUSED {e.response.status_code}", flush=True)
        sys.exit(3)


asyncio.run(main())
