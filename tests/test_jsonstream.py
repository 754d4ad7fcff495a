# runtimes: cpython micropython
"""formats/jsonstream: conformance (RFC 8259), chunk boundaries, selection, limits, sources."""

from firmware.formats import jsonstream
from firmware.formats.jsonstream import JSONError, items, loads

from support import raises, read_fixture


class Chunks:
    """A stream that hands out at most k bytes per readinto() call (like a slow socket)."""

    def __init__(self, data, k):
        self.data = data
        self.k = k
        self.pos = 0
        self.calls = 0

    def readinto(self, buf):
        self.calls += 1
        n = min(self.k, len(buf), len(self.data) - self.pos)
        buf[0:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


class ReadOnly:
    """A stream with only read(n), returning bytes objects of at most k bytes."""

    def __init__(self, data, k):
        self.data = data
        self.k = k
        self.pos = 0

    def read(self, n):
        n = min(n, self.k)
        d = self.data[self.pos:self.pos + n]
        self.pos += len(d)
        return d


class Failing:
    """Gives `good` bytes, then its own read raises OSError (a dropped connection)."""

    def __init__(self, data, good):
        self.data = data
        self.good = good
        self.pos = 0

    def readinto(self, buf):
        if self.pos >= self.good:
            raise OSError(104)
        n = min(len(buf), self.good - self.pos)
        buf[0:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


class Repeat:
    """`count` copies of one byte, streamed (a huge document that is never in memory)."""

    def __init__(self, byte, count):
        self.byte = byte[0]
        self.left = count

    def readinto(self, buf):
        n = min(len(buf), self.left)
        for i in range(n):
            buf[i] = self.byte
        self.left -= n
        return n


# Valid documents and the value json.loads gives for them (written by hand from RFC 8259).
VALID = (
    (b"0", 0),
    (b"-0", 0),
    (b"123", 123),
    (b"-123", -123),
    (b"12345678901234567890123", 12345678901234567890123),
    (b"1.5", 1.5),
    (b"-0.25", -0.25),
    (b"1e3", 1000.0),
    (b"1E+3", 1000.0),
    (b"25e-1", 2.5),
    (b"0.5e1", 5.0),
    (b"0e0", 0.0),
    (b"true", True),
    (b"false", False),
    (b"null", None),
    (b'""', ""),
    (b'"abc"', "abc"),
    (b'"a\\"b\\\\c\\/d"', 'a"b\\c/d'),
    (b'"\\b\\f\\n\\r\\t"', "\b\f\n\r\t"),
    (b'"\\u0041\\u00e9\\u20AC"', "A\u00e9\u20ac"),
    (b'"\\u0000"', "\x00"),
    (b'"\\ud83d\\ude00"', "\U0001f600"),
    (b'"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"', "\u00e9\u20ac\U0001f600"),
    (b'"\x7f"', "\x7f"),
    (b"[]", []),
    (b"{}", {}),
    (b" \t\r\n[ 1 , 2 ]\n ", [1, 2]),
    (b'[1,"a",true,null,[],{},[[]]]', [1, "a", True, None, [], {}, [[]]]),
    (b'{"a":1,"b":[2,{"c":null}],"":"e"}', {"a": 1, "b": [2, {"c": None}], "": "e"}),
    (b'{"a":1,"a":2}', {"a": 2}),  # duplicate names: the last one wins, like json.loads
    (b'{"k\\u00e9y": "v"}', {"k\u00e9y": "v"}),
    (b"[-1.5e-3,0.0,1e-0]", [-0.0015, 0.0, 1.0]),
)

# Invalid documents: each must raise JSONError naming the offset given here.
INVALID = (
    (b"", 0),  # no value
    (b"   ", 3),
    (b"[1,]", 3),  # trailing comma
    (b'{"a":1,}', 7),
    (b"[,1]", 1),
    (b"[1 2]", 3),  # missing comma
    (b'{"a":1 "b":2}', 7),
    (b'{"a" 1}', 5),  # missing colon
    (b'{"a"::1}', 5),
    (b'{1:2}', 1),  # non-string key
    (b"{'a':1}", 1),  # single quotes
    (b"'a'", 0),
    (b"01", 0),  # leading zero
    (b"-01", 0),
    (b"00", 0),
    (b"1.", 0),
    (b".5", 0),
    (b"-", 0),
    (b"+1", 0),
    (b"1e", 0),
    (b"1e+", 0),
    (b"0x10", 1),
    (b"NaN", 0),
    (b"Infinity", 0),
    (b"-Infinity", 0),
    (b"tru", 0),
    (b"nul", 0),
    (b"True", 0),
    (b"nulll", 4),  # trailing garbage after null
    (b'"abc', 0),  # unterminated string
    (b'"a\nb"', 2),  # unescaped control characters
    (b'"a\x00"', 2),
    (b'"\x1f"', 1),
    (b'"\\x"', 2),  # bad escapes
    (b'"\\u12"', 5),
    (b'"\\u12g4"', 5),
    (b'"\\', 0),
    (b'"\\ud800"', 1),  # unpaired surrogates
    (b'"\\udc00\\ud800"', 1),
    (b'"\\ud800\\u0041"', 1),
    (b"[1", 2),  # truncated
    (b'{"a":', 5),
    (b'{"a"', 4),
    (b"[", 1),
    (b"{", 1),
    (b"]", 0),
    (b"}", 0),
    (b"[1]]", 3),  # trailing garbage
    (b"[1] x", 4),
    (b"1 2", 2),
    (b'{"a":1}{', 7),
    (b"[1}", 2),  # mismatched brackets
    (b'{"a":1]', 6),
    (b'"\xff"', 1),  # invalid UTF-8
    (b'"\xc3"', 2),
    (b'"\xc0\x80"', 1),  # overlong
    (b'"\xe0\x80\x80"', 2),
    (b'"\xed\xa0\x80"', 2),  # encoded surrogate
    (b'"\xf4\x90\x80\x80"', 2),  # above U+10FFFF
    (b'"\xf5\x80\x80\x80"', 1),
    (b'"\x80"', 1),
    (b"\xef\xbb\xbf{}", 0),  # byte order mark
    (b"[\xc3\xa9]", 1),  # non-ASCII outside strings
    (b"\x00", 0),
    (b"[1,\x0b2]", 3),  # vertical tab is not JSON whitespace
)


def err_of(fn, *args, **kw):
    e = raises(JSONError, fn, *args, **kw)
    assert "offset" in str(e), str(e)
    return e


def test_error_is_value_error():
    assert issubclass(JSONError, ValueError)
    e = err_of(loads, b"[1,]")
    assert e.offset == 3 and "at offset 3" in str(e)


def test_valid_documents():
    for doc, want in VALID:
        got = loads(doc)
        assert got == want, (doc, got)
        assert type(got) is type(want), doc


def test_negative_zero_float():
    v = loads(b"-0.0")
    assert v == 0.0 and str(v) == "-0.0"


def test_invalid_documents_name_the_offset():
    for doc, off in INVALID:
        e = err_of(loads, doc)
        assert e.offset == off, (doc, off, str(e))
        assert ("offset %d" % off) in str(e)


def test_source_kinds_agree():
    doc = b'{"a": [1, "x\\u00e9", {"b": null}], "c": 2.5}'
    want = loads(doc)
    assert loads(bytearray(doc)) == want
    assert loads(memoryview(doc)) == want
    assert loads(doc.decode()) == want
    assert loads(Chunks(doc, 3)) == want
    assert loads(ReadOnly(doc, 5)) == want
    assert loads(memoryview(doc), bufsize=4) == want
    odd = ReadOnly(doc, 4)
    odd.data = bytearray(doc)  # read() returning bytearray chunks
    assert loads(odd) == want
    assert list(items(odd.__class__(bytearray(doc), 3), "a.*")) == want["a"]


def split_results(doc, fn):
    """fn(source) on the whole bytes and on streams of k bytes per read, k = 1..len(doc)."""
    try:
        whole = ("ok", fn(doc))
    except JSONError as e:
        whole = ("err", e.offset)
    for k in range(1, len(doc) + 1):
        for src in (Chunks(doc, k), ReadOnly(doc, k)):
            try:
                got = ("ok", fn(src))
            except JSONError as e:
                got = ("err", e.offset)
            assert got == whole, (doc, k, got, whole)
    return whole


def test_every_chunk_boundary_valid():
    for doc, want in VALID:
        assert split_results(doc, loads) == ("ok", want)


def test_every_chunk_boundary_invalid():
    for doc, off in INVALID:
        assert split_results(doc, loads) == ("err", off)


def test_every_chunk_boundary_items():
    doc = (b'{"status": "ok", "results": [{"id": 1, "skip": "long \\"string\\" \xc3\xa9 here",'
           b' "pc": [{"p": 0.5, "n": "a\\u00e9"}, {"p": -1e-3, "n": "b"}]}, {"id": 22, "pc": []}]}')
    paths = ("status", "results.*.id", "results.*.pc.*")

    def run(src):
        return list(items(src, paths))

    got = split_results(doc, run)
    assert got == ("ok", [(0, "ok"), (1, 1), (2, {"p": 0.5, "n": "a\u00e9"}),
                          (2, {"p": -0.001, "n": "b"}), (1, 22)]), got


def test_bufsize_does_not_matter():
    doc = read_fixture("arcadia/smart_price_48h_default.json")
    want = loads(doc)
    for bufsize in (1, 2, 7, 64, 256, 4096):
        assert loads(Chunks(doc, 1 << 20), bufsize=bufsize) == want


def test_smart_price_fixtures_match_json_module():
    import json

    for name in ("smart_price_48h_default.json", "smart_price_empty.json",
                 "error_invalid_master_tariff.json", "error_unauthorized.json"):
        doc = read_fixture("arcadia/" + name)
        assert loads(doc) == json.loads(doc), name


def test_smart_price_items():
    import json

    doc = read_fixture("arcadia/smart_price_48h_default.json")
    ref = json.loads(doc)
    pcs = list(items(Chunks(doc, 37), "results.*.priceChanges.*"))
    assert pcs == ref["results"][0]["priceChanges"]
    assert len(pcs) == len(ref["results"][0]["priceChanges"]) > 3
    got = list(items(doc, ("status", "results.*.masterTariffId", "results.*.currency",
                           "results.*.priceChanges.*")))
    assert got[0] == (0, "success")
    assert (1, ref["results"][0]["masterTariffId"]) in got
    assert (2, "USD") in got
    assert [v for k, v in got if k == 3] == pcs
    # document order: currency comes before priceChanges in the fixture
    ks = [k for k, v in got]
    assert ks.index(2) < ks.index(3)


def test_smart_price_groupby_hour_fixture():
    # streamed side by side (the json module's tree of this 43 KB file does not fit the heap)
    doc = read_fixture("arcadia/smart_price_groupby_hour_7d_dst.json")
    path = "results.*.priceChanges.*"
    count = 0
    prev = ""
    other = items(doc, path, bufsize=64)
    for a in items(Chunks(doc, 97), path):
        assert a == next(other)
        assert isinstance(a["rateAmount"], float) and a["fromDateTime"] > prev
        prev = a["fromDateTime"]
        count += 1
    assert count == doc.count(b'"rateAmount"') > 100
    raises(StopIteration, next, other)


def test_error_documents_select():
    doc = read_fixture("arcadia/error_unauthorized.json")
    got = list(items(doc, ("status", "results.*.code", "results.*.message")))
    assert got[0] == (0, "error")
    assert (1, "Unauthorized") in got


def test_empty_results():
    doc = read_fixture("arcadia/smart_price_empty.json")
    assert list(items(doc, "results.*.priceChanges.*")) == []
    assert list(items(doc, "pageCount")) == [25]


def test_path_forms():
    doc = b'{"a": {"b": [1, [2, 3], {"c": 4}]}, "d": [[5, 6], [7]], "x.y": 8}'
    assert list(items(doc, "")) == [loads(doc)]
    assert list(items(doc, "a.b")) == [[1, [2, 3], {"c": 4}]]
    assert list(items(doc, "a.b.*")) == [1, [2, 3], {"c": 4}]
    assert list(items(doc, "a.b.*.c")) == [4]
    assert list(items(doc, "a.b.*.*")) == [2, 3]
    assert list(items(doc, "d.*.*")) == [5, 6, 7]
    assert list(items(doc, "nothing.here")) == []
    assert list(items(doc, "a.*")) == []  # '*' matches array elements, not object members
    assert list(items(doc, ["d", "a.b.*.c"])) == [(1, 4), (0, [[5, 6], [7]])]
    # a path that is a prefix of another wins
    assert list(items(doc, ("a", "a.b"))) == [(0, {"b": [1, [2, 3], {"c": 4}]})]
    raises(ValueError, items, doc, "a..b")


def test_escaped_keys_match_paths():
    doc = b'{"r\\u0065sults": [{"v": 1}, {"v": 2}]}'
    assert list(items(Chunks(doc, 2), "results.*.v")) == [1, 2]


def test_unknown_fields_are_skipped_but_validated():
    doc = b'{"junk": [1, {"x": [true, "\\u00e9"]}], "want": 1, "more": {"deep": [[[]]]}}'
    assert list(items(doc, "want")) == [1]
    bad = b'{"junk": [1, {"x": [tru]}], "want": 1}'
    err_of(lambda: list(items(bad, "want")))
    bad2 = b'{"want": 1, "junk": "\\q"}'
    err_of(lambda: list(items(bad2, "want")))


def test_whole_document_validated_when_run_to_end():
    doc = b'{"a": [1, 2]} garbage'
    g = items(doc, "a.*")
    assert next(g) == 1
    assert next(g) == 2
    e = err_of(lambda: list(g))
    assert e.offset == 14


def test_early_stop_reads_less():
    body = b'{"list": [' + b",".join(b'{"i": %d, "pad": "%s"}' % (i, b"x" * 50)
                                     for i in range(200)) + b"]}"
    src = Chunks(body, 64)
    g = items(src, "list.*.i")
    first = [next(g), next(g)]
    g.close()
    assert first == [0, 1]
    assert src.pos < len(body) // 10, src.pos
    # a broken tail is not noticed when the caller stops before it
    src = Chunks(body[:-30] + b"@@@", 64)
    for v in items(src, "list.*.i"):
        if v == 3:
            break
    assert src.pos < len(body) // 10


def test_depth_limit():
    deep = b"[" * 33 + b"]" * 33
    e = err_of(loads, deep)
    assert e.offset == 32 and "max_depth" in str(e)
    assert loads(b"[" * 32 + b"]" * 32) is not None
    assert loads(deep, max_depth=40) is not None
    e = err_of(loads, b'{"a":' * 1000 + b"1" + b"}" * 1000)
    assert "max_depth" in str(e)
    # deep documents never recurse: only the limit (or the heap, as a JSONError) speaks
    e = err_of(loads, b"[" * 1000 + b"]" * 1000 + b"]", max_depth=5000)
    assert e.offset == 2000
    err_of(loads, Repeat(b"[", 300000), max_depth=1000000)


def test_token_limit():
    s = b'"' + b"a" * 5000 + b'"'
    e = err_of(loads, s)
    assert "max_token" in str(e) and e.offset == 0
    assert loads(s, max_token=5000) == "a" * 5000
    assert loads(b'"' + b"a" * 4096 + b'"') == "a" * 4096
    e = err_of(loads, Chunks(b"[" + b"1" * 5000 + b"]", 100))
    assert "max_token" in str(e) and e.offset == 1
    # skipped strings are never held, so they have no limit
    doc = b'{"skip": "' + b"b" * 10000 + b'", "k": 1}'
    assert list(items(Chunks(doc, 100), "k")) == [1]
    # long strings are checked in windows, UTF-8 sequences across window edges included
    body = ("x\u00e9\u20ac" * 1500).encode("utf-8")  # 9000 bytes, no escapes
    doc = b'{"skip": "' + body + b'", "k": 1, "bad": "' + body + b'\x01"}'
    assert next(items(doc, "k")) == 1
    e = err_of(lambda: list(items(doc, "k")))
    assert e.offset == len(doc) - 3 and "control" in str(e)
    assert loads(b'"' + body + b'"', max_token=9000) == body.decode("utf-8")
    # keys that are looked up are held: limited
    e = err_of(lambda: list(items(b'{"' + b"k" * 5000 + b'": 1}', "k")))
    assert "max_token" in str(e)


def test_source_errors_pass_through():
    doc = b'{"a": [' + b"1, " * 400 + b"2]}"
    e = raises(OSError, lambda: list(items(Failing(doc, 700), "a.*")))
    assert e.args[0] == 104
    raises(TypeError, items, 42, "a")


class NoneAtEnd:
    """read() that returns None at the end (like a non-blocking socket with nothing left)."""

    def __init__(self, data):
        self.data = data

    def read(self, n):
        d, self.data = self.data[:n], self.data[n:]
        return d or None


def test_reader_returning_none_ends_the_data():
    assert loads(NoneAtEnd(b'{"a": [1, 2]}')) == {"a": [1, 2]}
    e = err_of(loads, NoneAtEnd(b'{"a": [1, 2'))
    assert e.offset == 11


def test_long_strings_across_chunks():
    parts = b"x\\\"y\\u00e9\xc3\xa9\\ud83d\\ude00" * 40
    doc = b'{"s": "' + parts + b'", "t": "' + parts + b'"}'
    want = 'x"y\u00e9\u00e9\U0001f600' * 40
    for k in (1, 2, 3, 5, 7, 64):
        assert list(items(Chunks(doc, k), "s")) == [want]
        assert list(items(Chunks(doc, k), "t")) == [want]


def test_big_numbers():
    assert loads(b"[" + b"9" * 1000 + b"]") == [int("9" * 1000)]
    assert loads(b"1e400") == float("inf")
    assert loads(b"-1e400") == float("-inf")
    assert loads(b"1e-400") == 0.0


def test_defaults_documented():
    assert jsonstream.MAX_DEPTH == 32
    assert jsonstream.MAX_TOKEN == 4096


def test_random_bytes_only_raise_json_error():
    import random

    random.seed(1234)
    alphabet = b'{}[]:,"\\ 0123456789-+.eEtruefalsn\xc3\xa9\xff\x00\n'
    for _ in range(400):
        ln = random.getrandbits(5)
        doc = bytes(alphabet[random.getrandbits(6) % len(alphabet)] for _ in range(ln))
        for src in (doc, Chunks(doc, 1 + random.getrandbits(2))):
            try:
                loads(src)
            except JSONError:
                pass
            try:
                for _v in items(src, ("a.*", "*.b", "")):
                    pass
            except JSONError:
                pass


def test_byte_tables():
    def table(pairs):
        t = bytearray(256)
        for chars, code in pairs:
            for c in chars:
                t[c] = code
        return bytes(t)

    cls = table(((b" \t\r\n", 1), (b'"', 2), (b"{", 3), (b"[", 4), (b"}", 5), (b"]", 6),
                 (b",", 7), (b":", 8), (b"-0123456789", 9), (b"tfn", 10)))
    ncls = table(((b"-", 1), (b"0", 2), (b"123456789", 3), (b".", 4), (b"eE", 5), (b"+", 6)))
    assert cls == jsonstream._CLS
    assert ncls == jsonstream._NCLS
    assert len(jsonstream._NTAB) == 80


def test_many_keys_and_repeated_keys():
    keys = ["k%d" % i for i in range(200)]
    doc = ("[" + ",".join('{"%s": %d, "same": "v"}' % (k, i) for i, k in enumerate(keys))
           + "]").encode()
    got = loads(doc)
    assert len(got) == 200
    for i, d in enumerate(got):
        assert d == {keys[i]: i, "same": "v"}
    long = "k" * 100  # longer names are not cached, still decoded every time
    assert loads(('[{"%s": 1}, {"%s": 2}]' % (long, long)).encode()) == [{long: 1}, {long: 2}]
    # a key first seen plain is the same key when seen again escaped, and vice versa
    doc = b'[{"ab": 1}, {"a\\u0062": 2}, {"ab": 3}]'
    assert list(items(doc, "*.ab")) == [1, 2, 3]
    assert list(items(Chunks(doc, 5), "*.ab")) == [1, 2, 3]
