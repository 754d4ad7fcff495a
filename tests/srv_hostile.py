"""A hostile (or careless) HTTP server on loopback for tests/test_hostile*.py (CPython side).

start() returns WW_HOSTILE_PORT and WW_HOSTILE_TLS_PORT (the same answers over TLS, with
srv_fixture's "localhost" certificate from its test CA, WW_CA_DER). Every request path names
what the server does:

  /a/<opts>/...   a Smart Price answer (Arcadia envelope, 200, Content-Length) generated here:
        n=<k>          k priceChanges (default 4), step=<s> seconds each (default 3600),
        t0=<epoch>     start of the first one (default 2025-07-15T16:00:00Z)
        rate=<text>    rateAmount of entry `at` (default 0) written as this JSON literal
        mean=<text>    rateMean literal (default 0.1)
        extra=<from>~<to>   one more entry with these fromDateTime/toDateTime texts
        only           the answer holds only the extra entry
  /r/<mode>[=<arg>]/...   raw HTTP misbehaviour (timings in seconds; every trickle stops after
        TRICKLE_MAX_S and then closes, so a client without a total deadline fails slowly, not
        forever):
        status-trickle=<gap>   the status line one byte every <gap> s, never ending
        body-trickle=<gap>     a valid head, then the body one byte every <gap> s
        info-loop=<gap>        "HTTP/1.1 100 Continue" responses, one every <gap> s, forever
        repeat=<n>             n header lines "X-Rep: ..." (the same name), then a small body
        fold=<n>               one header and n obs-fold continuation lines
        longlines=<n>          n header lines each longer than any client buffer (2 KB)
        trailers=<n>           a chunked body, then n trailer lines
        te=<coding>            Transfer-Encoding: <coding> (%-encoded: gzip%2C%20chunked) over
                               a gzip-compressed JSON body, no Content-Length
        big-error=<status>     that status, Retry-After: 120, a 64 KB non-JSON body
        clen=<text>            Content-Length: <text> (%-encoded UTF-8, e.g. Arabic digits)
        retry=<text>           503 with Retry-After: <text> (%-encoded UTF-8)
        location=<text>        302 with Location: <text> (%-encoded: CR, LF, NUL, spaces)
        token=<text>           an OAuth token answer whose access_token is <text>
Every connection is closed after its answer; stop() ends the trickles at once.
"""

import gzip
import json
import os
import socket
import ssl
import threading
import time
from urllib.parse import unquote

TRICKLE_MAX_S = 10.0
T0_DEFAULT = 1752595200  # 2025-07-15T16:00:00Z

_running = []


def _iso(t):
    tm = time.gmtime(t)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % tm[:6]


def _opts(s):
    out = {}
    for part in s.split(","):
        k, eq, v = part.partition("=")
        if k:
            out[k] = unquote(v) if eq else ""
    return out


def arcadia_body(o):
    """The generated Smart Price document (bytes) for options `o` (see the module doc)."""
    n = int(o.get("n") or 4)
    step = int(o.get("step") or 3600)
    t0 = int(o.get("t0") or T0_DEFAULT)
    at = int(o.get("at") or 0)
    changes = []
    if "only" not in o:
        for i in range(n):
            rate = o["rate"] if ("rate" in o and i == at) else "0.%06d" % (100000 + i % 97 * 1000)
            changes.append('{"name":"p%d","fromDateTime":"%s","toDateTime":"%s",'
                           '"rateAmount":%s}' % (i % 3, _iso(t0 + i * step),
                                                 _iso(t0 + (i + 1) * step), rate))
    if "extra" in o:
        a, _, b = o["extra"].partition("~")
        changes.append('{"name":"open","fromDateTime":"%s","toDateTime":"%s",'
                       '"rateAmount":0.05}' % (a, b))
    return ('{"status":"success","count":1,"type":"Price","results":[{"description":"hostile",'
            '"masterTariffId":3498765,"currency":"USD","detailLevel":"TOTAL","rateMean":%s,'
            '"rateStandardDeviation":0.01,"priceChanges":[%s]}]}'
            % (o.get("mean") or "0.1", ",".join(changes))).encode()


class _Conn:
    def __init__(self, sock, server):
        self.sock = sock
        self.server = server

    def send(self, data):
        self.sock.sendall(data)

    def trickle(self, data_iter, gap):
        """Send the pieces `gap` s apart until TRICKLE_MAX_S, the client leaves, or stop()."""
        t_end = time.monotonic() + TRICKLE_MAX_S
        for piece in data_iter:
            if self.server.stopping or time.monotonic() > t_end:
                return
            self.sock.sendall(piece)
            time.sleep(gap)


def _head(status, headers, reason="X"):
    lines = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _forever(piece):
    while True:
        yield piece


