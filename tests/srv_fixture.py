"""Loopback fixture and fault server for every network test (CPython side, raw sockets).

start() returns the environment the tests read (support.env_int / os.getenv):
  WW_HTTP_PORT            plain HTTP
  WW_HTTPS_PORT           TLS, certificate for DNS "localhost" and IP 127.0.0.1
  WW_HTTPS_BADHOST_PORT   TLS, certificate from the same CA for "wrong-host.invalid" only
  WW_HTTPS_ROGUE_PORT     TLS, certificate for "localhost"/127.0.0.1 from another CA (the one a
                          man in the middle would have)
  WW_HTTPS_EXPIRED_PORT   TLS, certificate from the test CA for "localhost"/127.0.0.1 that
                          expired yesterday
  WW_CA_DER               path of the throwaway test CA certificate (DER, for MicroPython)
  WW_CLOSED_PORT          a port bound on 127.0.0.1 where nothing listens (connect: refused)
The CA and the server keys are generated at start-up (`cryptography`) into a temp directory
that stop() deletes; nothing is committed.

Request paths: `/x/<opts>/<anything>?<anything>`, opts comma-separated:
  f=<path under tests/fixtures>  body from that file (the value may contain '/')
  st=<status>      status code (default 200)
  ct=<type>        Content-Type, e.g. ct=text/html (one '/' belongs to the value; values may
                   be %-encoded: ct=text%2Fplain%3B%20charset%3Dutf-8)
  chunked          Transfer-Encoding: chunked, chunks of chunk=<n> bytes (default 256)
  close            no Content-Length: the body ends when the server closes
  gzip             Content-Encoding: gzip (always, whatever the request's Accept-Encoding,
                   so a client's decoder is exercised)
  ra=<s>           Retry-After: <s>;  rad=<s> (extra): Retry-After as an HTTP-date s seconds
                   after the Date header
  hdelay=<s>       sleep before the status line;  bdelay=<s> sleep after half the body
  cut=<n>          send only n bytes of the (framed) body, then close
  badchunk         chunked, with a garbage chunk-size line after the first half of the body
  big=<n>          body of n filler bytes            empty  empty body
  redir=<n>        answer with a redirect to the same URL with redir=<n-1> (n odd: absolute
                   Location, n even: a relative "/x/..." one), then serve the other options at
                   redir=0; rc=<code> (extra) sets the redirect status (default 302)
  tag=<name>       record the request (each hop of a redirect too)
Without f/big/empty the body is a short text line naming status and path (not JSON).
`GET /_requests/<tag>` answers the JSON list of the recorded requests with that tag:
  [{"method", "path", "query" (raw), "headers" (lower-case names), "body" (text)}, ...]
Every response carries Connection: close and the connection is closed after it.
"""

import datetime
import gzip
import json
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
from email.utils import formatdate
from http.client import responses
from urllib.parse import unquote

TESTS = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(TESTS, "fixtures")
MAX_CONN = 64  # concurrent connections per server
MAX_LOG_TAGS = 2000
MAX_LOG_PER_TAG = 100
MAX_BIG = 64 << 20

_running = []
_log = {}
_log_lock = threading.Lock()


