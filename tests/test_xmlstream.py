# runtimes: cpython micropython
# mpy-heap: 160k
"""formats/xmlstream.py: the streaming XML reader on ENTSO-E-shaped documents - every chunk
boundary, truncation at every byte, wrong namespaces, strictness one rule at a time, limits,
and a 10 MB document read in a flat, small heap."""

import gc

from firmware.formats.xmlstream import XMLError, items

from support import raises

NS = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"
ROOT = "Publication_MarketDocument"
P_POS = ROOT + "/TimeSeries/Period/Point/position"
P_AMT = ROOT + "/TimeSeries/Period/Point/price.amount"
P_POINT = ROOT + "/TimeSeries/Period/Point"
P_RES = ROOT + "/TimeSeries/Period/resolution"
P_START = ROOT + "/TimeSeries/Period/timeInterval/start"
P_DOMAIN = ROOT + "/TimeSeries/in_Domain.mRID"
PATHS = (P_POS, P_AMT, P_POINT, P_RES, P_START, P_DOMAIN)

DOC = b"\xef\xbb\xbf" + ("""<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root -->
<Publication_MarketDocument xmlns="%s" xmlns:x="urn:other">
  <mRID>e5e3a0</mRID>
  <type>A44</type>
  <x:TimeSeries><Period><Point><position>99</position></Point></Period></x:TimeSeries>
  <TimeSeries>
    <in_Domain.mRID codingScheme="A01">10YDK-1--------W</in_Domain.mRID>
    <curveType>A03</curveType>
    <Period>
      <timeInterval>
        <start>2024-03-30T23:00Z</start>
        <end>2024-03-31T22:00Z</end>
      </timeInterval>
      <resolution>PT60M</resolution>
      <Point><position>1</position><price.amount>16.99</price.amount></Point>
      <Point>
        <position>3</position>
        <price.amount>-0.01</price.amount>
      </Point>
      <?keep going?>
      <Point><position>4</position><price.amount>&#52;2&#x2e;5</price.amount></Point>
      <Point><position >5</position ><price.amount><![CDATA[7<&>]]></price.amount></Point>
      <Point><position>6</position><price.amount/></Point>
    </Period>
  </TimeSeries>
</Publication_MarketDocument>
""" % NS).encode()  # a UTF-8 byte order mark first

WANT = [(5, "10YDK-1--------W"), (4, "2024-03-30T23:00Z"), (3, "PT60M"),
        (0, "1"), (1, "16.99"), (2, None), (0, "3"), (1, "-0.01"), (2, None),
        (0, "4"), (1, "42.5"), (2, None), (0, "5"), (1, "7<&>"), (2, None),
        (0, "6"), (1, ""), (2, None)]


class Chunks:
    """A readinto() source that hands out at most n bytes at a time (a slow socket)."""

    def __init__(self, data, n):
        self.data, self.n, self.pos = data, n, 0

    def readinto(self, buf):
        k = min(self.n, len(buf), len(self.data) - self.pos)
        buf[:k] = self.data[self.pos:self.pos + k]
        self.pos += k
        return k


