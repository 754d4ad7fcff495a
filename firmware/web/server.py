"""A small HTTP/1.1 server on asyncio for the plug's page and API (both runtimes).

    srv = Server(handle, max_conn=2, log=None, req_ms=REQ_MS)  # async handle(req, resp)
    await srv.start(host, port)         # asyncio.start_server; srv.close() stops it

Bounded, because it shares the loop with the relay: at most `max_conn` requests at once (up
to `max_conn` more wait WAIT_MS for a slot, then get 503 and a close; others at once), each
within HEAD_MAX bytes of request line and headers (MAX_HEADERS lines, each within one LINE_MAX
buffer; else 431), BODY_MAX bytes of body (else 413) and REQ_MS of wall time (else 408).
Garbage gets 400, other methods 405.
Every answer closes the connection (no keep-alive: a slot is never held by an idle client).
Reads go through one preallocated buffer per slot; only the headers the routes use are kept.

    req.method, req.path, req.query (str), req.body (bytes), req.header(name) -> str or None
    await resp.send(status, ctype, body, headers=())   body: str, bytes or memoryview
    await resp.json(status, obj)
    await resp.start(status, ctype); await resp.write(text)   a body streamed until the close
"""

import asyncio
import json

from ..compat import const, ticks_add, ticks_diff, ticks_ms

HEAD_MAX = const(2048)
LINE_MAX = const(512)
MAX_HEADERS = const(40)
BODY_MAX = const(1024)
REQ_MS = const(5000)
SEND_MS = const(10000)
CHUNK = const(512)
WAIT_MS = const(500)
# the request headers the routes read; every other header is counted and dropped
KEPT = ("host", "origin", "sec-fetch-site", "content-type", "content-length",
        "x-ww-password", "accept-encoding")
REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 413: "Content Too Large", 415: "Unsupported Media Type",
           429: "Too Many Requests",
           431: "Request Header Fields Too Large", 500: "Internal Server Error",
           503: "Service Unavailable"}


class HttpError(Exception):
    def __init__(self, status, msg=""):
        super().__init__(status, msg)
        self.status = status
        self.msg = msg or REASONS.get(status, "")


class _Closed(Exception):
    """The client went away (EOF) before a whole request."""


async def _within(coro, deadline_ms, status=408):
    left = ticks_diff(deadline_ms, ticks_ms())
    if left <= 0:
        raise HttpError(status)
    try:
        return await asyncio.wait_for(coro, left / 1000)
    except asyncio.TimeoutError:  # noqa: UP041 - MicroPython's own class
        raise HttpError(status)


class Request:
    def __init__(self):
        self.method = self.path = self.query = ""
        self.body = b""
        self._h = {}

    def header(self, name):
        return self._h.get(name)


class _Slot:
    """One connection's buffer and reader: lines from [lo, hi) of buf."""

    def __init__(self):
        self.buf = bytearray(LINE_MAX)
        self.lo = self.hi = 0
        self.stream = None

    async def _fill(self, deadline):
        if self.lo:
            n = self.hi - self.lo
            self.buf[:n] = self.buf[self.lo:self.hi]
            self.lo, self.hi = 0, n
        room = LINE_MAX - self.hi
        if room <= 0:
            raise HttpError(431, "header line too long")
        data = await _within(self.stream.read(room), deadline)  # type: ignore[union-attr]
        if not data:
            raise _Closed()
        self.buf[self.hi:self.hi + len(data)] = data
        self.hi += len(data)

    async def line(self, deadline):
        while True:
            i = self.buf.find(b"\n", self.lo, self.hi)
            if i >= 0:
                end = i - 1 if i > self.lo and self.buf[i - 1] == 13 else i
                out = bytes(self.buf[self.lo:end])
                self.lo = i + 1
                return out
            await self._fill(deadline)

    async def body(self, n, deadline):
        parts = bytearray(n)
        k = min(n, self.hi - self.lo)
        parts[:k] = self.buf[self.lo:self.lo + k]
        self.lo += k
        while k < n:
            data = await _within(self.stream.read(n - k), deadline)  # type: ignore
            if not data:
                raise _Closed()
            parts[k:k + len(data)] = data
            k += len(data)
        return bytes(parts)