# -- certificates -------------------------------------------------------------------------------
def make_certs(d):
    """Write ca.der and a certificate + key per server (good, bad, rogue, expired) into d;
    return their paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def make_ca(cn):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn))
                .issuer_name(name(cn)).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(start)
                .not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                             crl_sign=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        return cert, key

    ca, ca_key = make_ca("WattWindow Test CA")
    rogue_ca, rogue_key = make_ca("Rogue CA")
    paths = {"ca_der": os.path.join(d, "ca.der")}
    with open(paths["ca_der"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.DER))
    local = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    expired = (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1))
    for tag, cn, sans, (issuer, issuer_key), (t0, t1) in (
            ("good", "localhost", local, (ca, ca_key), (start, end)),
            ("bad", "wrong-host.invalid", [x509.DNSName("wrong-host.invalid")], (ca, ca_key),
             (start, end)),
            ("rogue", "localhost", local, (rogue_ca, rogue_key), (start, end)),
            ("expired", "localhost", local, (ca, ca_key), expired)):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(t0).not_valid_after(t1)
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(issuer_key, hashes.SHA256()))
        cp, kp = os.path.join(d, tag + ".pem"), os.path.join(d, tag + ".key")
        with open(cp, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        paths[tag] = (cp, kp)
    return paths


# -- request parsing ----------------------------------------------------------------------------
def _recv_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 256 * 1024:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length") or 0)
    while len(rest) < n:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    target = parts[1]
    path, _, query = target.partition("?")
    return {"method": parts[0], "path": path, "query": query, "headers": headers,
            "body": rest[:n].decode("utf-8", "replace")}


def parse_opts(s):
    """({name: value}, tail) from the text after '/x/'. f= values may contain '/': the longest
    prefix naming an existing file under tests/fixtures wins."""
    opts = {}
    i = 0
    while i < len(s):
        ends = [k for k in range(i, len(s) + 1) if k == len(s) or s[k] in ",/"]
        key, eq, _ = s[i:ends[0]].partition("=")
        end = ends[0]
        if key == "f" and eq:
            for k in reversed(ends):
                if os.path.isfile(os.path.join(FIXTURES, s[i + 2:k])):
                    end = k
                    break
        elif key == "ct" and eq and end < len(s) and s[end] == "/" and len(ends) > 1:
            end = ends[1]  # type/subtype
        if key:
            opts[key] = unquote(s[i + len(key) + 1:end]) if eq else ""
        if end >= len(s) or s[end] == "/":
            return opts, s[end:]
        i = end + 1
    return opts, ""


def _record(tag, req):
    with _log_lock:
        if tag not in _log and len(_log) >= MAX_LOG_TAGS:
            _log.pop(next(iter(_log)))
        lst = _log.setdefault(tag, [])
        if len(lst) < MAX_LOG_PER_TAG:
            lst.append(req)


# -- responses ----------------------------------------------------------------------------------
def _head(status, headers):
    lines = ["HTTP/1.1 %d %s" % (status, responses.get(status, "Status"))]
    lines += ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _frame_chunked(body, size, bad):
    out = []
    half = len(body) // 2
    pos = 0
    while pos < len(body):
        piece = body[pos:pos + size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        pos += len(piece)
        if bad and pos >= half:
            out.append(b"zz-not-hex\r\n")
            bad = False
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def _fnum(v, default=0.0):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def _respond(conn, req, server):
    path = req["path"]
    if path.startswith("/_requests/"):
        with _log_lock:
            body = json.dumps(_log.get(path[len("/_requests/"):], [])).encode()
        conn.sendall(_head(200, [("Content-Type", "application/json"),
                                 ("Content-Length", len(body)), ("Connection", "close")]) + body)
        return
    if not path.startswith("/x/"):
        body = b"not found: use /x/<opts>/...\n"
        conn.sendall(_head(404, [("Content-Type", "text/plain"), ("Content-Length", len(body)),
                                 ("Connection", "close")]) + body)
        return
    opts, _tail = parse_opts(path[3:])
    if "tag" in opts:
        _record(opts["tag"], req)
    if _fnum(opts.get("hdelay")):
        time.sleep(_fnum(opts["hdelay"]))
    status = int(opts.get("st") or 200)
    headers = []
    redir = int(opts.get("redir") or 0)
    ctype = opts.get("ct")
    if redir > 0:
        new = path.replace("redir=%d" % redir, "redir=%d" % (redir - 1), 1)
        if req["query"]:
            new += "?" + req["query"]
        status = int(opts.get("rc") or 302)
        if redir % 2:
            host = req["headers"].get("host") or "127.0.0.1:%d" % server.port
            new = "%s://%s%s" % ("https" if server.tls else "http", host, new)
        headers.append(("Location", new))
        body = ("redirect %d to %s\n" % (status, new)).encode()
        ctype = "text/plain"
    elif "f" in opts:
        fp = os.path.join(FIXTURES, opts["f"])
        if not os.path.isfile(fp):
            status, body, ctype = 404, ("no fixture %s\n" % opts["f"]).encode(), "text/plain"
        else:
            with open(fp, "rb") as f:
                body = f.read()
            if not ctype:
                ctype = "application/json" if fp.endswith(".json") else "application/octet-stream"
    elif "big" in opts:
        n = min(int(opts["big"]), MAX_BIG)
        body = (b"0123456789abcdef" * (n // 16 + 1))[:n]
    elif "empty" in opts:
        body = b""
    else:
        body = ("fixture server: status %d %s for %s\n"
                % (status, responses.get(status, ""), path)).encode()
    headers.append(("Content-Type", ctype or "text/plain; charset=utf-8"))
    if "ra" in opts:
        headers.append(("Retry-After", opts["ra"]))
    if "rad" in opts:
        now = time.time()
        headers.append(("Date", formatdate(now, usegmt=True)))
        headers.append(("Retry-After", formatdate(now + int(opts["rad"]), usegmt=True)))
    if "gzip" in opts and not redir:
        body = gzip.compress(body, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    if ("chunked" in opts or "badchunk" in opts) and not redir:
        headers.append(("Transfer-Encoding", "chunked"))
        wire = _frame_chunked(body, max(1, int(opts.get("chunk") or 256)), "badchunk" in opts)
    elif "close" in opts and not redir:
        wire = body
    else:
        headers.append(("Content-Length", str(len(body))))
        wire = body
    headers.append(("Connection", "close"))
    if "cut" in opts:
        wire = wire[:int(opts["cut"])]
    conn.sendall(_head(status, headers))
    if _fnum(opts.get("bdelay")):
        half = len(wire) // 2
        conn.sendall(wire[:half])
        time.sleep(_fnum(opts["bdelay"]))
        wire = wire[half:]
    conn.sendall(wire)


class _Server:
    def __init__(self, ctx=None):
        self.tls = ctx is not None
        self.ctx = ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.slots = threading.BoundedSemaphore(MAX_CONN)
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True,
                                       name="srv_fixture:%d" % self.port)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.slots.acquire()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            conn.settimeout(30)
            if self.ctx is not None:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            req = _recv_request(conn)
            if req is not None:
                _respond(conn, req, self)
            try:
                if self.ctx is not None:
                    conn.settimeout(2)
                    conn = conn.unwrap()  # close_notify, so a close-delimited body ends cleanly
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        except (OSError, ValueError):
            pass  # the client gave up (time-out tests), or a refused handshake
        finally:
            try:
                conn.close()
            except OSError:
                pass
            self.slots.release()

    def shutdown(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)


class _Closed:
    """A port bound on 127.0.0.1 with no listener: connecting is refused, and no other
    process can take the port while the tests run."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def shutdown(self):
        self.sock.close()


