"""Helpers shared by the portable core tests (run under pytest and under MicroPython)."""

import os

try:
    import pytest

    Skip = pytest.skip.Exception
except ImportError:  # MicroPython: the runner counts these as skipped

    class Skip(Exception):
        pass


TESTS_DIR = os.getenv("WW_TESTS_DIR") or "tests"


def skip(reason):
    raise Skip(reason)


def fixture_path(rel):
    return TESTS_DIR + "/fixtures/" + rel


def read_fixture(rel):
    with open(fixture_path(rel), "rb") as f:
        return f.read()


def env_int(name):
    """An integer set by the test driver (e.g. a loopback server's port); skips if absent."""
    v = os.getenv(name)
    if not v:
        skip(name + " not set: loopback servers not running")
    return int(v)


_TAGS = [0]


def unique_tag(prefix):
    """A tag no other test run uses (servers keep recorded requests and sessions by tag)."""
    _TAGS[0] += 1
    return "%s%d_%d" % (prefix, int.from_bytes(os.urandom(3), "little"), _TAGS[0])


def loopback_client(timeout_s=10, **kw):
    """(the http module, a Client on plain sockets) for the loopback servers; skips without
    the client."""
    import socket

    try:
        from firmware.hal.contract import tcp_connect
        from firmware.http import client as http
    except ImportError as e:
        skip("http client not available: %s" % e)

    def open_socket(host, port, t):
        return tcp_connect(socket, host, port, t)

    return http, http.Client(open_socket, timeout_s=timeout_s, **kw)


def response_json(resp):
    """Read a loopback server's answer to the end through a small buffer, close it, and
    return its JSON (None for an empty body)."""
    import json

    try:
        buf = bytearray()
        chunk = bytearray(512)
        while True:
            n = resp.readinto(chunk)
            if not n:
                break
            buf.extend(chunk[:n])
    finally:
        resp.close()
    return json.loads(bytes(buf)) if buf else None


def needs_tls():
    """Skip where this interpreter cannot do TLS (a MicroPython built without ssl)."""
    try:
        import ssl  # noqa: F401
    except ImportError:
        skip("no ssl module in this interpreter")


def loopback_ca():
    """The loopback servers' test CA (DER) for https tests; skips without TLS or servers."""
    needs_tls()
    v = os.getenv("WW_CA_DER")
    if not v:
        skip("WW_CA_DER not set: loopback servers not running")
    return v


def raises(exc_type, fn, *args, **kw):
    """Call fn and return the exception it raised; fail if it raised nothing or another type."""
    try:
        fn(*args, **kw)
    except exc_type as e:
        return e
    raise AssertionError("%s not raised by %s" % (exc_type.__name__, getattr(fn, "__name__", fn)))


class TmpDir:
    """A scratch directory that works on both runtimes (no tempfile on MicroPython)."""

    _n = 0

    def __init__(self, tag="t"):
        TmpDir._n += 1
        base = os.getenv("WW_TMP") or "/tmp"
        uniq = int.from_bytes(os.urandom(4), "little")
        self.path = "%s/ww_%s_%d_%d" % (base, tag, uniq, TmpDir._n)
        rmtree(self.path)
        os.mkdir(self.path)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        rmtree(self.path)


def rmtree(path):
    try:
        entries = os.listdir(path)
    except OSError:
        return
    for name in entries:
        p = path + "/" + name
        try:
            os.remove(p)
        except OSError:
            rmtree(p)
    try:
        os.rmdir(path)
    except OSError:
        pass