class Response:
    def __init__(self, stream):
        self._s = stream
        self.status = None
        self._deadline = ticks_ms()

    async def _write(self, data):
        self._s.write(data)
        await _within(self._s.drain(), self._deadline, 500)

    async def start(self, status, ctype, length=None, headers=()):
        """Send the status line and headers; without a length the body ends at the close."""
        self.status = status
        self._deadline = ticks_add(ticks_ms(), SEND_MS)
        head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n" \
               "X-Content-Type-Options: nosniff\r\nConnection: close\r\n" % (
                   status, REASONS.get(status, ""), ctype)
        if length is not None:
            head += "Content-Length: %d\r\n" % length
        for h in headers:
            head += h + "\r\n"
        await self._write((head + "\r\n").encode())

    async def write(self, text):
        await self._write(text.encode() if isinstance(text, str) else text)

    async def send(self, status, ctype, body, headers=()):
        if isinstance(body, str):
            body = body.encode()
        await self.start(status, ctype, len(body), headers)
        mv = memoryview(body)
        for i in range(0, len(body), CHUNK):
            await self._write(mv[i:i + CHUNK])

    async def json(self, status, obj):
        await self.send(status, "application/json", json.dumps(obj))

    async def error(self, status, msg=None):
        await self.json(status, {"error": msg or REASONS.get(status, "error")})


async def _close(stream):
    try:
        stream.close()
        await asyncio.wait_for(stream.wait_closed(), 1)
    except Exception:  # noqa: BLE001 - a broken client: the slot is freed all the same
        pass


class Server:
    def __init__(self, handle, max_conn=2, log=None, req_ms=REQ_MS):
        self.handle = handle
        self.req_ms = req_ms
        self.max_conn = max_conn
        self.log = log  # callable(msg) for request errors, or None
        self.active = 0
        self.waiting = 0
        self.served = self.refused = 0
        self._slots = [_Slot() for _ in range(max_conn)]
        self._server = None

    async def start(self, host, port):
        self._server = await asyncio.start_server(self._conn, host, port, backlog=max(
            2, self.max_conn))
        return self._server

    def close(self):
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _conn(self, reader, writer):
        # MicroPython passes one stream as both reader and writer; CPython two objects
        slot = self._free()
        if slot is None and self.waiting < self.max_conn:  # a few wait a moment for a slot
            self.waiting += 1
            t0 = ticks_ms()
            while slot is None and ticks_diff(ticks_ms(), t0) < WAIT_MS:
                await asyncio.sleep(0.02)
                slot = self._free()
            self.waiting -= 1
        resp = Response(writer)
        if slot is None:
            self.refused += 1
            try:
                await resp.error(503, "busy: %d requests at once" % self.max_conn)
            except Exception:  # noqa: BLE001 - the client's problem
                pass
            await _close(writer)
            return
        slot.stream, slot.lo, slot.hi = reader, 0, 0
        self.active += 1
        try:
            req = await self._read(slot)
            await self.handle(req, resp)
            self.served += 1
        except HttpError as e:
            await self._fail(resp, e.status, e.msg)
        except _Closed:
            pass
        except MemoryError:
            await self._fail(resp, 503, "out of memory")
        except Exception as e:  # noqa: BLE001 - a route's defect must not stop the server
            if self.log is not None:
                self.log("request failed: %s: %s" % (type(e).__name__, e))
            await self._fail(resp, 500, None)
        finally:
            slot.stream = None
            self.active -= 1
            await _close(writer)

    def _free(self):
        for s in self._slots:
            if s.stream is None:
                return s
        return None

    async def _fail(self, resp, status, msg):
        if resp.status is not None:
            return  # an answer was started: the close says the rest
        try:
            await resp.error(status, msg)
        except Exception:  # noqa: BLE001 - the client is gone or does not read
            pass

    async def _read(self, slot):
        deadline = ticks_add(ticks_ms(), self.req_ms)
        line = await slot.line(deadline)
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or \
                not parts[1].startswith(b"/"):
            raise HttpError(400, "not an HTTP/1.x request line")
        req = Request()
        try:
            req.method = parts[0].decode()
            target = parts[1].decode()
        except UnicodeError:
            raise HttpError(400, "not an HTTP/1.x request line")
        q = target.find("?")
        req.path, req.query = (target, "") if q < 0 else (target[:q], target[q + 1:])
        size, count = len(line), 0
        while True:
            line = await slot.line(deadline)
            if not line:
                break
            size += len(line) + 2
            count += 1
            if size > HEAD_MAX or count > MAX_HEADERS:
                raise HttpError(431)
            c = line.find(b":")
            if c <= 0:
                raise HttpError(400, "malformed header line")
            try:
                name = line[:c].decode().strip().lower()
            except UnicodeError:
                raise HttpError(400, "malformed header line")
            if name in KEPT:
                try:
                    req._h[name] = line[c + 1:].decode().strip()
                except UnicodeError:
                    raise HttpError(400, "header %s is not text" % name)
        if req.method not in ("GET", "POST"):
            raise HttpError(405, "only GET and POST")
        n = req.header("content-length")
        if n is not None:
            try:
                n = int(n)
            except ValueError:
                raise HttpError(400, "bad Content-Length")
            if n < 0:
                raise HttpError(400, "bad Content-Length")
            if n > BODY_MAX:
                raise HttpError(413, "body over %d bytes" % BODY_MAX)
            if n:
                req.body = await slot.body(n, deadline)
        return req
