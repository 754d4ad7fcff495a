"""CPython-only checks of firmware/http/client.py: malformed responses the fixture server does not
produce, played by a one-connection raw-socket server on 127.0.0.1, and properties of the URL
encoding against urllib (hypothesis)."""

import json
import os
import socket
import threading
import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.hal.contract import tcp_connect
from firmware.http import client as http

from support import raises


def _open(host, port, timeout_s):
    return tcp_connect(socket, "127.0.0.1", port, timeout_s)


def _client(**kw):
    kw.setdefault("timeout_s", 5)
    return http.Client(_open, **kw)


def _serve(reply):
    """Accept one connection on 127.0.0.1, read the request head, send `reply`, close.
    Returns (url, got) where got["req"] is the raw request once it was read."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(10)
    got = {}

    def run():
        try:
            c, _ = ls.accept()
            with c:
                c.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                head = data.split(b"\r\n\r\n")[0].lower()
                if b"content-length:" in head:
                    n = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
                    while len(data) < len(head) + 4 + n:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                got["req"] = data
                c.sendall(reply)
                c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            ls.close()

    threading.Thread(target=run, daemon=True).start()
    return "http://127.0.0.1:%d/p" % ls.getsockname()[1], got


def _get(reply, **kw):
    url, _ = _serve(reply)
    return _client(**kw).get(url)


def _body(reply, **kw):
    r = _get(reply, **kw)
    try:
        return r.read()
    finally:
        r.close()


def test_malformed_status_lines():
    for line in (b"HTTP/1.1 2x0 OK", b"FOO 200 OK", b"garbage", b"HTTP/2 200", b"HTTP/1.1 20 OK"):
        e = raises(http.ProtocolError, _get, line + b"\r\nContent-Length: 0\r\n\r\n")
        assert "status line" in str(e), line


def test_no_response_at_all_is_a_network_error():
    e = raises(http.NetworkError, _get, b"")
    assert not isinstance(e, http.Timeout)


def test_headers_cut_off_is_a_protocol_error():
    raises(http.ProtocolError, _get, b"HTTP/1.1 200 OK\r\nContent-Le")


def test_malformed_headers():
    for bad in (b"NoColonHere", b"Name : x", b": empty-name"):
        raises(http.ProtocolError, _get, b"HTTP/1.1 200 OK\r\n" + bad + b"\r\n\r\n")
    for cl in (b"abc", b"-5", b"1e3"):
        raises(http.ProtocolError, _get, b"HTTP/1.1 200 OK\r\nContent-Length: " + cl + b"\r\n\r\n")
    many = b"".join(b"X-%d: v\r\n" % i for i in range(80))
    raises(http.ProtocolError, _get, b"HTTP/1.1 200 OK\r\n" + many + b"\r\n")


def test_header_parsing_details():
    long_value = b"x" * 3000  # longer than the 1 KB buffer: skipped, the others are kept
    r = _get(b"HTTP/1.1 200 Fine Thanks\r\nX-Long: " + long_value + b"\r\nSet-Cookie: a=1\r\n"
             b"set-cookie: b=2\r\nX-Fold: one\r\n  two\r\nX-Latin: caf\xe9\r\n"
             b"Content-Length: 2\r\n\r\nok")
    assert r.status == 200 and r.reason == "Fine Thanks"
    assert "x-long" not in r.headers
    assert r.headers["set-cookie"] == "a=1, b=2"
    assert r.headers["x-fold"] == "one two"
    assert r.headers["x-latin"].startswith("caf")
    assert r.read() == b"ok"
    r.close()


def test_informational_responses_are_skipped():
    r = _get(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-A: 1\r\n\r\n"
             b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew")
    assert r.status == 201 and "x-a" not in r.headers and r.read() == b"new"
    r.close()


def test_chunk_extensions_and_trailers():
    assert _body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5;name=val\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: 1\r\n\r\n") == \
        b"hello, world!!!"
    # chunked wins over Content-Length (RFC 9112 6.3)
    assert _body(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"2\r\nok\r\n0\r\n\r\n") == b"ok"


def test_chunk_framing_faults():
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for body in (b"5\r\nhelloXX0\r\n\r\n",   # no CRLF after the data
                 b"\r\nhello\r\n0\r\n\r\n",   # empty size line
                 b"-5\r\nhello\r\n0\r\n\r\n",  # not hex
                 b"5\r\nhel",                 # cut inside a chunk
                 b"5\r\nhello\r\n",           # no last chunk
                 b"5\r\nhello\r\n0\r\n"):     # cut in the trailer section
        e = raises(http.ProtocolError, _body, head + body)
        assert not isinstance(e, http.BodyTooLarge), body


def test_head_and_304_have_no_body():
    url, _ = _serve(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    r = _client().request("HEAD", url)
    assert r.status == 200 and r.read() == b""
    r.close()
    assert _body(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n") == b""


def test_unsupported_content_encoding():
    raises(http.ProtocolError, _get, b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n"
                                     b"Content-Length: 3\r\n\r\nabc")


def test_bad_gzip_data_is_a_protocol_error():
    raises(http.ProtocolError, _body, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                                      b"Content-Length: 12\r\n\r\nnot gzip....")


def test_redirect_without_location():
    raises(http.ProtocolError, _get, b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")


def test_redirect_to_another_host_drops_credentials():
    port = int(os.environ["WW_HTTP_PORT"])
    tag = "cross_%d" % int.from_bytes(os.urandom(4), "little")
    loc = "http://localhost:%d/x/tag=%s/" % (port, tag)
    url, got = _serve(b"HTTP/1.1 301 Moved\r\nLocation: " + loc.encode() +
                      b"\r\nContent-Length: 0\r\n\r\n")
    c = _client()
    r = c.get(url, auth=("basic", "user", "secret"))
    assert r.status == 200
    r.close()
    assert b"Authorization: Basic" in got["req"]
    r = c.get("http://127.0.0.1:%d/_requests/%s" % (port, tag))
    (req,) = json.loads(r.read())
    r.close()
    assert "authorization" not in req["headers"] and req["headers"]["host"] == "localhost:%d" % port


def test_request_head_is_exact():
    url, got = _serve(b"HTTP/1.1 204 No Content\r\n\r\n")
    r = _client().post(url + "?a=1", params={"b": "x y"}, form=[("k", "v")])
    r.close()
    assert got["req"] == (
        b"POST /p?a=1&b=x%20y HTTP/1.1\r\nHost: 127.0.0.1:" + url.split(":")[2].split("/")[0]
        .encode() + b"\r\nUser-Agent: WattWindow/" + http.VERSION.encode() +
        b"\r\nConnection: close\r\nAccept-Encoding: identity\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 3\r\n\r\nk=v")


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_text)
def test_quote_matches_urllib(s):
    assert http.quote(s) == urllib.parse.quote(s, safe="-._~")
    assert urllib.parse.unquote(http.quote(s)) == s


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_text, _text), max_size=6))
def test_urlencode_round_trips(pairs):
    q = http.urlencode(pairs)
    assert "+" not in q and " " not in q
    assert urllib.parse.parse_qsl(q, keep_blank_values=True) == pairs


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["http", "https"]), st.sampled_from(["a.example", "127.0.0.1", "[::1]"]),
       st.one_of(st.none(), st.integers(1, 65535)),
       st.text("abc/%=&?", max_size=20))
def test_split_url_matches_urllib(scheme, host, port, tail):
    url = "%s://%s%s/%s" % (scheme, host, "" if port is None else ":%d" % port, tail)
    u = urllib.parse.urlsplit(url)
    want_path = (u.path or "/") + ("?" + u.query if "?" in url else "")
    got = http.split_url(url)
    assert got == (scheme, u.hostname, u.port or (443 if scheme == "https" else 80), want_path)