def _raw(c, mode, arg):
    ok_body = b'{"ok":true}'
    plain = [("Content-Type", "application/json"), ("Connection", "close")]
    if mode == "status-trickle":
        line = b"HTTP/1.1 200 " + b"x" * 100000
        c.trickle((line[i:i + 1] for i in range(len(line))), float(arg))
        return
    if mode == "body-trickle":
        c.send(_head(200, plain + [("Content-Length", "100000")]))
        c.trickle(_forever(b" "), float(arg))
        return
    if mode == "info-loop":
        c.trickle(_forever(b"HTTP/1.1 100 Continue\r\n\r\n"), float(arg))
        return
    if mode in ("repeat", "fold", "longlines"):
        n = int(arg)
        out = [b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"]
        if mode == "repeat":
            out.append(b"X-Rep: " + b"r" * 40 + b"\r\n")
            line = b"X-Rep: " + b"r" * 40 + b"\r\n"
        elif mode == "fold":
            out.append(b"X-Fold: start\r\n")
            line = b" " + b"f" * 40 + b"\r\n"
        else:
            line = b"X-Long: " + b"l" * 2048 + b"\r\n"
        c.send(b"".join(out))
        block = line * 100
        for _ in range(n // 100):
            c.send(block)
        c.send(line * (n % 100))
        c.send(b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(ok_body), ok_body))
        return
    if mode == "trailers":
        c.send(_head(200, plain + [("Transfer-Encoding", "chunked")]))
        c.send(b"%x\r\n%s\r\n0\r\n" % (len(ok_body), ok_body))
        line = b"X-Trailer: " + b"t" * 40 + b"\r\n"
        n = int(arg)
        for _ in range(n // 100):
            c.send(line * 100)
        c.send(line * (n % 100) + b"\r\n")
        return
    if mode == "te":
        body = gzip.compress(ok_body, mtime=0)
        if "chunked" in arg:
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        c.send(_head(200, plain + [("Transfer-Encoding", arg)]) + body)
        return
    if mode == "big-error":
        body = b"overloaded " * 6000
        c.send(_head(int(arg), plain + [("Retry-After", "120"),
                                        ("Content-Length", str(len(body)))]) + body)
        return
    if mode == "clen":
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: " + arg.encode() +
               b"\r\nConnection: close\r\n\r\n" + ok_body)
        return
    if mode == "retry":
        c.send(b"HTTP/1.1 503 Busy\r\nRetry-After: " + arg.encode() +
               b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
    if mode == "token":
        body = json.dumps({"access_token": arg, "token_type": "Bearer",
                           "expires_in": 3600}).encode()
        c.send(_head(200, plain + [("Content-Length", str(len(body)))]) + body)
        return
    if mode == "location":
        c.send(b"HTTP/1.1 302 Found\r\nLocation: " + arg.encode() +
               b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
    c.send(_head(404, plain + [("Content-Length", "0")]))


def _read_request(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    line = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    return line[1] if len(line) == 3 else None


class _Server:
    def __init__(self, ctx=None):
        self.ctx = ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True, name="srv_hostile")
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, sock):
        try:
            sock.settimeout(30)
            if self.ctx is not None:
                sock = self.ctx.wrap_socket(sock, server_side=True)
            target = _read_request(sock)
            if target is None:
                return
            path = target.partition("?")[0]
            parts = path.split("/")
            c = _Conn(sock, self)
            if len(parts) > 2 and parts[1] == "a":
                body = arcadia_body(_opts(parts[2]))
                c.send(_head(200, [("Content-Type", "application/json"),
                                   ("Content-Length", str(len(body))),
                                   ("Connection", "close")], "OK") + body)
            elif len(parts) > 2 and parts[1] == "r":
                mode, _, arg = parts[2].partition("=")
                _raw(c, mode, unquote(arg))
            else:
                c.send(_head(404, [("Content-Length", "0"), ("Connection", "close")]))
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        except (OSError, ValueError):
            pass  # the client left (the point of most of these answers)
        finally:
            sock.close()

    def shutdown(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)


def _fixture_tls():
    """srv_fixture's TLS context for "localhost" (started before this module: name order)."""
    import srv_fixture

    for r in srv_fixture._running:
        path = getattr(r, "path", None)
        if path and os.path.isfile(os.path.join(path, "good.pem")):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(path, "good.pem"), os.path.join(path, "good.key"))
            return ctx
    raise RuntimeError("srv_hostile: srv_fixture's certificates not found")


def start():
    s, t = _Server(), _Server(_fixture_tls())
    _running.extend((s, t))
    return {"WW_HOSTILE_PORT": str(s.port), "WW_HOSTILE_TLS_PORT": str(t.port)}


def stop():
    while _running:
        _running.pop().shutdown()


if __name__ == "__main__":  # manual use
    print(json.dumps(start()))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop()
