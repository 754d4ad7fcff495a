"""Minimal streaming XML reader: pick the text of a few elements out of a document that is never
held whole (the ENTSO-E answer, providers/entsoe.py), in the manner of jsonstream.py.

    for k, text in items(resp, ("Doc/TimeSeries/Period/Point/position", "Doc/TimeSeries")):
        ...   # at the END of every matching element: k = the index of its path; text = its
              # character data (entities decoded, CDATA kept), or None if it had child elements
    for text in items(resp, "Doc/a/b"): ...               # one path: the texts alone

Paths are '/'-separated local names from the root element; only elements in the root's
namespace match (a foreign element and what it holds are skipped). `namespaces`: prefixes one of
which the root's namespace name must start with, else XMLError("wrong namespace ...").

Layers: a chunk reader (one buffer, refilled with readinto(); an unfinished tag, entity or UTF-8
sequence is moved to its front first, so the tokenizer always sees them whole), a tokenizer that
finds markup with bytes.find and checks text with min()/max() in C, and a path selector (a trie)
that builds only the texts asked for.

Strict XML 1.0 well-formedness for all it reads; errors are XMLError (ValueError) ending "at
offset N", the byte offset in the document: one root element, matching end tags, well-formed
names, quoted attributes without '<' or duplicates, declared prefixes, only the five predefined
entities and character references, no control characters, valid UTF-8 (a BOM is allowed, an
encoding other than UTF-8/US-ASCII is not), comments without '--', only whitespace, comments and
PIs around the root. A DOCTYPE is refused: no entity is ever expanded. Limits: max_depth nested
elements, max_token bytes per name or collected text, and a tag must fit the buffer (bufsize).
Memory: the buffer, the open elements' names and the text being built: flat in document size.
"""

from ..compat import const

__all__ = ("XMLError", "items")

MAX_DEPTH = const(16)
MAX_TOKEN = const(256)
BUFSIZE = const(512)
_MAX_NAMES = const(64)  # distinct tag names remembered (checked once, shared str objects)

_WS = b" \t\r\n"
_WS_EACH = (b" ", b"\t", b"\r", b"\n")
_ENT = {b"lt": b"<", b"gt": b">", b"amp": b"&", b"quot": b'"', b"apos": b"'"}
_XML_NS = "http://www.w3.org/XML/1998/namespace"


class XMLError(ValueError):
    """Malformed XML or a limit exceeded; `.offset` is the byte offset named in the message."""

    def __init__(self, msg, offset):
        super().__init__("%s at offset %d" % (msg, offset))
        self.offset = offset


class _Reader:
    """The chunk reader: buf[0:n] holds document bytes from offset `base` on."""

    def __init__(self, src, bufsize):
        self.base = 0
        self.eof = False
        if isinstance(src, str):
            src = src.encode()
        if isinstance(src, (bytes, bytearray, memoryview)):
            self.buf = bytes(src) if isinstance(src, memoryview) else src  # the one chunk
            self.n = len(src)
            self.eof = True
            return
        self.buf = self.own = bytearray(bufsize)
        self.n = 0
        self.rd = getattr(src, "readinto", None)
        if self.rd is None:
            self.read = getattr(src, "read", None)
            if self.read is None:
                raise TypeError("XML source must be bytes or have readinto() or read()")

    def more(self, keep):
        """Move buf[keep:n] to the front and read after it; the number of new bytes (0: end)."""
        if self.eof:
            return 0
        buf, n = self.own, self.n  # a stream: our own buffer
        left = n - keep
        if keep:
            buf[0:left] = buf[keep:n]
            self.base += keep
        room = len(buf) - left
        if room <= 0:
            return -1  # a construct longer than the buffer
        if self.rd is not None:
            k = self.rd(memoryview(buf)[left:]) or 0
        else:
            data = self.read(room) or b""
            if isinstance(data, str):
                data = data.encode()
            k = len(data)
            buf[left:left + k] = data
        if not k:
            self.eof = True
        self.n = left + k
        return k


