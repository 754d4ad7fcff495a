"""Loopback servers speaking the providers' APIs (CPython only): GridX, OpenADR 3 VTN, Enertalk.

Each API is an object with HOSTS and handle(req) -> (status, headers dict, body bytes), req being
a host_sim.price_server.Request-like object (method, path, query dict, headers with lower-case
names, body bytes, now_s, feed). The simulator mounts them through price_server.make_api
(`make(series, zone, feed)` in host_sim/apis/gridx.py and openadr3.py). Prices come from a
callable `prices(t0_s, t1_s, now_s) -> iterable of (start_s, end_s, price_u)`: the simulator
passes Feed.window (real series, publication time honoured); tests pass a fixture's prices.

For tests, LoopbackServer serves API objects on 127.0.0.1 with one independent API object per
*session*: a path `/s/<sid>/<api path>` goes to session <sid>'s object (created on first use by
the factory), so concurrent tests (pytest, several MicroPython processes) never share state.
Per session, besides the API itself:
    GET  /s/<sid>/_requests         JSON list of the recorded API requests
                                    {method, path, query (raw), args {k: [v..]}, headers, body}
    GET  /s/<sid>/_ctl?k=v&...      API-specific control (fail modes, token expiry, ...), see
                                    each API's control(); answers {"ok": true}
    POST /s/<sid>/_ctl/<name>       control with a JSON body (e.g. replace the event list)
    GET  /s/<sid>/_canned?f=<fixture path>&st=<status>[&n=<count>]
                                    the next <count> API requests get that fixture verbatim
"""

import base64
import json
import os
import secrets
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, parse_qsl, urlsplit

JSON = {"Content-Type": "application/json"}
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "fixtures")


def jbody(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def basic_credentials(headers):
    """(user, password) from an Authorization: Basic header, or None."""
    auth = headers.get("authorization", "")
    if not auth.startswith("Basic "):
        return None
    try:
        user, sep, pw = base64.b64decode(auth[6:]).decode().partition(":")
    except (ValueError, UnicodeError):
        return None
    return (user, pw) if sep else None


class Tokens:
    """Bearer tokens issued by a token endpoint, each with an expiry (server time)."""

    def __init__(self, ttl_s=3600):
        self.ttl_s = ttl_s
        self.live = {}  # token -> expiry_s
        self.issued = 0

    def issue(self, now_s):
        tok = "tok-%d-%s" % (self.issued + 1, secrets.token_hex(8))
        self.issued += 1
        self.live[tok] = now_s + self.ttl_s
        return tok

    def check(self, headers, now_s):
        """None if the Bearer token is good, else the reason."""
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return "missing bearer token"
        exp = self.live.get(auth[7:].strip())
        if exp is None:
            return "unknown token"
        if now_s >= exp:
            return "token expired"
        return None

    def expire_all(self):
        for k in self.live:
            self.live[k] = 0


class Failures:
    """Queued fault modes: the next `count` matching requests fail with `mode`."""

    def __init__(self):
        self.queue = []  # [mode, count, path_substring]

    def add(self, mode, count=1, path=""):
        self.queue.append([mode, count, path])

    def take(self, path):
        for f in self.queue:
            if f[2] in path:
                f[1] -= 1
                if f[1] <= 0:
                    self.queue.remove(f)
                return f[0]
        return None


def common_controls(api, q):
    """The control-query keys every token-issuing API server shares: queue a failure
    (fail, count, path), expire every token (expire), set the token lifetime (ttl)."""
    if "fail" in q:
        api.fail.add(q["fail"], int(q.get("count", 1)), q.get("path", ""))
    if q.get("expire"):
        api.tokens.expire_all()
    if "ttl" in q:
        api.tokens.ttl_s = int(q["ttl"])


class WallRequest:
    __slots__ = ("method", "path", "query", "headers", "body", "now_s", "feed", "raw_query",
                 "prefix")

    def __init__(self, method, path, raw_query, headers, body, now_s):
        self.method = method
        self.path = path
        self.raw_query = raw_query
        self.query = dict(parse_qsl(raw_query, keep_blank_values=True))
        self.headers = headers
        self.body = body
        self.now_s = now_s
        self.feed = None
        self.prefix = ""  # "/s/<sid>": a URL the API hands out (a next page) keeps its session


class _Session:
    def __init__(self, api):
        self.api = api
        self.requests = []
        self.canned = []  # [status, body, count]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WattWindowApis/1"

    def log_message(self, fmt, *args):
        pass

    def _go(self):
        srv = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = u.path
        sid = "default"
        if path.startswith("/s/"):
            sid, _, rest = path[3:].partition("/")
            path = "/" + rest
        sess = srv.session(sid)
        status, hdr, out = 404, JSON, b'{"error":"not found"}'
        close = False
        with srv.lock:
            if path == "/_requests":
                status, out = 200, jbody(sess.requests)
            elif path == "/_canned":
                q = dict(parse_qsl(u.query))
                with open(os.path.join(FIXTURES, q["f"]), "rb") as f:
                    sess.canned.append([int(q.get("st", 200)), f.read(), int(q.get("n", 1))])
                status, out = 200, b'{"ok":true}'
            elif path.startswith("/_ctl"):
                name = path[6:]
                arg = json.loads(body) if body else None
                sess.api.control(name, dict(parse_qsl(u.query)), arg)
                status, out = 200, b'{"ok":true}'
            else:
                sess.requests.append({
                    "method": self.command, "path": path, "query": u.query,
                    "args": parse_qs(u.query, keep_blank_values=True), "headers": headers,
                    "body": body.decode("utf-8", "replace")})
                if sess.canned:
                    c = sess.canned[0]
                    status, out = c[0], c[1]
                    c[2] -= 1
                    if c[2] <= 0:
                        sess.canned.pop(0)
                else:
                    req = WallRequest(self.command, path, u.query, headers, body,
                                      int(srv.clock()))
                    req.prefix = u.path[:len(u.path) - len(path)]
                    status, hdr, out = sess.api.handle(req)
                    close = hdr.pop("X-Close", None) is not None
        self.send_response(status)
        for k, v in hdr.items():
            self.send_header(k, v)
        if status != 204 or out:
            self.send_header("Content-Length", str(len(out)))
        if close or status == 204:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if out and self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _go


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class LoopbackServer:
    """Serve factory() API objects per session on 127.0.0.1:<port> (0: any free port)."""

    def __init__(self, factory, port=0, clock=time.time):
        self.factory = factory
        self.clock = clock
        self.lock = threading.Lock()
        self.sessions = {}
        self._srv = _TCPServer(("127.0.0.1", port), _Handler)
        self._srv.owner = self
        self.port = self._srv.server_address[1]
        self._thread = None

    def session(self, sid):
        with self.lock:
            s = self.sessions.get(sid)
            if s is None:
                s = self.sessions[sid] = _Session(self.factory())
            return s

    def url(self, sid="default"):
        return "http://127.0.0.1:%d/s/%s" % (self.port, sid)

    def start(self):
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def shutdown(self):
        self._srv.shutdown()
        self._srv.server_close()

    stop = shutdown
