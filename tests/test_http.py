# runtimes: cpython micropython
"""http/client.py against the loopback fixture server (tests/srv_fixture.py), on both runtimes.

Every request goes to a real socket on 127.0.0.1; requests are checked through the server's
/_requests/<tag> log. Time-out tests use 0.3 s time-outs against 3 s server delays (the client
leaves early, so they stay fast)."""

import json
import os
import socket

from firmware import VERSION
from firmware.compat import ticks_diff, ticks_ms
from firmware.hal.contract import tcp_connect
from firmware.http import client as http

from support import env_int, fixture_path, loopback_ca, needs_tls, raises, read_fixture

_N = [0]


def _tag(name):
    _N[0] += 1
    return "h%s_%d_%d" % (name, int.from_bytes(os.urandom(3), "little"), _N[0])


class _Net:
    """hal.net.open for the tests: every host name is 127.0.0.1 (only that address is used)."""

    def __init__(self):
        self.opened = []

    def open(self, host, port, timeout_s):
        self.opened.append((host, port, timeout_s))
        return tcp_connect(socket, "127.0.0.1", port, timeout_s)


class _Log:
    def __init__(self):
        self.lines = []

    def warn(self, tag, msg):
        self.lines.append(("W", tag, msg))


def _client(**kw):
    return http.Client(_Net().open, **kw)


def _url(opts, tail="/t", port_env="WW_HTTP_PORT", scheme="http", host="127.0.0.1"):
    return "%s://%s:%d/x/%s%s" % (scheme, host, env_int(port_env), opts, tail)


def _body(resp, size=256):
    out = bytearray()
    buf = bytearray(size)
    try:
        while True:
            n = resp.readinto(buf)
            if not n:
                return bytes(out)
            out.extend(memoryview(buf)[:n])
    finally:
        resp.close()


def _recorded(tag):
    r = _client().get("http://127.0.0.1:%d/_requests/%s" % (env_int("WW_HTTP_PORT"), tag))
    assert r.status == 200
    return json.loads(_body(r))


def _same_as_fixture(resp, rel, size):
    """Stream the body through a `size`-byte buffer and compare it piece by piece with the file
    (neither is held whole); returns the byte count."""
    buf = bytearray(size)
    total = 0
    with open(fixture_path(rel), "rb") as f:
        try:
            while True:
                n = resp.readinto(buf)
                want = f.read(n) if n else f.read(1)
                if not n:
                    assert want == b"", "body ended early at %d" % total
                    return total
                assert bytes(memoryview(buf)[:n]) == want, "differs near byte %d" % total
                total += n
        finally:
            resp.close()


def _elapsed_ms(t0):
    return ticks_diff(ticks_ms(), t0)


# -- pure helpers -----------------------------------------------------------------------------
def test_quote_and_urlencode():
    assert http.quote("2025-07-15T09:12:00+02:00") == "2025-07-15T09%3A12%3A00%2B02%3A00"
    assert http.quote("a b&c=d/é~_.-") == "a%20b%26c%3Dd%2F%C3%A9~_.-"
    assert http.urlencode([("k", "v+1"), ("n", 5), ("skip", None), ("k", "x y")]) == \
        "k=v%2B1&n=5&k=x%20y"
    assert http.urlencode({"a": "1"}) == "a=1"


def test_split_and_join_urls():
    assert http.split_url("https://Api.Example:8443/a/b?q=1#frag") == \
        ("https", "Api.Example", 8443, "/a/b?q=1")
    assert http.split_url("http://h?x=1") == ("http", "h", 80, "/?x=1")
    assert http.split_url("HTTPS://u:p@h") == ("https", "h", 443, "/")
    raises(http.ProtocolError, http.split_url, "ftp://h/x")
    raises(ValueError, http.split_url, "http://h:port/")
    base = "http://h:81/a/b/c?q=1"
    assert http.join_url(base, "/z?y=2") == "http://h:81/z?y=2"
    assert http.join_url(base, "d") == "http://h:81/a/b/d"
    assert http.join_url(base, "//o:82/p") == "http://o:82/p"
    assert http.join_url(base, "https://o/p") == "https://o/p"


