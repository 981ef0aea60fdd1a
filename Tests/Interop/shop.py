"""A small website with a login, for Stampede's session tests.

  shop.py PORT LOG [STALL_AT_S STALL_MS]

POST /login sets a fresh session cookie (sid) and redirects to /account; GET /account needs a
valid sid and answers JSON with the session's CSRF token (gzip-encoded with ?gzip); POST /cart needs the sid and that token
in X-CSRF. Anything else is 404. Every request is logged to LOG as one line:
"METHOD PATH STATUS sid=SID|- csrf=TOKEN|-". HTTP/1.1 with keep-alive; prints "ready".
GET /hop/N redirects to /hop/N-1 (302, relative), /hop/0 answers 200.
For the browser (HAR import tests): GET /shop is an HTML page with the login form (fields user and
password, posted to /login, logged as "user=NAME set=SID" after the line's usual fields), and a JSON
API: POST /api/token {"user", "password"} answers {"access_token"}; POST /api/orders with
"Authorization: Bearer TOKEN" answers 201 {"order_id"}; GET /api/orders/ID with the same token
answers the order (404 for another user's). API lines end with "user=NAME" (the token's user, or -).
With STALL_AT_S and STALL_MS, STALL_AT_S seconds after the first request the whole site stalls
for STALL_MS ms: every request answered in that time waits for the stall's end (a pause such as
a garbage collector's), and the log says "STALL begin"/"STALL end".
"""
import gzip
import http.server
import json
import secrets
import sys
import threading
import time
import urllib.parse

PORT, LOG = int(sys.argv[1]), sys.argv[2]
STALL_AT, STALL_MS = (float(sys.argv[3]), float(sys.argv[4])) if len(sys.argv) > 4 else (None, 0)
stall = threading.Lock()
first_request = threading.Event()


def stall_once():
    first_request.wait()
    time.sleep(STALL_AT)
    with stall:
        log.write("STALL begin\n")
        time.sleep(STALL_MS / 1000)
        log.write("STALL end\n")
sessions = {}
tokens = {}
orders = {}
lock = threading.Lock()
SHOP_PAGE = b"""<!doctype html><html><head><title>Shop</title><link rel="stylesheet" href="/shop.css"></head><body>
<form method="post" action="/login"><input name="user" id="user"> <input name="password" id="password" type="password">
<button id="go" type="submit">Log in</button></form></body></html>"""
log = open(LOG, "a", buffering=1)


def cookie_sid(header):
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "sid":
            return value
    return None


class Shop(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per response (buffered, flushed after each request), without Nagle: otherwise
    # the head and the body go out apart and the body waits for a delayed ACK (~40 ms).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=(), extra=""):
        first_request.set()
        with stall:  # waits out a stall in progress
            pass
        sid = cookie_sid(self.headers.get("Cookie"))
        with lock:
            log.write(f"{self.command} {self.path} {status} sid={sid or '-'} csrf={self.headers.get('X-CSRF') or '-'}{extra}\n")
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path == "/login":
            sid, token = secrets.token_hex(8), secrets.token_hex(8)
            with lock:
                sessions[sid] = token
            user = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("user", ["-"])[0]
            # /login?nopath: the session cookie without a Path (its default path is "/"), and one
            # more for the account page only.
            cookies = [("Set-Cookie", f"sid={sid}; HttpOnly"), ("Set-Cookie", "seen=1; Path=/account")] \
                if "nopath" in self.path else [("Set-Cookie", f"sid={sid}; Path=/; HttpOnly")]
            self.answer(302, headers=[("Location", "/account")] + cookies, extra=f" user={user} set={sid}")
        elif path == "/api/token":
            try:
                user = json.loads(body)["user"]
            except (ValueError, KeyError, TypeError):
                return self.answer(400)
            token = "tok-" + secrets.token_hex(12)
            with lock:
                tokens[token] = user
            self.answer(200, json.dumps({"access_token": token, "user": user}).encode(), [("Content-Type", "application/json")],
                        extra=f" user={user}")
        elif path == "/api/orders":
            user = self.bearer_user()
            if user is None:
                return self.answer(401, extra=" user=-")
            order = "ord-" + secrets.token_hex(6)
            with lock:
                orders[order] = user
            self.answer(201, json.dumps({"order_id": order}).encode(), [("Content-Type", "application/json")], extra=f" user={user}")
        elif path == "/cart":
            sid = cookie_sid(self.headers.get("Cookie"))
            with lock:
                token = sessions.get(sid)
            ok = token is not None and self.headers.get("X-CSRF") == token
            self.answer(200 if ok else 403, b'{"added": true}' if ok else b"")
        else:
            self.answer(404)

    def bearer_user(self):
        auth = self.headers.get("Authorization") or ""
        with lock:
            return tokens.get(auth[7:]) if auth.startswith("Bearer ") else None

    def do_GET(self):
        if self.path == "/shop":
            self.answer(200, SHOP_PAGE, [("Content-Type", "text/html; charset=utf-8")])
        elif self.path == "/shop.css":
            self.answer(200, b"body { margin: 2em }", [("Content-Type", "text/css")])
        elif self.path.startswith("/api/orders/"):
            user = self.bearer_user()
            order = self.path[len("/api/orders/"):]
            with lock:
                owner = orders.get(order)
            if user is None or owner != user:
                return self.answer(401 if user is None else 404, extra=f" user={user or '-'}")
            self.answer(200, json.dumps({"order_id": order, "status": "placed"}).encode(), [("Content-Type", "application/json")],
                        extra=f" user={user}")
        elif self.path.startswith("/hop/"):
            n = int(self.path[5:] or 0)
            self.answer(302 if n > 0 else 200, headers=[("Location", str(n - 1))] if n > 0 else [])
        elif self.path.split("?")[0] == "/account":
            sid = cookie_sid(self.headers.get("Cookie"))
            with lock:
                token = sessions.get(sid)
            seen = any(p.strip() == "seen=1" for p in (self.headers.get("Cookie") or "").split(";"))
            if token is None or ("seen" in self.path and not seen):
                self.answer(401)
            elif "gzip" in self.path:
                body = gzip.compress(json.dumps({"user": sid, "csrf": token}).encode())
                self.answer(200, body, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
            else:
                self.answer(200, json.dumps({"user": sid, "csrf": token}).encode(), [("Content-Type", "application/json")])
        else:
            self.answer(404)


if STALL_AT is not None:
    threading.Thread(target=stall_once, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Shop)
server.daemon_threads = True
print("ready", flush=True)
server.serve_forever()
