"""A target that thinks before its first byte: each request's head is read, then the answer
(headers and a small body, in one write) goes out WAIT_MS later. Waiting (time to first byte)
is then about WAIT_MS and receiving about nothing.

  think_then_answer.py PORT WAIT_MS
"""
import asyncio
import sys

PORT, WAIT = int(sys.argv[1]), int(sys.argv[2]) / 1000
BODY = b"thought about it\n"


async def handle(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(WAIT)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