def test_retry_after_parsing():
    assert http.retry_after({"retry-after": "120"}) == 120
    assert http.retry_after({}) is None
    assert http.retry_after({"retry-after": "soon"}) is None
    h = {"date": "Sun, 06 Nov 1994 08:49:37 GMT", "retry-after": "Sun, 06 Nov 1994 08:51:07 GMT"}
    assert http.retry_after(h) == 90
    h["retry-after"] = "Sat, 05 Nov 1994 08:49:37 GMT"  # in the past: retry now
    assert http.retry_after(h) == 0
    h["retry-after"] = "Sun, 06 anF 1994 08:51:07 GMT"
    assert http.retry_after(h) is None
    assert http.retry_after({"retry-after": "Sun, 06 Nov 1994 08:51:07 GMT"}) is None  # no Date


def test_error_types():
    assert issubclass(http.Timeout, http.NetworkError)
    assert issubclass(http.TLSError, http.NetworkError)
    assert issubclass(http.NetworkError, OSError)
    assert issubclass(http.BodyTooLarge, http.ProtocolError)
    assert issubclass(http.TooManyRedirects, http.ProtocolError)
    assert issubclass(http.ProtocolError, ValueError)
    e = http.HTTPError(503, "busy", 30)
    assert (e.status, e.excerpt, e.retry_after_s) == (503, "busy", 30) and "503" in str(e)


# -- requests ---------------------------------------------------------------------------------
def test_plain_get_and_request_headers():
    tag = _tag("get")
    net = _Net()
    c = http.Client(net.open, timeout_s=7)
    rel = "arcadia/smart_price_48h_default.json"
    with c.get(_url("f=%s,tag=%s" % (rel, tag), "/rest/v1/prices/smart"),
               headers={"Accept": "application/json", "X-Extra": "1"}) as r:
        assert r.status == 200 and r.reason == "OK"
        assert r.headers["content-type"] == "application/json"
        assert int(r.headers["content-length"]) == len(read_fixture(rel))
        assert r.read() == read_fixture(rel)
        assert r.read(10) == b"" and r.readinto(bytearray(4)) == 0
    assert net.opened == [("127.0.0.1", env_int("WW_HTTP_PORT"), 7)]
    (req,) = _recorded(tag)
    assert req["method"] == "GET" and req["path"].endswith(",tag=%s/rest/v1/prices/smart" % tag)
    h = req["headers"]
    assert h["host"] == "127.0.0.1:%d" % env_int("WW_HTTP_PORT")
    assert h["user-agent"] == "WattWindow/" + VERSION
    assert h["connection"] == "close" and h["accept"] == "application/json" and h["x-extra"] == "1"
    assert h["accept-encoding"] == "identity"
    assert "authorization" not in h and "content-length" not in h


def test_caller_headers_win_and_crlf_is_refused():
    tag = _tag("hdr")
    _client().get(_url("tag=" + tag), headers=[("User-Agent", "probe/1")]).close()
    assert _recorded(tag)[0]["headers"]["user-agent"] == "probe/1"
    raises(ValueError, _client().get, _url(""), headers={"X": "a\r\nEvil: 1"})


def test_params_are_percent_encoded():
    tag = _tag("qs")
    params = [("fromDateTime", "2025-07-15T09:12:00+02:00"), ("zip", "94105"),
              ("name", "a b&c=d/é"), ("n", 3), ("none", None)]
    _client().get(_url("tag=" + tag, "/p?fixed=1"), params=params).close()
    q = _recorded(tag)[0]["query"]
    assert q == ("fixed=1&fromDateTime=2025-07-15T09%3A12%3A00%2B02%3A00&zip=94105"
                 "&name=a%20b%26c%3Dd%2F%C3%A9&n=3")
    assert "+" not in q


def test_basic_and_bearer_auth():
    import binascii

    tag = _tag("auth")
    c = _client()
    c.get(_url("tag=" + tag), auth=("basic", "my-app-id", "p@ss:word")).close()
    c.get(_url("tag=" + tag), auth=("bearer", "eyJ.tok.en")).close()
    a, b = (r["headers"]["authorization"] for r in _recorded(tag))
    assert a == "Basic " + binascii.b2a_base64(b"my-app-id:p@ss:word").decode().strip()
    assert binascii.a2b_base64(a[6:]) == b"my-app-id:p@ss:word"
    assert b == "Bearer eyJ.tok.en"
    raises(ValueError, c.get, _url(""), auth=("digest", "u", "p"))


