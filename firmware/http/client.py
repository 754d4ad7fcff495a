"""A small HTTP/1.1 client for the plug (MicroPython) and the host (CPython).

    client = Client(hal.net.open, ca_file=hal.root + "/ca.der")
    resp = client.get(url, params=[("from", "2025-07-15T09:12:00+02:00")], auth=("basic", u, p))
    try:
        resp.raise_for_status()                # HTTPError(status, excerpt, retry_after_s)
        for item in jsonstream.items(resp, "results.*"): ...
    finally:
        resp.close()

One request per connection; sockets from `open_socket(host, port, timeout_s)` (hal.net.open).
The body is a stream (Content-Length, chunked or close framing; gzip) read through one
preallocated buffer. TLS verifies against the DER CA in `ca_file` by default. Rare parts
(tls, gzip, redirect, date) are sibling modules imported on first use. Errors: NetworkError
(OSError: Timeout, TLSError), HTTPError, ProtocolError (ValueError: BodyTooLarge),
TooManyRedirects. Design notes: docs/http.md.
Hostile peers are bounded: `total_s` caps all a Client does from its first request to close()
(the app makes one per fetch), per head at most _MAX_INFO 1xx answers and _MAX_LINES lines /
_MAX_HEAD bytes (trailers too); no CR, LF, NUL, space or non-ASCII reaches a request (URLs,
Location, tokens: ProtocolError before connecting); "chunked" is the only transfer coding.
"""

import builtins
import errno

from firmware import VERSION
from firmware.compat import const, exc_text, ticks_diff, ticks_ms

_TIMEOUT_EXC = getattr(builtins, "TimeoutError", ())  # CPython's socket.timeout; MicroPython: ()

_EXCERPT = const(200)
_MAX_LINES = const(64)  # header lines per head (and trailer lines), folded and skipped ones too
_MAX_HEAD = const(8192)  # bytes per head
_MAX_INFO = const(4)  # 1xx answers before the final one
_REDIRECTS = (301, 302, 303, 307, 308)
_UNRESERVED = b"-._~"


def __getattr__(name):
    # Rarely needed parts live in sibling modules imported on first use, so that a plain-HTTP
    # fetch loads only this core: httpredirect (join_url), httpdate (retry_after), httptls,
    # httpgzip.
    if name == "join_url":
        from firmware.http.redirect import join_url

        return join_url
    if name == "retry_after":
        from firmware.http.date import retry_after

        return retry_after
    raise AttributeError(name)


class NetworkError(OSError):
    pass


class Timeout(NetworkError):
    pass


class TLSError(NetworkError):
    pass


class HTTPError(Exception):
    def __init__(self, status, excerpt="", retry_after_s=None):
        super().__init__("HTTP %d%s" % (status, (": " + excerpt) if excerpt else ""))
        self.status = status
        self.excerpt = excerpt
        self.retry_after_s = retry_after_s


class ProtocolError(ValueError):
    pass


class BodyTooLarge(ProtocolError):
    pass


class TooManyRedirects(ProtocolError):
    pass


def _net_error(e, what, tls=False):
    """The typed NetworkError for an exception raised by a socket (or TLS) call."""
    if isinstance(e, (NetworkError, ProtocolError)):
        return e
    code = getattr(e, "errno", None)
    if code is None and e.args:
        code = e.args[0]  # CPython OSError(110) has errno None; MicroPython reads args[0]
    if not isinstance(code, int):
        code = 0
    if isinstance(e, _TIMEOUT_EXC) or code in (errno.EAGAIN, errno.ETIMEDOUT):
        return Timeout(errno.ETIMEDOUT, "%s: timed out" % what)
    if tls:
        return TLSError(code, "%s: TLS: %s" % (what, exc_text(e)))
    return NetworkError(code, "%s: %s" % (what, exc_text(e)))