class Reads:
    """A read(n) source (no readinto)."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def read(self, n):
        out = self.data[self.pos:self.pos + min(n, 7)]
        self.pos += len(out)
        return out


def test_valid_document_in_memory_and_in_every_chunking():
    assert list(items(DOC, PATHS)) == WANT
    assert list(items(DOC, P_AMT)) == ["16.99", "-0.01", "42.5", "7<&>", ""]
    for n in range(1, 70):
        assert list(items(Chunks(DOC, n), PATHS, bufsize=128)) == WANT, n
    assert list(items(Reads(DOC), PATHS, bufsize=128)) == WANT
    assert list(items(bytearray(DOC), PATHS, namespaces=(NS[:-3],))) == WANT


def test_truncated_anywhere_is_an_xml_error():
    for cut in range(0, len(DOC) - 2):  # the last bytes are the newline after the root
        e = raises(XMLError, lambda d: list(items(d, PATHS)), DOC[:cut])
        assert e.offset <= cut, (cut, e)
        e = raises(XMLError, lambda d: list(items(Chunks(d, 5), PATHS, bufsize=128)),
                   DOC[:cut])
    assert list(items(DOC[:-1], PATHS)) == WANT


def test_namespaces():
    e = raises(XMLError, lambda: list(items(DOC, PATHS, namespaces=("urn:wrong",))))
    assert "wrong namespace" in str(e) and NS in str(e)
    assert str(e).endswith("at offset %d" % DOC.find(b"<Publication"))
    ack = (b'<Acknowledgement_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-1:'
           b'acknowledgementdocument:7:0"><Reason><code>999</code><text>No matching data'
           b'</text></Reason></Acknowledgement_MarketDocument>')
    p = ("Acknowledgement_MarketDocument/Reason/code", "Acknowledgement_MarketDocument/"
         "Reason/text", P_POS)
    assert list(items(ack, p, namespaces=(NS[:-3], "urn:iec62325.351:tc57wg16:451-1:"))) == \
        [(0, "999"), (1, "No matching data")]
    # a prefixed root in the right namespace matches; a foreign default namespace does not
    doc = b'<p:a xmlns:p="urn:x"><p:b>1</p:b><b xmlns="urn:y">2</b><b>3</b></p:a>'
    assert list(items(doc, "a/b")) == ["1"]
    raises(XMLError, lambda: list(items(b"<a><q:b/></a>", "a/b")))  # undeclared prefix
    raises(XMLError, lambda: list(items(b'<a xmlns:q=""/>', "a")))
    assert list(items(b'<a xmlns=""><b>1</b></a>', "a/b", namespaces=("",))) == ["1"]


def test_strictness_one_rule_at_a_time():
    ok = b'<a k="v"><b>t</b></a>'
    assert list(items(ok, "a/b")) == ["t"]
    bad = (
        b'<a><b>t</a></b>', b'<a><b>t</b>', b'<a></a><a></a>', b'x<a/>', b'<a/>x',
        b'<1a/>', b'<a-/><', b'<a:b:c/>', b'<a>&nbsp;</a>', b'<a>&amp</a>', b'<a>&#0;</a>',
        b'<a>&#xZZ;</a>', b'<a>\x01</a>', b'<a>\xff</a>', b'<a>\xc3</a>', b'<a>]]></a>',
        b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', b'<a><!-- a -- b --></a>',
        b'<a k="1" k="2"/>', b'<a k=1/>', b'<a k="<"/>', b'<a k="1"j="2"/>', b'<a k/>',
        b' <?xml version="1.0"?><a/>', b'<?xml version="1.0" encoding="latin-1"?><a/>',
        b'<a><![CDATA[x]]></a><![CDATA[y]]>', b'<a></b>', b'</a>', b'', b'   ',
        b'<a><b/></a><!-- trailing --><c/>', b'<a><!bogus></a>', b'<a>\xed\xa0\x80</a>',
    )
    for doc in bad:
        for src in (doc, Chunks(doc, 3)):
            e = raises(XMLError, lambda s: list(items(s, "a/b", bufsize=64)), src)
            assert " at offset " in str(e) and "\n" not in str(e), (doc, e)
    e = raises(XMLError, lambda: list(items(b"<a>&nbsp;</a>", "a")))
    assert str(e) == "undefined entity &nbsp; at offset 3"
    e = raises(XMLError, lambda: list(items(b"<a><b>t</a>", "a")))
    assert str(e) == "end tag </a> does not match <b> at offset 7"
    # allowed: '>' inside attribute values, whitespace in tags, comments and PIs around
    doc = b'<?xml version="1.0"?>\n<!--c--><?pi x?><a k="x>y" j=\'1\' ><b >t</b ></a><!--e-->'
    assert list(items(doc, "a/b")) == ["t"]
    assert list(items(Chunks(doc, 2), "a/b", bufsize=32)) == ["t"]


def test_limits():
    deep = b"<a>" * 20 + b"</a>" * 20
    e = raises(XMLError, lambda: list(items(deep, "a")))
    assert "max_depth=16" in str(e)
    assert list(items(deep, "a", max_depth=20)) == [None]
    long_text = b"<a><b>" + b"9" * 300 + b"</b></a>"
    e = raises(XMLError, lambda: list(items(long_text, "a/b")))
    assert "max_token=256" in str(e)
    assert list(items(long_text, "a/c")) == []  # text not asked for has no limit
    assert len(list(items(Chunks(long_text, 7), "a/b", max_token=300, bufsize=32))[0]) == 300
    long_tag = ("<a><b " + "".join('k%d="v" ' % k for k in range(40)) + "/></a>").encode()
    e = raises(XMLError, lambda: list(items(Chunks(long_tag, 9), "a/b", bufsize=64)))
    assert "longer than the buffer" in str(e)
    assert list(items(long_tag, "a/b")) == [""]


def test_a03_curve_with_gaps_reads_positions_as_given():
    pts = "".join("<Point><position>%d</position><price.amount>%d</price.amount></Point>"
                  % (p, p * 10) for p in (1, 2, 5, 9, 24))
    doc = ("<%s xmlns='%s'><TimeSeries><curveType>A03</curveType><Period><resolution>PT60M"
           "</resolution>%s</Period></TimeSeries></%s>" % (ROOT, NS, pts, ROOT)).encode()
    got = list(items(Chunks(doc, 13), (P_POS, P_AMT), bufsize=128))
    assert got == [(k, str(p * (10 if k else 1))) for p in (1, 2, 5, 9, 24) for k in (0, 1)]


# -- a 10 MB document in a small heap ----------------------------------------------------------
class Generated:
    """A 15-minute A44 document of `days` TimeSeries, made point by point as it is read."""

    def __init__(self, days):
        self.days, self.day, self.point = days, 0, 0
        self.pend = (b'<?xml version="1.0" encoding="utf-8"?>\n<' + ROOT.encode() +
                     b' xmlns="' + NS.encode() + b'">\n\t<type>A44</type>\n')
        self.pos = 0
        self.size = 0

    def _next(self):
        if self.day >= self.days:
            if self.day > self.days:
                return b""
            self.day += 1
            return b"</" + ROOT.encode() + b">\n"
        self.point += 1
        if self.point == 1:
            return (b"\t<TimeSeries>\n\t\t<curveType>A01</curveType>\n\t\t<Period>\n\t\t\t"
                    b"<timeInterval>\n\t\t\t\t<start>2024-01-01T23:00Z</start>\n\t\t\t\t"
                    b"<end>2024-01-02T23:00Z</end>\n\t\t\t</timeInterval>\n\t\t\t"
                    b"<resolution>PT15M</resolution>\n")
        if self.point == 98:
            self.day += 1
            self.point = 0
            return b"\t\t</Period>\n\t</TimeSeries>\n"
        k = self.point - 1
        return (b"\t\t\t<Point>\n\t\t\t\t<position>%d</position>\n\t\t\t\t"
                b"<price.amount>%d.%d</price.amount>\n\t\t\t</Point>\n"
                % (k, (self.day * 7 + k) % 300 - 50, k % 10))

    def readinto(self, buf):
        while self.pos >= len(self.pend):
            self.pend = self._next()
            self.pos = 0
            if not self.pend:
                return 0
        k = min(len(buf), len(self.pend) - self.pos)
        buf[:k] = self.pend[self.pos:self.pos + k]
        self.pos += k
        self.size += k
        return k


def _live():
    """What is alive: heap bytes on MicroPython; container objects on CPython (its allocator
    cannot be asked cheaply)."""
    gc.collect()
    try:
        return gc.mem_alloc()
    except AttributeError:
        return len(gc.get_objects())


def test_ten_megabytes_in_a_small_flat_heap():
    src = Generated(1140)  # 1140 days x 96 points: ~10.05 MB
    base = _live()
    seen, n, total = [], 0, 0
    for k, v in items(src, (P_POS, P_AMT)):
        n += 1
        if k:
            total += int(v.partition(".")[0])
        if n % 20000 == 0:
            seen.append(_live() - base)
    assert src.size > 10000000 and n == 1140 * 96 * 2
    assert total == sum((d * 7 + k) % 300 - 50 for d in range(1140) for k in range(1, 97))
    # what stays alive is the reader's own state (buffer, names, open elements), the same
    # after 0.2 MB as after 10 MB
    assert len(seen) == 10 and max(seen) - seen[0] <= (256 if hasattr(gc, "mem_alloc") else 5)
    assert max(seen) < (8192 if hasattr(gc, "mem_alloc") else 100), seen
