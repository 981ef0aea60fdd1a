"""Misbehaving WebSocket clients against the orchestrator's /ws, over raw sockets.

  ws_abuse.py HOST PORT

For each case: handshake, send the bad bytes, read frames until the server's close frame; prints
one JSON object mapping case -> close code (or an error string).
"""
import json
import socket
import struct
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
MASK = b"\x01\x02\x03\x04"


def frame(opcode, payload, fin=True, masked=True, declared=None):
    n = len(payload) if declared is None else declared
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if masked:
        head += MASK
        payload = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return head + payload


CASES = {
    "unmasked": frame(1, b"hi", masked=False),
    "bad-utf8": frame(1, b"\xc3\x28"),
    "oversized-frame": frame(2, b"", declared=200_000),
    "fragmented-ping": frame(9, b"p", fin=False),
    "invalid-close-code": frame(8, struct.pack(">H", 1005)),
    "reserved-opcode": frame(3, b""),
}


def close_code(bad):
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    data = data.split(b"\r\n\r\n", 1)[1]
    s.sendall(bad)
    while True:
        while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F if data[1] & 0x7F < 126 else 0):
            chunk = s.recv(65536)
            if not chunk:
                return "closed without a close frame"
            data += chunk
        opcode, n = data[0] & 0x0F, data[1] & 0x7F
        offset = 2
        if n == 126:
            while len(data) < 4:
                data += s.recv(65536)
            n, offset = struct.unpack(">H", data[2:4])[0], 4
        while len(data) < offset + n:
            data += s.recv(65536)
        payload, data = data[offset:offset + n], data[offset + n:]
        if opcode == 8:
            return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else "close without code"


print(json.dumps({name: close_code(bad) for name, bad in CASES.items()}))