def quote(s):
    """Percent-encode everything outside the unreserved set (RFC 3986), UTF-8 first."""
    b = s.encode() if isinstance(s, str) else bytes(s)
    out = []
    for c in b:
        if (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c in _UNRESERVED:
            out.append(chr(c))
        else:
            out.append("%%%02X" % c)
    return "".join(out)


def urlencode(params):
    """'k=v&k2=v2' from a dict or a list of (k, v) pairs; None values are left out."""
    items = params.items() if isinstance(params, dict) else params
    return "&".join(quote(str(k)) + "=" + quote(v if isinstance(v, str) else str(v))
                    for k, v in items if v is not None)


def is_digits(s):
    """True for a non-empty run of ASCII digits (CPython's str.isdigit() also takes other
    scripts' digits; MicroPython's does not: both runtimes must refuse them alike)."""
    return bool(s) and all("0" <= c <= "9" for c in s)


def _check_text(s, what):
    """ProtocolError if `s` holds anything but visible ASCII (no CR, LF, NUL, space)."""
    for c in s:
        if not "!" <= c <= "~":
            raise ProtocolError("%s with a control character, space or non-ASCII: %r"
                                % (what, s))


def split_url(url):
    """(scheme, host, port, path_and_query) of an http(s) URL; the fragment is dropped. A URL
    with a control character, a space or non-ASCII text is refused (ProtocolError)."""
    if not isinstance(url, str):
        raise ProtocolError("URL is not text: %r" % (url,))
    _check_text(url, "URL")
    i = url.find("://")
    scheme = url[:i].lower() if i > 0 else ""
    if scheme not in ("http", "https"):
        raise ProtocolError("unsupported URL: %s" % url)
    rest = url[i + 3:]
    j = len(rest)
    for ch in "/?#":
        k = rest.find(ch)
        if 0 <= k < j:
            j = k
    netloc, path = rest[:j], rest[j:]
    k = path.find("#")
    if k >= 0:
        path = path[:k]
    if not path.startswith("/"):
        path = "/" + path
    netloc = netloc[netloc.rfind("@") + 1:]
    port = 443 if scheme == "https" else 80
    k = netloc.rfind(":")
    if k >= 0 and not netloc.endswith("]"):
        if not is_digits(netloc[k + 1:]) or len(netloc) - k > 6:
            raise ProtocolError("bad port in URL: %s" % url)
        port = int(netloc[k + 1:])
        netloc = netloc[:k]
    if netloc.startswith("["):
        netloc = netloc[1:-1]
    if not netloc:
        raise ProtocolError("no host in URL: %s" % url)
    return scheme, netloc, port, path


def _text(b):
    try:
        return bytes(b).decode()
    except (UnicodeError, ValueError):
        return "".join(chr(c) if 32 <= c < 127 else "?" for c in b)


class Client:
    def __init__(self, open_socket, ca_file=None, verify=True, timeout_s=15,
                 max_body=1 << 20, log=None, gzip=False, bufsize=1024, total_s=None):
        self.open_socket = open_socket
        self.total_s = total_s
        self._t0_ms = None  # the first request's start (total_s counts from it)
        self.ca_file = ca_file
        self.verify = verify
        self.timeout_s = timeout_s
        self.max_body = max_body
        self.log = log
        self.gzip = gzip
        self.bufsize = bufsize
        # the socket buffer, lent to one Response at a time; allocated now, before a fetch
        # fills (and fragments) the heap
        self._buf = bytearray(bufsize)
        self._ctx = None

    def close(self):
        """Drop the buffer and the TLS context (the app closes its client after a fetch)."""
        self._buf = self._ctx = None

    def _left_s(self, where):
        """Seconds left of total_s (None: no bound); Timeout once it has passed."""
        if self.total_s is None:
            return None
        if self._t0_ms is None:
            self._t0_ms = ticks_ms()
        left = self.total_s - ticks_diff(ticks_ms(), self._t0_ms) / 1000
        if left <= 0:
            raise Timeout(errno.ETIMEDOUT, "%s: over the total time-out of %s s"
                          % (where, self.total_s))
        return left

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def request(self, method, url, params=None, headers=None, auth=None, body=None, form=None,
                max_redirects=3):
        ctype = None
        if form is not None:
            body = urlencode(form)
            ctype = "application/x-www-form-urlencoded"
        if isinstance(body, str):
            body = body.encode()
        if params:
            k = url.find("#")
            if k >= 0:
                url = url[:k]
            url += ("&" if "?" in url else "?") + urlencode(params)
        hops = 0
        while True:
            resp = self._once(method, url, headers, auth, body, ctype)
            if resp.status not in _REDIRECTS:
                return resp
            from firmware.http.redirect import follow

            hops += 1
            method, url, auth, body = follow(resp, method, url, auth, body, hops, max_redirects)
            if body is None:
                ctype = None

    def _head(self, method, scheme, host, port, path, headers, auth, body, ctype):
        hp = ("[%s]" % host) if ":" in host else host
        if port != (443 if scheme == "https" else 80):
            hp = "%s:%d" % (hp, port)
        have = {}
        lines = ["%s %s HTTP/1.1" % (method, path)]
        for k, v in (headers.items() if isinstance(headers, dict) else headers or ()):
            v = str(v)
            _check_text(k, "header name")
            for c in v:
                if (c < " " and c != "\t") or c == "\x7f":
                    raise ProtocolError("control character in header %s" % k)
            have[k.lower()] = 1
            lines.append("%s: %s" % (k, v))
        if auth and "authorization" not in have:
            if auth[0] == "basic":
                import binascii

                cred = ("%s:%s" % (auth[1], auth[2])).encode()
                v = "Basic " + binascii.b2a_base64(cred).decode().strip()
            elif auth[0] == "bearer":
                if not auth[1]:
                    raise ProtocolError("empty bearer token")
                _check_text(auth[1], "bearer token")
                v = "Bearer " + auth[1]
            else:
                raise ValueError("auth must be ('basic', user, password) or ('bearer', token)")
            lines.append("Authorization: " + v)
        for k, v in (("Host", hp), ("User-Agent", "WattWindow/" + VERSION),
                     ("Connection", "close"),
                     ("Accept-Encoding", "gzip" if self.gzip and _gzip_ok() else "identity"),
                     ("Content-Type", ctype),
                     ("Content-Length", None if body is None and method in ("GET", "HEAD")
                      else str(len(body or b"")))):
            if v is not None and k.lower() not in have:
                lines.append("%s: %s" % (k, v))
        lines.append("\r\n")
        return "\r\n".join(lines).encode()

    def _once(self, method, url, headers, auth, body, ctype):
        scheme, host, port, path = split_url(url)
        where = "%s:%d" % (host, port)
        head = self._head(method, scheme, host, port, path, headers, auth, body, ctype)
        left = self._left_s("connect " + where)
        try:
            sock = self.open_socket(host, port, self.timeout_s if left is None
                                    else min(self.timeout_s, left))
        except Exception as e:  # noqa: BLE001 - OSError, or ValueError from a bad name
            raise _net_error(e, "connect " + where)
        tls = scheme == "https"
        buf = self._buf
        self._buf = None
        try:
            if tls:
                from firmware.http.tls import wrap

                sock = wrap(self, sock, host, where)
            try:
                _send(sock, head)
                if body:
                    _send(sock, body)
            except Exception as e:  # noqa: BLE001
                raise _net_error(e, "send to " + where, tls and _is_tls(e))
            if buf is None:
                buf = bytearray(self.bufsize)
            resp = Response(self, sock, buf, method, url, where, tls)
            resp._begin()
            return resp
        except BaseException:
            sock.close()
            self._buf = buf
            raise

def _poller(sock):
    """A poll object for `sock`, now non-blocking; None where that is not possible."""
    try:
        import select

        sock.setblocking(False)
        p = select.poll()
        p.register(sock, select.POLLIN)
        return p
    except (ImportError, AttributeError, OSError, TypeError, ValueError):
        try:
            sock.setblocking(True)
        except (AttributeError, OSError):
            pass
        return None


def _chunked(te):
    """True for Transfer-Encoding: chunked; ProtocolError for any other coding (gzip,
    "gzip, chunked": the body would come out still compressed)."""
    if te is None:
        return False
    v = te.strip().lower()
    if v == "chunked":
        return True
    if v in ("", "identity"):
        return False
    raise ProtocolError("unsupported Transfer-Encoding %r" % te)


def _is_tls(e):
    from firmware.http.tls import is_tls

    return is_tls(e)


def _gzip_ok():
    from firmware.http.gzip import available

    return available()


def _send(sock, data):
    f = getattr(sock, "sendall", None)
    if f is not None:
        f(data)
        return
    mv = memoryview(data)
    while len(mv):
        n = sock.write(mv)
        if n is None:
            raise OSError(errno.EAGAIN, "write would block")
        mv = mv[n:]


class Response:
    """Status line and headers are read; the body is a stream (readinto/read), then close()."""

    def __init__(self, client, sock, buf, method, url, where, tls):
        self._client = client
        self._sock = sock
        self._short = False  # the socket's time-out was cut to the rest of total_s
        self._rd = getattr(sock, "recv_into", None) or sock.readinto
        self._poll = None
        if not hasattr(sock, "gettimeout"):
            # A socket that cannot tell its time-out (MicroPython's, plain or TLS) returns
            # from readinto()/recv_into() only once the buffer is full, so a peer sending a
            # byte a second holds it for as long as it likes. Read it without blocking and
            # wait in poll(), which honours the time-outs. (CPython's reads return what came.)
            self._poll = _poller(sock)
        self._buf = buf
        self._mv = memoryview(buf)
        self._pos = self._end = 0
        self._where = where
        self._tls = tls
        self._got_any = False
        self.method = method
        self.url = url
        self.status = 0
        self.reason = ""
        self.headers = {}
        self.retry_after_s = None
        self._mode = 0  # 0: length (self._left bytes), 1: chunked, 2: until close
        self._left = 0
        self._chunks = 0
        self._dec = None
        self._done = False
        self._count = 0
        self._excerpt = None

    # -- the socket, through the one buffer -------------------------------------------------
    def _recv(self, mv):
        c = self._client
        left = c._left_s("read from " + self._where)
        wait = c.timeout_s if left is None or left > c.timeout_s else left
        try:
            if self._poll is not None:
                n = self._nb_read(mv)  # None: nothing there yet
                t0, ms = ticks_ms(), int(wait * 1000)
                while n is None:
                    rest = ms - ticks_diff(ticks_ms(), t0)
                    if rest <= 0:
                        break
                    self._poll.poll(rest)
                    n = self._nb_read(mv)
            else:
                if wait != c.timeout_s or self._short:
                    self._short = True  # the last reads may wait only for what is left
                    self._sock.settimeout(wait)
                n = self._rd(mv)
        except Exception as e:  # noqa: BLE001
            raise _net_error(e, "read from " + self._where,
                             self._tls and (not self._got_any or _is_tls(e)))
        if n is None:
            raise Timeout(errno.ETIMEDOUT, "read from %s: no data" % self._where)
        if n:
            self._got_any = True
        return n

    def _nb_read(self, mv):
        """A read on the non-blocking socket: bytes read, 0 at the end, None if none yet."""
        try:
            return self._rd(mv)
        except OSError as e:
            if (getattr(e, "errno", None) or (e.args[0] if e.args else 0)) == errno.EAGAIN:
                return None  # TLS waiting for the rest of a record
            raise

    def _line(self):
        """The next line without CR LF (bytes); None if it was longer than the buffer (skipped);
        raises ProtocolError at the end of the data."""
        buf, skipped = self._buf, False
        while True:
            i = buf.find(b"\n", self._pos, self._end)
            if i >= 0:
                line = bytes(self._mv[self._pos:i])
                self._pos = i + 1
                if skipped:
                    return None
                return line[:-1] if line.endswith(b"\r") else line
            if self._pos == 0 and self._end == len(buf):
                skipped = True
                self._end = 0
            elif self._pos:
                n = self._end - self._pos
                buf[:n] = self._mv[self._pos:self._end]
                self._pos, self._end = 0, n
            n = self._recv(self._mv[self._end:])
            if not n:
                raise ProtocolError("%s closed the connection mid-line" % self._where)
            self._end += n

    def _begin(self):
        info = 0
        while True:
            try:
                line = self._line()
            except ProtocolError:
                if self._got_any:
                    raise
                raise NetworkError(errno.ECONNRESET, "%s closed the connection without a "
                                   "response" % self._where)
            p = (line or b"").split(None, 2)
            if (len(p) < 2 or not p[0].startswith(b"HTTP/1.") or len(p[1]) != 3
                    or not p[1].isdigit()):
                raise ProtocolError("malformed status line from %s: %r" % (self._where, line))
            self.status = int(p[1])
            self.reason = _text(p[2]) if len(p) > 2 else ""
            self._headers()
            if not (100 <= self.status < 200):
                break
            info += 1
            if info > _MAX_INFO:
                raise ProtocolError("more than %d 1xx answers from %s" % (_MAX_INFO,
                                                                          self._where))
            self.headers = {}
        h = self.headers
        if "retry-after" in h:
            from firmware.http.date import retry_after

            self.retry_after_s = retry_after(h)
        if self.status >= 400:
            self._excerpt = bytearray()
        if self.method == "HEAD" or self.status in (204, 304):
            self._done = True
        elif _chunked(h.get("transfer-encoding")):
            self._mode = 1
        elif "content-length" in h:
            v = h["content-length"].strip()
            if not is_digits(v):
                raise ProtocolError("bad Content-Length %r" % v)
            self._left = int(v)
            # an error's body is read only for its excerpt: its status and Retry-After count
            if self._left > self._client.max_body and self.status < 400:
                raise BodyTooLarge("body of %d bytes > max_body %d" % (self._left,
                                                                         self._client.max_body))
            self._done = self._left == 0
        else:
            self._mode = 2
        enc = h.get("content-encoding", "identity").strip().lower()
        if enc in ("gzip", "x-gzip") and not self._done:
            from firmware.http.gzip import gunzip

            self._dec = gunzip(self)
        elif enc not in ("identity", "") and not self._done:
            raise ProtocolError("unsupported Content-Encoding %r" % enc)

    def _head_lines(self, what):
        """The lines of a head (or of the trailers) up to the empty line, None for an
        over-long one (skipped); bounded in count and bytes, whatever they hold."""
        lines = size = 0
        while True:
            line = self._line()
            if line is not None and not line:
                return
            lines += 1
            size += len(self._buf) if line is None else len(line) + 2
            if lines > _MAX_LINES or size > _MAX_HEAD:
                raise ProtocolError("%s lines from %s: more than %d lines or %d bytes"
                                    % (what, self._where, _MAX_LINES, _MAX_HEAD))
            yield line

    def _headers(self):
        h = self.headers
        last = None
        for line in self._head_lines("header"):
            if line is None:
                continue  # an over-long header line: not one we use
            if line[0] in b" \t" and last:
                h[last] += " " + _text(line.strip())
                continue
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError("malformed header line from %s: %r" % (self._where, line))
            last = _text(name).lower()
            v = _text(value.strip())
            h[last] = (h[last] + ", " + v) if last in h else v

    # -- body framing -----------------------------------------------------------------------
    def _take(self, mv):
        """Up to len(mv) bytes from the buffer, else straight from the socket; 0 at EOF."""
        n = self._end - self._pos
        if n:
            n = min(n, len(mv))
            mv[:n] = self._mv[self._pos:self._pos + n]
            self._pos += n
            return n
        return self._recv(mv)

    def _raw_into(self, mv):
        """Body bytes as sent (de-chunked, still encoded); 0 at the end."""
        if self._done or not len(mv):
            return 0
        if self._mode == 2:
            n = self._take(mv)
            if not n:
                self._done = True
            return n
        if self._mode == 1 and self._left == 0:
            if self._chunk_size() == 0:
                return 0
        n = self._take(mv[:min(len(mv), self._left)])
        if not n:
            raise ProtocolError("truncated body from %s: %d more bytes expected"
                                % (self._where, self._left))
        self._left -= n
        if self._left == 0 and self._mode == 0:
            self._done = True
        return n

    def _chunk_size(self):
        try:
            if self._chunks and self._line() != b"":  # the CR LF that ends the previous chunk
                raise ProtocolError("chunk not followed by CRLF")
            self._chunks += 1
            line = self._line()
            if line is None:
                raise ProtocolError("chunk size line too long")
            size = line.split(b";", 1)[0].strip()
            for c in size:
                if c not in b"0123456789abcdefABCDEF":
                    raise ProtocolError("bad chunk size %r" % line)
            if not size:
                raise ProtocolError("empty chunk size line")
            if len(size) > 8:
                raise BodyTooLarge("chunk of %s bytes" % _text(size))
            n = int(size, 16)
            if n == 0:
                for _ in self._head_lines("trailer"):  # up to the empty line, bounded
                    pass
                self._done = True
            self._left = n
            return n
        except ProtocolError as e:
            raise ProtocolError("broken chunked framing from %s: %s" % (self._where, e))

    # -- the decoded stream -----------------------------------------------------------------
    def readinto(self, buf):
        """Decoded body bytes into buf; 0 at the end of the body."""
        if self._sock is None:
            return 0
        mv = memoryview(buf)
        if self._dec is None:
            n = self._raw_into(mv)
        else:
            try:
                n = self._dec.readinto(mv)
            except (NetworkError, ProtocolError):
                raise
            except Exception as e:  # noqa: BLE001 - deflate: OSError/EOFError, zlib.error
                raise ProtocolError("bad gzip body from %s: %s" % (self._where, exc_text(e)))
            n = n or 0
        self._count += n
        if self._count > self._client.max_body:
            raise BodyTooLarge("body from %s passed max_body %d" % (self._where,
                                                                    self._client.max_body))
        ex = self._excerpt
        if ex is not None and len(ex) < _EXCERPT and n:
            ex.extend(mv[:min(n, _EXCERPT - len(ex))])
        return n

    def read(self, n=-1):
        """Up to n decoded bytes (b"" at the end); n < 0: the rest (bounded by max_body)."""
        if n is not None and n >= 0:
            b = bytearray(n)
            k = self.readinto(b)
            return bytes(b) if k == n else bytes(memoryview(b)[:k])
        out = bytearray()
        b = bytearray(256)
        while True:
            k = self.readinto(b)
            if not k:
                return bytes(out)
            out.extend(memoryview(b)[:k])

    def raise_for_status(self):
        if self.status < 400:
            return
        ex = self._excerpt
        if ex is None:  # set by _begin for every status >= 400
            return
        if len(ex) < _EXCERPT and self._sock is not None:
            b = bytearray(_EXCERPT)
            try:
                while len(ex) < _EXCERPT and self.readinto(b):
                    pass
            except (OSError, ValueError):
                pass  # the status matters more than the rest of its body
        raise HTTPError(self.status, _text(ex[:_EXCERPT]).strip(), self.retry_after_s)

    def close(self):
        s = self._sock
        if s is not None:
            self._sock = None
            try:
                s.close()
            except OSError:
                pass
            self._client._buf = self._buf
            self._dec = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