def _compile(paths):
    """Paths -> trie of nodes [{local name: node} or None, index of the path or -1]."""
    root = [None, -1]
    for k, p in enumerate(paths):
        node = root
        for seg in p.split("/"):
            if not seg:
                raise ValueError("empty segment in path %r" % p)
            if node[0] is None:
                node[0] = {}
            nxt = node[0].get(seg)
            if nxt is None:
                nxt = node[0][seg] = [None, -1]
            node = nxt
        if node[1] < 0:
            node[1] = k
    return root


def _name(raw, names, off):
    """(local, prefix, key) of a tag or attribute name, checked once and remembered; `key` is
    one shared bytes object per name (the open-element stack holds it)."""
    got = names.get(raw)
    if got is not None:
        return got
    if not raw or len(raw) > MAX_TOKEN:
        raise XMLError("bad name" if raw else "missing name", off)
    for k, c in enumerate(raw):
        if not (65 <= c <= 90 or 97 <= c <= 122 or c == 95 or c == 58 or c >= 128 or
                (k and (48 <= c <= 57 or c == 45 or c == 46))):
            raise XMLError("bad character in name %r" % bytes(raw), off + k)
    key = bytes(raw)
    if max(key) > 127:
        _utf8(key, off)
    s = key.decode()
    prefix, sep, local = s.partition(":")
    if not sep:
        prefix, local = "", s
    elif not prefix or not local or ":" in local:
        raise XMLError("bad qualified name %r" % s, off)
    got = (local, prefix, key)
    if len(names) < _MAX_NAMES:
        names[key] = got
    return got


def _check(seg, off):
    """Character data (no markup): legal characters, valid UTF-8, well-formed references."""
    t = seg.strip(_WS)
    if not t:
        return
    if min(t) < 32:
        for k, c in enumerate(seg):
            if c < 32 and c not in (9, 10, 13):
                raise XMLError("control character", off + k)
    if max(t) > 127:
        _utf8(t, off)
    if b"]]>" in t:
        raise XMLError("']]>' in text", off + seg.find(b"]]>"))
    a = t.find(b"&")
    while a >= 0:
        _ref(t, a, off)
        a = t.find(b"&", a + 1)


def _utf8(t, off):
    """XMLError unless t is UTF-8 of XML characters: no overlong forms, no surrogates, nothing
    above U+10FFFF, no U+FFFE/U+FFFF (bytes.decode on MicroPython lets some of these pass)."""
    need, lo, hi = 0, 0x80, 0xBF
    for k in range(len(t)):
        c = t[k]
        if need:
            if c < lo or c > hi:
                raise XMLError("invalid UTF-8", off + k)
            need -= 1
            lo, hi = 0x80, 0xBF
        elif c >= 0x80:
            if 0xC2 <= c <= 0xDF:
                need = 1
            elif 0xE0 <= c <= 0xEF:
                need = 2
                lo = 0xA0 if c == 0xE0 else 0x80
                hi = 0x9F if c == 0xED else 0xBF
            elif 0xF0 <= c <= 0xF4:
                need = 3
                lo = 0x90 if c == 0xF0 else 0x80
                hi = 0x8F if c == 0xF4 else 0xBF
            else:
                raise XMLError("invalid UTF-8", off + k)
    if need:
        raise XMLError("invalid UTF-8", off + len(t))
    if b"\xef\xbf\xbe" in t or b"\xef\xbf\xbf" in t:
        raise XMLError("U+FFFE/U+FFFF in text", off)