class _TmpDir:
    def __init__(self, path):
        self.path = path

    def shutdown(self):
        shutil.rmtree(self.path, ignore_errors=True)


def _server_ctx(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert[0], cert[1])
    return ctx


def start():
    d = tempfile.mkdtemp(prefix="ww_testca_")
    _running.append(_TmpDir(d))
    certs = make_certs(d)
    plain, closed = _Server(), _Closed()
    tls = {tag: _Server(_server_ctx(certs[tag])) for tag in ("good", "bad", "rogue", "expired")}
    _running.extend([plain, closed] + list(tls.values()))
    return {"WW_HTTP_PORT": str(plain.port), "WW_HTTPS_PORT": str(tls["good"].port),
            "WW_HTTPS_BADHOST_PORT": str(tls["bad"].port),
            "WW_HTTPS_ROGUE_PORT": str(tls["rogue"].port),
            "WW_HTTPS_EXPIRED_PORT": str(tls["expired"].port), "WW_CA_DER": certs["ca_der"],
            "WW_CLOSED_PORT": str(closed.port)}


def stop():
    while _running:
        _running.pop().shutdown()
    with _log_lock:
        _log.clear()


if __name__ == "__main__":  # manual use: print the environment, serve until Ctrl-C
    for k, v in start().items():
        print("%s=%s" % (k, v))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop()
