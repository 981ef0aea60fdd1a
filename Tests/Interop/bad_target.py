"""A misbehaving HTTP server for Stampede's hardening tests.

  bad_target.py MODE PORT [RCVBUF [ADDRESS]]

Modes: close-mid-response, garbage-status, huge-headers, endless-chunked, never-answers, reset,
slow-trickle, close-when-reused, answer-early,
close-after-head, answer-then-shut. Reads each request's head, then misbehaves as named. Prints
"ready" when listening.

close-when-reused answers a connection's first request (keep-alive) and closes the connection on
its second without answering: the stale keep-alive race, every time.

answer-early answers 413 as soon as a request's head is in and closes without reading the body (a
proxy refusing an upload); close-after-head closes without a word; answer-then-shut answers 413,
ends its side cleanly (FIN) and closes 50 ms later, so the half-closed client's next write fails
with EPIPE. Either way a client still
writing the body gets EPIPE or a reset.

RCVBUF: the listening socket's receive buffer in bytes (SO_RCVBUF, inherited by its connections):
a small one keeps a client's 1 MB body from fitting in loopback's buffers before the answer comes,
so the client is still writing when the connection closes. ADDRESS: where to listen (127.0.0.1).
"""
import asyncio
import socket
import struct
import sys

MODE, PORT = sys.argv[1], int(sys.argv[2])
RCVBUF = int(sys.argv[3]) if len(sys.argv) > 3 else None
ADDRESS = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"


async def handle(reader, writer):
    answered = 0
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                return
            if MODE == "answer-early":
                writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            if MODE == "close-after-head":
                return
            if MODE == "answer-then-shut":
                # 413, then a clean end of this side (FIN) while the client still writes its body,
                # then the close: the client, half-closed, meets a reset, and its next write
                # fails with EPIPE (the signal that killed a client writing with write(2)).
                writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                writer.get_extra_info("socket").shutdown(socket.SHUT_WR)
                await asyncio.sleep(0.05)
                writer.transport.abort()
                return
            if MODE == "close-when-reused":
                if answered:
                    return
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                answered += 1
            elif MODE == "close-mid-response":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it")
                await writer.drain()
                writer.close()
                return
            if MODE == "garbage-status":
                writer.write(b"HTTZ/9 okay\r\n\r\n")
            elif MODE == "huge-headers":
                writer.write(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n")
            elif MODE == "endless-chunked":
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
                while True:  # never ends; the client's timeout must
                    writer.write(chunk)
                    await writer.drain()
            elif MODE == "never-answers":
                await asyncio.sleep(3600)
            elif MODE == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            elif MODE == "slow-trickle":
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + b"y" * 40:
                    writer.write(bytes([b]))
                    await writer.drain()
                    await asyncio.sleep(0.05)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    if RCVBUF is None:
        server = await asyncio.start_server(handle, ADDRESS, PORT)
    else:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        listener.bind((ADDRESS, PORT))
        server = await asyncio.start_server(handle, sock=listener)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