def _ref(t, a, off):
    """The replacement bytes of the entity or character reference at t[a] ('&')."""
    e = t.find(b";", a)
    if e < 0 or e - a > 12:
        raise XMLError("bad reference", off + a)
    name = bytes(t[a + 1:e])
    rep = _ENT.get(name)
    if rep is not None:
        return rep
    if name[:1] != b"#":
        raise XMLError("undefined entity &%s;" % name.decode("utf-8", "replace"), off + a)
    try:
        if name[:2] == b"#x":
            if not name[2:] or not all(c in b"0123456789abcdefABCDEF" for c in name[2:]):
                raise ValueError
            cp = int(name[2:], 16)
        elif name[1:].isdigit():
            cp = int(name[1:])
        else:
            raise ValueError
    except ValueError:
        raise XMLError("bad character reference", off + a)
    if not (cp in (9, 10, 13) or 32 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or
            0x10000 <= cp <= 0x10FFFF):
        raise XMLError("character reference to an illegal character", off + a)
    return chr(cp).encode()


def _decode(seg, off):
    """Checked character data with its references replaced."""
    _check(seg, off)
    a = seg.find(b"&")
    if a < 0:
        return seg
    out = bytearray()
    i = 0
    while a >= 0:
        out += seg[i:a]
        out += _ref(seg, a, off)
        i = seg.find(b";", a) + 1
        a = seg.find(b"&", i)
    out += seg[i:]
    return out


def _cut(buf, i, n):
    """Where text that runs to the buffer's end may be cut: before an unfinished reference or
    UTF-8 sequence (they are moved to the next fill whole)."""
    a = buf.rfind(b"&", i, n)
    if a >= 0 and buf.find(b";", a, n) < 0:
        n = a
    k = n - 1
    while k >= i and k > n - 4 and 0x80 <= buf[k] < 0xC0:
        k -= 1
    if k >= i and buf[k] >= 0xC0:
        need = 2 if buf[k] < 0xE0 else 3 if buf[k] < 0xF0 else 4
        if k + need > n:
            n = k
    return n


def items(source, paths, namespaces=None, max_depth=MAX_DEPTH, max_token=MAX_TOKEN,
          bufsize=BUFSIZE):
    """Yield (k, text) at the end of every element whose path is paths[k] (or the texts alone
    when `paths` is one str); see the module doc."""
    single = isinstance(paths, str)
    trie = _compile((paths,) if single else paths)
    return _run(_Reader(source, bufsize), trie, single, namespaces, max_depth, max_token)


def _attrs(rest, off, names, depth, scopes):
    """Check the attributes in `rest` (after the tag name); namespace declarations go to
    scopes. Returns False if a quoted value is still open (the tag's '>' was in a value)."""
    p, n = 0, len(rest)
    seen = []
    while True:
        while p < n and rest[p] in _WS:
            p += 1
        if p >= n:
            return True
        eq = rest.find(b"=", p)
        if eq < 0:
            raise XMLError("attribute without a value", off + p)
        local, prefix, _k = _name(rest[p:eq].rstrip(_WS), names, off + p)
        p = eq + 1
        while p < n and rest[p] in _WS:
            p += 1
        if p >= n:
            raise XMLError("attribute without a value", off + p)
        q = rest[p]
        if q != 34 and q != 39:
            raise XMLError("unquoted attribute value", off + p)
        e = rest.find(b'"' if q == 34 else b"'", p + 1)
        if e < 0:
            return False
        val = rest[p + 1:e]
        if b"<" in val:
            raise XMLError("'<' in an attribute value", off + p)
        _check(val, off + p + 1)
        key = prefix + ":" + local
        if key in seen:
            raise XMLError("duplicate attribute %s" % key.lstrip(":"), off + p)
        seen.append(key)
        if prefix == "xmlns" or (not prefix and local == "xmlns"):
            uri = bytes(_decode(val, off + p + 1)).decode()
            if prefix and not uri:
                raise XMLError("empty namespace for prefix %s" % local, off + p)
            scopes.append((depth, local if prefix else "", uri))
        p = e + 1
        if p < n and rest[p] not in _WS:
            raise XMLError("no space after an attribute", off + p)


def _ns(prefix, scopes, off):
    for k in range(len(scopes) - 1, -1, -1):
        if scopes[k][1] == prefix:
            return scopes[k][2]
    if prefix == "xml":
        return _XML_NS
    if prefix:
        raise XMLError("undeclared prefix %s" % prefix, off)
    return ""