def test_post_form_and_raw_body():
    tag = _tag("post")
    c = _client()
    r = c.post(_url("tag=" + tag), form={"grant_type": "client_credentials", "scope": "a b+c"})
    assert r.status == 200
    r.close()
    c.post(_url("tag=" + tag), body=b'{"x": 1}', headers={"Content-Type": "application/json"})
    c.post(_url("tag=" + tag)).close()
    f, raw, empty = _recorded(tag)
    assert f["method"] == "POST" and f["body"] == "grant_type=client_credentials&scope=a%20b%2Bc"
    assert f["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert f["headers"]["content-length"] == str(len(f["body"]))
    assert raw["body"] == '{"x": 1}' and raw["headers"]["content-type"] == "application/json"
    assert empty["headers"]["content-length"] == "0" and empty["body"] == ""


# -- body framing -----------------------------------------------------------------------------
def test_content_length_chunked_and_close_bodies_through_small_buffers():
    c = _client()
    rel = "arcadia/smart_price_48h_default.json"
    size = len(read_fixture(rel))
    for opts, bufs in (("", (1, 7, 1000)), ("chunked,chunk=7", (1, 5, 64)),
                       ("chunked", (3, 512)), ("close", (7, 4096))):
        for n in bufs:
            r = c.get(_url("f=%s,%s" % (rel, opts)))
            assert ("transfer-encoding" in r.headers) == ("chunked" in opts), opts
            assert ("content-length" in r.headers) == (opts == ""), opts
            assert _same_as_fixture(r, rel, n) == size, (opts, n)
    small = "arcadia/error_unauthorized.json"
    r = c.get(_url("f=%s,chunked,chunk=1" % small))
    assert _same_as_fixture(r, small, 3) == len(read_fixture(small))


def test_large_body_streams_in_pieces():
    rel = "arcadia/smart_price_groupby_hour_7d_dst.json"  # 43 KB
    for opts in ("", "chunked,chunk=1000", "close"):
        r = _client().get(_url("f=%s,%s" % (rel, opts)))
        assert _same_as_fixture(r, rel, 300) > 40000


def test_empty_bodies():
    c = _client()
    for opts in ("empty", "empty,chunked", "empty,close", "st=204"):
        r = c.get(_url(opts))
        assert r.read() == b"", opts
        r.close()


def test_gzip_decoded_on_the_fly():
    rel = "gridx/pricing_2day_dam_hourly_dst.json"
    tag = _tag("gz")
    plain, gz = _client(), _client(gzip=True)
    for c, opts in ((plain, "gzip"), (gz, "gzip,chunked,chunk=100"), (gz, "gzip,close")):
        r = c.get(_url("f=%s,tag=%s,%s" % (rel, tag, opts)))
        assert r.headers["content-encoding"] == "gzip"
        if opts == "gzip":
            assert int(r.headers["content-length"]) < len(read_fixture(rel)) // 4
        assert _same_as_fixture(r, rel, 200) == len(read_fixture(rel)), opts
    reqs = _recorded(tag)
    assert reqs[0]["headers"]["accept-encoding"] == "identity"  # default off: the 34 KB window
    assert reqs[1]["headers"]["accept-encoding"] == "gzip"
    r = plain.get(_url("gzip,cut=30"))
    raises(http.ProtocolError, r.read)
    r.close()


# -- HTTPS --------------------------------------------------------------------------------------
def _ca():
    return loopback_ca()


def test_https_verified_by_name_and_by_ip():
    c = _client(ca_file=_ca())
    rel = "arcadia/smart_price_48h_default.json"
    for host, opts in (("localhost", ""), ("127.0.0.1", "chunked,chunk=100"),
                       ("localhost", "close")):
        r = c.get(_url("f=%s,%s" % (rel, opts), port_env="WW_HTTPS_PORT", scheme="https",
                       host=host))
        assert r.status == 200
        assert _same_as_fixture(r, rel, 128) == len(read_fixture(rel)), (host, opts)


def test_https_wrong_host_name_is_a_tls_error():
    c = _client(ca_file=_ca())
    url = _url("", port_env="WW_HTTPS_BADHOST_PORT", scheme="https", host="localhost")
    e = raises(http.TLSError, c.get, url)
    assert isinstance(e, http.NetworkError) and isinstance(e, OSError)
    # the right name on the right server still works with the same client
    c.get(_url("", port_env="WW_HTTPS_PORT", scheme="https", host="localhost")).close()


def _one_line_saying(e, *words):
    text = str(e)
    assert "\n" not in text and "\\n" not in text, text  # a log line; repr shows \\n
    assert any(w in text for w in words), text


def test_https_certificate_from_another_ca_is_a_tls_error():
    # the right name, signed by a CA the plug does not trust: what a man in the middle shows
    c = _client(ca_file=_ca())
    for host in ("localhost", "127.0.0.1"):
        e = raises(http.TLSError, c.get,
                   _url("", port_env="WW_HTTPS_ROGUE_PORT", scheme="https", host=host))
        # CPython: "unable to get local issuer certificate"; mbedTLS: "not correctly signed
        # by the trusted CA"
        _one_line_saying(e, "issuer", "trusted CA")


def test_https_expired_certificate_is_a_tls_error():
    c = _client(ca_file=_ca())
    e = raises(http.TLSError, c.get,
               _url("", port_env="WW_HTTPS_EXPIRED_PORT", scheme="https", host="localhost"))
    _one_line_saying(e, "expired")


def test_https_without_ca_is_a_tls_error():
    needs_tls()  # else the TLSError would only say that ssl is missing
    raises(http.TLSError, _client().get,
           _url("", port_env="WW_HTTPS_PORT", scheme="https", host="localhost"))
    raises(http.TLSError, _client(ca_file="/nonexistent/ca.der").get,
           _url("", port_env="WW_HTTPS_PORT", scheme="https", host="localhost"))


def test_https_verify_false_works_and_logs():
    needs_tls()
    log = _Log()
    c = _client(verify=False, log=log)
    r = c.get(_url("", port_env="WW_HTTPS_BADHOST_PORT", scheme="https", host="localhost"))
    assert r.status == 200 and b"fixture server" in r.read()
    r.close()
    assert len(log.lines) == 1 and log.lines[0][0] == "W" and "verif" in log.lines[0][2]


def test_plain_http_to_a_tls_port_fails_cleanly():
    e = raises(Exception, _client(timeout_s=2).get, _url("", port_env="WW_HTTPS_PORT"))
    assert isinstance(e, (http.NetworkError, http.ProtocolError)), e


# -- faults ---------------------------------------------------------------------------------------
def test_connection_refused():
    url = "http://127.0.0.1:%d/x/" % env_int("WW_CLOSED_PORT")
    e = raises(http.NetworkError, _client().get, url)
    assert not isinstance(e, (http.Timeout, http.TLSError))


def test_open_socket_errors_are_typed():
    """What hal.net.open raises on each runtime (DNS: OSError('[addrinfo error -2]') on
    MicroPython, gaierror on CPython; a connect time-out: EAGAIN/ETIMEDOUT) becomes typed."""
    import errno

    def failing(exc):
        def open_socket(host, port, timeout_s):
            raise exc
        return http.Client(open_socket)

    for exc, typ in ((OSError("[addrinfo error -2]"), http.NetworkError),
                     (OSError(-2, "Name or service not known"), http.NetworkError),
                     (OSError(errno.EHOSTUNREACH, "unreachable"), http.NetworkError),
                     (OSError(errno.ETIMEDOUT), http.Timeout),
                     (OSError(errno.EAGAIN), http.Timeout)):
        e = raises(typ, failing(exc).get, "https://api.example/x")
        if typ is http.NetworkError:
            assert not isinstance(e, (http.Timeout, http.TLSError)), exc
        assert "api.example:443" in str(e)


def test_client_close_releases_buffer_and_context():
    c = _client(ca_file=_ca())
    c.get(_url("", port_env="WW_HTTPS_PORT", scheme="https", host="localhost")).close()
    assert c._buf is not None and c._ctx is not None
    c.close()
    assert c._buf is None and c._ctx is None
    c.get(_url("")).close()  # still usable


def test_timeout_before_headers():
    c = _client(timeout_s=0.3)
    t0 = ticks_ms()
    e = raises(http.Timeout, c.get, _url("hdelay=3"))
    assert isinstance(e, http.NetworkError)
    assert 250 <= _elapsed_ms(t0) < 2500


def test_timeout_mid_body():
    c = _client(timeout_s=0.3)
    r = c.get(_url("big=4000,bdelay=3"))
    assert r.status == 200
    t0 = ticks_ms()
    e = raises(http.Timeout, _body, r, 512)
    assert e.errno is not None and 250 <= _elapsed_ms(t0) < 2500


def test_timeouts_over_tls():
    c = _client(timeout_s=0.3, ca_file=_ca())
    t0 = ticks_ms()
    raises(http.Timeout, c.get, _url("hdelay=3", port_env="WW_HTTPS_PORT", scheme="https",
                                     host="localhost"))
    assert _elapsed_ms(t0) < 2500
    r = c.get(_url("big=40000,bdelay=3", port_env="WW_HTTPS_PORT", scheme="https",
                   host="localhost"))
    raises(http.Timeout, _body, r, 512)


def test_truncated_bodies_are_protocol_errors():
    c = _client()
    rel = "arcadia/smart_price_48h_default.json"
    for opts in ("cut=100", "chunked,chunk=64,cut=300", "cut=0"):
        r = c.get(_url("f=%s,%s" % (rel, opts)))
        e = raises(http.ProtocolError, _body, r, 64)
        assert not isinstance(e, http.BodyTooLarge), opts


def test_broken_chunk_framing():
    for opts in ("badchunk", "badchunk,chunk=5", "badchunk,gzip"):
        r = _client().get(_url("f=arcadia/smart_price_48h_default.json," + opts))
        raises(http.ProtocolError, _body, r, 100)


def test_http_error_statuses_carry_status_and_excerpt():
    c = _client()
    for st in (401, 404, 500):
        r = c.get(_url("st=%d" % st, "/some/where"))
        assert r.status == st
        e = raises(http.HTTPError, r.raise_for_status)
        r.close()
        assert e.status == st and e.retry_after_s is None
        assert e.excerpt.startswith("fixture server: status %d" % st) and "/some/where" in e.excerpt
    # the error envelope (JSON) read by the caller first: the excerpt still has its start
    r = c.get(_url("f=arcadia/error_invalid_master_tariff.json,st=404"))
    assert b'"ObjectNotFound"' in r.read()
    e = raises(http.HTTPError, r.raise_for_status)
    assert e.excerpt.startswith("{") and len(e.excerpt) <= 200
    r = c.get(_url("st=500,big=5000,chunked"))
    e = raises(http.HTTPError, r.raise_for_status)
    r.close()
    assert len(e.excerpt) == 200 and e.excerpt.startswith("0123456789abcdef")
    ok = c.get(_url(""))
    ok.raise_for_status()  # no error below 400
    ok.close()


def test_retry_after_on_429_and_503():
    c = _client()
    r = c.get(_url("st=429,ra=120"))
    assert r.status == 429 and r.retry_after_s == 120
    e = raises(http.HTTPError, r.raise_for_status)
    r.close()
    assert e.status == 429 and e.retry_after_s == 120
    r = c.get(_url("st=503,rad=90"))
    e = raises(http.HTTPError, r.raise_for_status)
    r.close()
    assert e.status == 503 and e.retry_after_s == 90


def test_non_json_body_is_readable():
    r = _client().get(_url("st=502,ct=text/html,f=arcadia/smart_price_empty.json"))
    assert r.headers["content-type"] == "text/html"
    assert r.read() == read_fixture("arcadia/smart_price_empty.json")
    r.close()
    r = _client().get(_url("ct=text/plain"))
    assert r.read().startswith(b"fixture server: status 200 OK")
    r.close()


def test_body_too_large():
    c = _client(max_body=1000)
    r = c.get(_url("big=1000"))
    assert len(_body(r, 300)) == 1000  # exactly the limit is fine
    e = raises(http.BodyTooLarge, c.get, _url("big=1001"))  # declared: refused at once
    assert isinstance(e, http.ProtocolError)
    for opts in ("big=5000,chunked", "big=5000,close", "big=50000,gzip"):
        r = c.get(_url(opts))
        assert r.status == 200
        raises(http.BodyTooLarge, _body, r, 256)
    raises(http.BodyTooLarge, c.get(_url("big=1001,close")).read)


# -- redirects ----------------------------------------------------------------------------------
def test_redirects_followed_and_limited():
    tag = _tag("redir")
    c = _client()
    r = c.get(_url("redir=3,tag=%s,f=arcadia/smart_price_empty.json" % tag, "/a?q=%2B1"))
    assert r.status == 200 and r.read() == read_fixture("arcadia/smart_price_empty.json")
    r.close()
    assert "redir=0" in r.url and r.url.endswith("/a?q=%2B1")
    hops = _recorded(tag)
    assert [h["path"].split(",")[0] for h in hops] == ["/x/redir=3", "/x/redir=2", "/x/redir=1",
                                                       "/x/redir=0"]
    assert all(h["query"] == "q=%2B1" for h in hops)
    e = raises(http.TooManyRedirects, c.get, _url("redir=4"))
    assert isinstance(e, http.ProtocolError)
    raises(http.TooManyRedirects, c.get, _url("redir=1"), max_redirects=0)
    c.get(_url("redir=5"), max_redirects=5).close()


def test_redirect_methods():
    tag = _tag("rm")
    c = _client()
    for rc in (307, 308, 303, 302, 301):
        c.post(_url("redir=1,rc=%d,tag=%s" % (rc, tag)), form={"rc": rc}).close()
    got = [(h["method"], h["body"]) for h in _recorded(tag)]
    assert got == [("POST", "rc=307"), ("POST", "rc=307"), ("POST", "rc=308"), ("POST", "rc=308"),
                   ("POST", "rc=303"), ("GET", ""), ("POST", "rc=302"), ("GET", ""),
                   ("POST", "rc=301"), ("GET", "")]
    tag = _tag("rm")
    c.get(_url("redir=2,rc=303,tag=" + tag)).close()
    assert [h["method"] for h in _recorded(tag)] == ["GET"] * 3


def test_redirects_keep_auth_on_the_same_host_and_work_over_https():
    tag = _tag("rh")
    c = _client(ca_file=_ca())
    for scheme, port_env in (("http", "WW_HTTP_PORT"), ("https", "WW_HTTPS_PORT")):
        r = c.get(_url("redir=2,rc=308,tag=" + tag, port_env=port_env, scheme=scheme,
                       host="localhost"), auth=("bearer", "tok"))
        assert r.status == 200 and r.read().startswith(b"fixture server")
        r.close()
    hops = _recorded(tag)
    assert [h["headers"].get("authorization") for h in hops] == ["Bearer tok"] * 6
    assert hops[1]["headers"]["host"] == "localhost:%d" % env_int("WW_HTTP_PORT")


def test_response_close_is_idempotent_and_buffer_is_reused():
    c = _client()
    r = c.get(_url(""))
    buf = r._buf
    r.close()
    r.close()
    assert r.readinto(bytearray(8)) == 0
    r2 = c.get(_url(""))
    assert r2._buf is buf
    r3 = c.get(_url(""))  # a second open response gets its own buffer
    assert r3._buf is not buf
    r2.close()
    r3.close()


def test_streaming_keeps_the_heap_flat():
    """A 600 KB body (over twice the 256 KB MicroPython test heap) read through a 512-byte
    buffer: retained heap stays flat (MicroPython's gc.mem_alloc; size checks on CPython)."""
    import gc

    c = _client()
    buf = bytearray(512)
    for opts in ("big=600000", "big=600000,chunked,chunk=1000", "big=600000,close"):
        r = c.get(_url(opts))
        total = r.readinto(buf)
        gc.collect()
        base = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
        grew = 0
        while True:
            n = r.readinto(buf)
            if not n:
                break
            total += n
            if total % 100000 < 512 and base:
                gc.collect()
                grew = max(grew, gc.mem_alloc() - base)
        r.close()
        assert total == 600000, opts
        assert grew < 4096, (opts, grew)
