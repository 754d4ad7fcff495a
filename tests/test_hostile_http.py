# runtimes: cpython micropython
"""The HTTP client against a hostile server on loopback (tests/srv_hostile.py), both runtimes.

Each test is a finding of issue 12 §2: a peer that trickles bytes, sends endless 1xx answers,
header lines, continuation lines or trailers, unsupported transfer codings, big error bodies,
non-ASCII digits or a Location with control characters; and what the plug sends itself (URLs,
tokens) must not carry CR, LF, NUL or spaces into a request."""

import os
import socket

from firmware.compat import ticks_diff, ticks_ms
from firmware.hal.contract import tcp_connect
from firmware.http import client as http

from support import raises


def _port():
    v = os.getenv("WW_HOSTILE_PORT")
    assert v, "WW_HOSTILE_PORT not set: tests/srv_hostile.py is not running"
    return int(v)


class _Net:
    def __init__(self):
        self.opened = 0

    def open(self, host, port, timeout_s):
        self.opened += 1
        return tcp_connect(socket, "127.0.0.1", port, timeout_s)


def _client(**kw):
    net = _Net()
    kw.setdefault("timeout_s", 2)
    return net, http.Client(net.open, **kw)


def _url(path):
    return "http://127.0.0.1:%d%s" % (_port(), path)


def _drain(resp):
    buf = bytearray(256)
    n = 0
    try:
        while True:
            k = resp.readinto(buf)
            if not k:
                return n
            n += k
    finally:
        resp.close()


def _get_all(client, path, origin=None):
    return _drain(client.get((origin + path) if origin else _url(path)))


def _elapsed_s(t0):
    return ticks_diff(ticks_ms(), t0) / 1000


# -- a total deadline per request ----------------------------------------------------------
def test_status_line_trickle_ends_at_the_total_deadline():
    _net, c = _client(timeout_s=0.5, total_s=1.5)
    t0 = ticks_ms()
    e = raises(http.Timeout, c.get, _url("/r/status-trickle=0.1/"))
    dt = _elapsed_s(t0)
    assert 1.3 <= dt < 2.5, (dt, e)  # each byte came inside the per-read time-out


def test_body_trickle_ends_at_the_total_deadline():
    _net, c = _client(timeout_s=0.5, total_s=1.5)
    t0 = ticks_ms()
    raises(http.Timeout, _get_all, c, "/r/body-trickle=0.1/")
    dt = _elapsed_s(t0)
    assert 1.3 <= dt < 2.5, dt


def test_trickle_over_tls_ends_at_the_total_deadline():
    ca = os.getenv("WW_CA_DER")
    tls_port = os.getenv("WW_HOSTILE_TLS_PORT")
    assert ca and tls_port, "srv_fixture / srv_hostile TLS not running"
    for path in ("/r/status-trickle=0.1/", "/r/body-trickle=0.1/"):
        _net, c = _client(timeout_s=0.5, total_s=2.5, ca_file=ca)
        t0 = ticks_ms()
        raises(http.Timeout, _get_all, c, path, "https://localhost:%s" % tls_port)
        dt = _elapsed_s(t0)
        assert 2.3 <= dt < 3.5, (path, dt)


def test_endless_1xx_answers_are_refused():
    _net, c = _client(timeout_s=1)
    t0 = ticks_ms()
    e = raises(http.ProtocolError, c.get, _url("/r/info-loop=0.02/"))
    assert "1xx" in str(e), e
    assert _elapsed_s(t0) < 2, _elapsed_s(t0)


# -- header lines bounded in count and size ------------------------------------------------
def test_ten_thousand_repeated_header_lines_are_refused():
    _net, c = _client()
    e = raises(http.ProtocolError, c.get, _url("/r/repeat=10000/"))
    assert "header" in str(e), e


def test_ten_thousand_continuation_lines_are_refused():
    _net, c = _client()
    e = raises(http.ProtocolError, c.get, _url("/r/fold=10000/"))
    assert "header" in str(e), e


def test_over_long_header_lines_count_too():
    _net, c = _client()
    e = raises(http.ProtocolError, c.get, _url("/r/longlines=300/"))
    assert "header" in str(e), e


def test_a_few_repeated_headers_are_still_fine():
    _net, c = _client()
    resp = c.get(_url("/r/repeat=20/"))
    assert resp.status == 200
    assert _drain(resp) == 11


def test_endless_trailers_are_refused():
    _net, c = _client()
    e = raises(http.ProtocolError, _get_all, c, "/r/trailers=100000/")
    assert "trailer" in str(e), e


# -- codings, error bodies, digits ---------------------------------------------------------
def test_transfer_codings_other_than_chunked_are_refused():
    for te in ("gzip", "gzip%2C%20chunked", "deflate"):
        _net, c = _client()
        e = raises(http.ProtocolError, _get_all, c, "/r/te=%s/" % te)
        assert "Transfer-Encoding" in str(e), (te, e)