def _start(buf, j, n, rd, names, depth, scopes):
    """A start tag at buf[j] ('<'): (index after it, raw name, empty) or None when its end is
    not in the buffer. Attributes are checked; declarations go to scopes."""
    e = buf.find(b">", j + 1, n)
    while e >= 0:
        tag = bytes(buf[j + 1:e])  # hashable: names are looked up by it
        empty = len(tag) and tag[-1] == 47
        if empty:
            tag = tag[:-1]
        if b"=" not in tag:  # no attributes (the name check refuses stray whitespace)
            return e + 1, tag.rstrip(_WS), empty
        sp = len(tag)
        for w in _WS_EACH:
            k = tag.find(w)
            if 0 <= k < sp:
                sp = k
        if _attrs(tag[sp:], rd.base + j + 1 + sp, names, depth + 1, scopes) is not False:
            return e + 1, tag[:sp], empty
        while scopes and scopes[-1][0] > depth:
            scopes.pop()  # declarations of the attempt that was cut short
        e = buf.find(b">", e + 1, n)  # the '>' was inside a quoted value
    return None


def _run(rd, trie, single, namespaces, max_depth, max_token):
    while not rd.eof and rd.n < 3:  # enough to see a byte order mark
        rd.more(0)
    buf, n, i = rd.buf, rd.n, 0
    if n >= 3 and buf[0] == 0xEF and buf[1] == 0xBB and buf[2] == 0xBF:
        i = 3  # a UTF-8 byte order mark
    names = {}
    scopes = []  # (depth, prefix, namespace name) of the declarations in force
    stack = []  # open elements: [name key, trie node or None, text: bytearray, None, False]
    state = 0  # 0 before the root, 1 inside it, 2 after it
    root_ns = None
    simple = True  # every element so far is in the root's namespace without a prefix
    first = True  # nothing but a BOM read yet (where an XML declaration may be)
    while True:
        j = buf.find(b"<", i, n)
        end = j if j >= 0 else n
        if j < 0 and not rd.eof:
            end = _cut(buf, i, n)
        if end > i:  # character data
            acc = stack[-1][2] if stack else None
            if acc is not None and acc is not False:  # this element's text is wanted
                acc.extend(_decode(buf[i:end], rd.base + i))
                if len(acc) > max_token:
                    raise XMLError("text longer than max_token=%d" % max_token, rd.base + i)
            elif state != 1:
                if buf[i:end].strip(_WS):
                    raise XMLError("text outside the root element", rd.base + i)
            else:
                _check(buf[i:end], rd.base + i)
            i = end
            first = False
        if j < 0 or j + 1 >= n:
            if rd.eof:
                if i < n:
                    raise XMLError("truncated document", rd.base + i)
                if state != 2:
                    raise XMLError("no root element" if not state else "truncated document",
                                   rd.base + n)
                return
            if rd.more(i) < 0:
                raise XMLError("text construct longer than the buffer", rd.base)
            buf, n, i = rd.buf, rd.n, 0
            continue
        c = buf[j + 1]
        off = rd.base + j
        if c == 47 or c == 63 or c == 33:  # '/', '?', '!'
            if c == 47:
                e = buf.find(b">", j + 2, n)
            elif c == 63:
                e = buf.find(b"?>", j + 2, n)
            elif buf[j + 2:j + 4] == b"--":
                e = buf.find(b"-->", j + 4, n)
            elif buf[j + 2:j + 9] == b"[CDATA[":
                e = buf.find(b"]]>", j + 9, n)
            elif buf[j + 2:j + 9] == b"DOCTYPE":
                raise XMLError("DOCTYPE is not allowed", off)
            elif n - j < 9 and not rd.eof:
                e = -1
            else:
                raise XMLError("bad markup", off)
            if e < 0:
                if rd.eof:
                    raise XMLError("truncated document", off)
                if rd.more(j) < 0:
                    raise XMLError("markup longer than the buffer", off)
                buf, n, i = rd.buf, rd.n, 0
                continue
            if c == 47:  # an end tag
                if not stack:
                    raise XMLError("end tag without a start tag", off)
                raw = buf[j + 2:e].rstrip(_WS)
                el = stack.pop()
                if raw != el[0]:
                    raise XMLError("end tag </%s> does not match <%s>" % (
                        bytes(raw).decode("utf-8", "replace"), el[0].decode()), off)
                while scopes and scopes[-1][0] > len(stack):
                    scopes.pop()
                node = el[1]
                if node is not None and node[1] >= 0:
                    t = el[2]
                    t = None if t is False else bytes(t).decode()
                    yield t if single else (node[1], t)
                if not stack:
                    state = 2
                i = e + 1
            elif c == 63:  # a processing instruction
                target = bytes(buf[j + 2:e]).split(None, 1)
                target = target[0] if target else b""
                if target.lower() == b"xml":
                    if not first:
                        raise XMLError("XML declaration not at the start", off)
                    decl = bytes(buf[j:e]).lower()
                    k = decl.find(b"encoding")
                    if k >= 0:
                        enc = decl[k + 8:].lstrip(b" =\t\r\n")[1:].split(b'"')[0]
                        enc = enc.split(b"'")[0]
                        if enc not in (b"utf-8", b"utf8", b"us-ascii"):
                            raise XMLError("unsupported encoding %s" % enc.decode(), off)
                else:
                    _name(target, names, off + 2)
                    _check(buf[j + 2:e], off + 2)
                i = e + 2
            elif buf[j + 2] == 45:  # a comment
                if buf.find(b"--", j + 4, e) >= 0 or buf[e - 1] == 45:
                    raise XMLError("'--' in a comment", off)
                _check(buf[j + 4:e], off + 4)
                i = e + 3
            else:  # CDATA: text as it is
                if state != 1:
                    raise XMLError("CDATA outside the root element", off)
                seg = buf[j + 9:e]
                _check(seg.replace(b"&", b"&amp;") if b"&" in seg else seg, off + 9)
                acc = stack[-1][2]
                if acc is not None and acc is not False:
                    acc.extend(seg)
                    if len(acc) > max_token:
                        raise XMLError("text longer than max_token=%d" % max_token, off)
                i = e + 3
            first = False
            continue
        # a start tag, or an empty-element tag
        depth = len(stack)
        got = _start(buf, j, n, rd, names, depth, scopes)
        if got is None:
            if rd.eof:
                raise XMLError("truncated document", off)
            if rd.more(j) < 0:
                raise XMLError("tag longer than the buffer", off)
            buf, n, i = rd.buf, rd.n, 0
            continue
        i, raw, empty = got
        local, prefix, key = _name(raw, names, off + 1)
        first = False
        if state == 2:
            raise XMLError("content after the root element", off)
        if depth >= max_depth:
            raise XMLError("nesting deeper than max_depth=%d" % max_depth, off)
        if state == 0:
            state = 1
            root_ns = _ns(prefix, scopes, off)
            if namespaces is not None:
                for want in namespaces:
                    if root_ns.startswith(want):
                        break
                else:
                    raise XMLError("wrong namespace %r for <%s>" % (root_ns, local), off)
            parent = trie
        else:
            top = stack[-1]
            if top[2] is not None:
                top[2] = False  # it has children: no text is reported for it
            parent = top[1]
        if simple and (prefix or (scopes and scopes[-1][0] > 1)):
            simple = False
        node = None
        if parent is not None and parent[0] is not None:
            node = parent[0].get(local)
        if not simple and _ns(prefix, scopes, off) != root_ns:
            node = None  # another namespace's element (the prefix must be declared anyway)
        if empty:
            if node is not None and node[1] >= 0:
                yield "" if single else (node[1], "")
            while scopes and scopes[-1][0] > depth:
                scopes.pop()
            if depth == 0:
                state = 2
        else:
            stack.append([key, node, bytearray() if node is not None and node[1] >= 0
                          else None])
