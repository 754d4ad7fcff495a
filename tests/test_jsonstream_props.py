"""Property tests (CPython only, hypothesis): jsonstream.loads/items against the json module."""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.formats.jsonstream import JSONError, items, loads

# Strings without lone surrogates (documented: an unpaired \\uD800-\\uDFFF is a JSONError).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
SCALARS = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda kids: st.lists(kids, max_size=6) | st.dictionaries(TEXT, kids, max_size=6),
    max_leaves=40)
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class Chunks:
    def __init__(self, data, k):
        self.data = data
        self.k = k
        self.pos = 0

    def readinto(self, buf):
        n = min(self.k, len(buf), len(self.data) - self.pos)
        buf[0:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


def same(a, b):
    """Equal, with float -0.0/0.0 and int/float types told apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def dumps_variants(value, data):
    ensure_ascii = data.draw(st.booleans())
    indent = data.draw(st.sampled_from([None, 0, 2, "\t"]))
    seps = data.draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent,
                      separators=seps).encode()


@SETTINGS
@given(VALUES, st.data())
def test_loads_matches_json_loads(value, data):
    doc = dumps_variants(value, data)
    want = json.loads(doc)
    assert same(loads(doc, max_depth=1000), want)
    k = data.draw(st.integers(1, max(1, len(doc))))
    assert same(loads(Chunks(doc, k), max_depth=1000, bufsize=data.draw(st.integers(1, 64))),
                want)


@SETTINGS
@given(st.lists(VALUES, max_size=8), st.data())
def test_items_on_arrays(elems, data):
    doc = dumps_variants({"meta": {"n": len(elems)}, "list": elems, "tail": [1]}, data)
    want = json.loads(doc)["list"]
    k = data.draw(st.integers(1, 40))
    got = list(items(Chunks(doc, k), "list.*", max_depth=1000))
    assert same(got, want)
    got = list(items(doc, ("meta.n", "list.*", "tail.*"), max_depth=1000))
    assert got[0] == (0, len(elems))
    assert same([v for i, v in got if i == 1], want)
    assert got[-1] == (2, 1)


@SETTINGS
@given(st.binary(max_size=60), st.integers(1, 8))
def test_random_bytes_raise_only_json_error(doc, k):
    for src in (doc, Chunks(doc, k)):
        try:
            loads(src)
        except JSONError as e:
            assert "offset" in str(e) and 0 <= e.offset <= len(doc)
        try:
            list(items(src, ("a.*", "*.*", "")))
        except JSONError:
            pass


JSONISH = st.lists(st.sampled_from([b"{", b"}", b"[", b"]", b",", b":", b'"a"', b'"', b"\\",
                                    b"1", b"-", b"0", b".", b"e", b"true", b"nul", b" ",
                                    b"\\u00", b"d8", b"\xc3", b"\xa9", b"\x00"]),
                   max_size=30).map(b"".join)


@SETTINGS
@given(JSONISH, st.integers(1, 5))
def test_jsonish_bytes_agree_with_json_module(doc, k):
    """On near-JSON noise, loads errs exactly when json.loads does (or returns the same)."""
    try:  # strict UTF-8 first: json.loads(bytes) would guess UTF-16 from NUL bytes
        want = json.loads(doc.decode("utf-8"))
    except ValueError:
        want = JSONError
    try:
        got = loads(Chunks(doc, k))
    except JSONError:
        got = JSONError
    if want is JSONError or got is JSONError:
        # documented differences: lone surrogates (json keeps them, we reject them)
        if got is JSONError and want is not JSONError:
            assert "surrogate" in json.dumps(want) or "\\ud" in json.dumps(want)
        else:
            assert got is want
    else:
        assert same(got, want)


@SETTINGS
@given(st.text(max_size=20), st.data())
def test_strings_with_surrogates(s, data):
    """Lone surrogates (only reachable through escapes) raise JSONError; pairs decode."""
    doc = json.dumps(s, ensure_ascii=True).encode()
    lone = any(0xD800 <= ord(c) <= 0xDFFF for c in s)
    try:
        got = loads(doc)
    except JSONError as e:
        assert lone and "surrogate" in str(e)
    else:
        assert not lone and got == s