def test_error_status_with_a_body_beyond_max_body_keeps_its_retry_after():
    for status in (429, 503):
        _net, c = _client(max_body=4096)
        resp = c.get(_url("/r/big-error=%d/" % status))
        try:
            assert resp.status == status
            e = raises(http.HTTPError, resp.raise_for_status)
        finally:
            resp.close()
        assert e.status == status and e.retry_after_s == 120, e
        assert e.excerpt.startswith("overloaded"), e.excerpt


def test_non_ascii_digits_are_refused_as_on_micropython():
    _net, c = _client()
    # U+0665 ARABIC-INDIC DIGIT FIVE: CPython's int() and str.isdigit() take it
    raises(http.ProtocolError, _get_all, c, "/r/clen=%D9%A5/")
    resp = c.get(_url("/r/retry=%D9%A1%D9%A2%D9%A0/"))
    resp.close()
    assert resp.status == 503 and resp.retry_after_s is None, resp.retry_after_s
    resp = c.get(_url("/r/retry=120/"))
    resp.close()
    assert resp.retry_after_s == 120


# -- nothing unchecked reaches a request -------------------------------------------------------
def test_location_with_control_characters_or_spaces_is_refused():
    # %-encoded for the server's path ('/' too): "/a\rb", "/a\x00b", ...
    for loc in ("%2Fa%0Db", "%2Fa%00b", "%2Fa%20b", "%2Fa%09b", "http:%2F%2F127.0.0.1:1%2Fa%0Dx",
                "%2Fa%C3%A9"):
        net, c = _client()
        e = raises(http.ProtocolError, c.get, _url("/r/location=%s/" % loc))
        assert "Location" in str(e) or "URL" in str(e), (loc, e)
        assert net.opened == 1, (loc, net.opened)  # the next hop was never requested


def test_urls_with_control_characters_or_spaces_are_refused_before_connecting():
    for url in ("http://127.0.0.1:%d/a\r\nX-Evil: 1", "http://127.0.0.1:%d/a b",
                "http://127.0.0.1:%d/a\x00", "http://127.0.0.1:%d/a\nb",
                "http://evil\r\nhost:%d/"):
        net, c = _client()
        raises(http.ProtocolError, c.get, url % _port())
        assert net.opened == 0, url
    net, c = _client()
    raises(http.ProtocolError, c.get, _url("/a"), params=[("k", "v")], headers={"X": "a\x00b"})
    assert net.opened == 0


def test_tokens_with_control_characters_never_reach_the_request():
    for tok in ("abc\r\nX-Evil: 1", "abc\ndef", "abc\x00", "a b", ""):
        net, c = _client()
        raises(http.ProtocolError, c.get, _url("/a/"), auth=("bearer", tok))
        assert net.opened == 0, repr(tok)


def test_https_to_http_redirect_drops_authorization():
    from firmware.http.redirect import follow

    class _Answer:  # what follow() reads of a redirect answer
        def __init__(self, status, loc):
            self.status = status
            self.headers = {"location": loc}
            self.closed = False

        def close(self):
            self.closed = True

    auth = ("basic", "id", "key")
    for loc, keep in (("http://api.example.com/b", False), ("https://api.example.com/b", True),
                      ("http://api.example.com:443/b", False),
                      ("/b", True), ("//api.example.com/b", True),
                      ("https://other.example.com/b", False)):
        r = _Answer(302, loc)
        _m, url, a, _b = follow(r, "GET", "https://api.example.com/a", auth, None, 1, 3)
        assert r.closed and (a is auth) == keep, (loc, url, a)


def test_base_url_setting_refuses_control_characters_and_spaces():
    from firmware import config

    for bad in ("https://api.example.com/\r\nX-Evil: 1", "https://api.example.com/a b",
                "https://api.example.com\x00/", "https://api.exa mple.com/",
                "https://api.example.com/\t"):
        raises(ValueError, config.parse_url, bad)
    config.parse_url("https://api.example.com/rest?x=1")


def test_an_oauth_token_with_control_characters_is_refused_where_it_arrives():
    from firmware.providers import AuthError, oauth

    for tok in ("abc%0D%0AX-Evil:%201", "abc%00", "a%20b", "%C3%A9t%C3%A9"):
        net, c = _client()
        cred = oauth.Credentials("t", _url("/r/token=%s/" % tok), "id", "secret")
        state = {}
        e = raises(AuthError, oauth.get_token, c, state, 1752595200, cred)
        assert "token" in str(e) and "t.token" not in state, (tok, e)
    _net, c = _client()
    cred = oauth.Credentials("t", _url("/r/token=good-Token_1.~+%2F=/"), "id", "secret")
    assert oauth.get_token(c, {}, 1752595200, cred) == "good-Token_1.~+/="
