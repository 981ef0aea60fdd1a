"""Clients that misbehave against an HTTP server (the orchestrator's API), for the hardening tests.

  hostile_http.py close-early PORT PATH N       N times: ask for PATH and close before reading
  hostile_http.py pipeline PORT PATH N          N pipelined GETs of PATH on one connection, then close
  hostile_http.py never-read PORT PATH N SECS   N pipelined GETs of PATH, read nothing for SECS, close

Prints one JSON line: what was done (requests sent, bytes the server accepted before blocking).
"""
import json
import socket
import sys
import time

MODE, PORT, PATH, N = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
REQUEST = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def connect(small_buffer=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if small_buffer:  # the server's answer cannot all sit in the kernel: it is still writing at the close
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", PORT))
    return s


if MODE == "close-early":
    for _ in range(N):
        s = connect(small_buffer=True)
        s.sendall(REQUEST)
        s.close()
        time.sleep(0.2)
    print(json.dumps({"requests": N}))
elif MODE == "pipeline":
    s = connect()
    s.sendall(REQUEST * N)
    s.close()
    print(json.dumps({"requests": N}))
elif MODE == "never-read":
    s = connect()
    s.setblocking(False)
    data, sent, deadline = REQUEST * N, 0, time.time() + float(sys.argv[5])
    while time.time() < deadline:
        try:
            sent += s.send(data[sent:sent + 65536])
            if sent == len(data):
                break
        except BlockingIOError:
            time.sleep(0.01)
    while time.time() < deadline:
        time.sleep(0.05)
    s.close()
    print(json.dumps({"requests_sent": sent // len(REQUEST), "bytes_sent": sent}))
else:
    sys.exit(f"unknown mode {MODE}")
