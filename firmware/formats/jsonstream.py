"""Minimal streaming JSON parser: pick values out of a document without building all of it.

    for pc in items(response, "results.*.priceChanges.*"):   # one small dict at a time
        ...
    for k, v in items(response, ("status", "results.*.currency")):  # k: index of the path
        ...
    loads(b'{"a": [1, 2.5, "x"]}')                            # == json.loads

Sources: bytes/bytearray/memoryview/str, or anything with readinto(buf) or read(n) (a socket,
a file, an HTTP body); the source's own exceptions pass through, nothing else but JSONError.
Paths: dotted member names, "*" for every array element, "" for the whole document.
Strict RFC 8259: malformed input, invalid UTF-8, a lone surrogate escape, nesting past
max_depth (32) or a built token past max_token (4096 bytes) raise JSONError (a ValueError)
ending "at offset N". Memory does not grow with the document. Design and figures:
docs/jsonstream.md; current figures: `make bench`.
"""

from ..compat import const

__all__ = ("JSONError", "items", "loads")

MAX_DEPTH = const(32)
MAX_TOKEN = const(4096)
BUFSIZE = const(512)


class JSONError(ValueError):
    """Malformed JSON or a limit exceeded; `.offset` is the byte offset named in the message."""

    def __init__(self, msg, offset):
        super().__init__("%s at offset %d" % (msg, offset))
        self.offset = offset


# Tokenizer states: what may come next.
_S_VALUE = const(0)  # a value (top level, after ':' or after ',' in an array)
_S_ARR0 = const(1)  # a value or ']' (just after '[')
_S_OBJ0 = const(2)  # a key or '}' (just after '{')
_S_KEY = const(3)  # a key (after ',' in an object)
_S_COLON = const(4)  # ':'
_S_AFTER = const(5)  # ',' or the closing bracket of the current container
_S_END = const(6)  # only whitespace until the end of the data

_OBJ = const(0)
_ARR = const(1)



# Byte classes for the dispatch loop (tests/test_jsonstream.py rebuilds these tables from the
# character lists and compares). Literal bytes: cheaper to load than code that builds them.
_C_WS = const(1)  # space \t \r \n
_C_STR = const(2)  # "
_C_OPEN_OBJ = const(3)  # {
_C_OPEN_ARR = const(4)  # [
_C_CLOSE_OBJ = const(5)  # }
_C_CLOSE_ARR = const(6)  # ]
_C_COMMA = const(7)  # ,
_C_COLON = const(8)  # :
_C_NUM = const(9)  # - 0-9
_C_LIT = const(10)  # t f n
_CLS = (
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x02\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x07\x09\x00\x00\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x08\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x06\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x0a\x00\x00\x00"
    b"\x00\x00\x00\x03\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")


# Number grammar as a DFA: classes '-'=1 '0'=2 '1-9'=3 '.'=4 'eE'=5 '+'=6, anything else ends
# the token. States: 0 start, 1 '-', 2 leading 0, 3 int digits, 4 '.', 5 fraction, 6 'e',
# 7 exponent sign, 8 exponent digits, 9 error. Accepting: 2 3 (int), 5 8 (float).
_NCLS = (
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x06\x00\x01\x04\x00\x02\x03\x03\x03\x03\x03\x03\x03\x03\x03\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
# _NTAB[8 * state + class] -> 8 * next state (kept multiplied: one add per byte)
_NTAB = (
    b"\x48\x08\x10\x18\x48\x48\x48\x48"  # 0
    b"\x48\x48\x10\x18\x48\x48\x48\x48"  # 1
    b"\x48\x48\x48\x48\x20\x30\x48\x48"  # 2
    b"\x48\x48\x18\x18\x20\x30\x48\x48"  # 3
    b"\x48\x48\x28\x28\x48\x48\x48\x48"  # 4
    b"\x48\x48\x28\x28\x48\x30\x48\x48"  # 5
    b"\x48\x38\x40\x40\x48\x48\x38\x48"  # 6
    b"\x48\x48\x40\x40\x48\x48\x48\x48"  # 7
    b"\x48\x48\x40\x40\x48\x48\x48\x48"  # 8
    b"\x48\x48\x48\x48\x48\x48\x48\x48"  # 9
)
_NUM_OK = const(0x12C)  # bit mask of the accepting states 2, 3, 5, 8

_HEX = b"0123456789abcdefABCDEF"
_ESC_IN = b'"\\/bfnrt'  # after a backslash (u is handled apart) ...
_ESC_OUT = b'"\\/\x08\x0c\n\r\t'  # ... stands for this byte


def _show(c):
    return repr(chr(c)) if 32 < c < 127 else "byte 0x%02x" % c


class _Lexer:
    """Chunk reader plus the tokenizer's slow paths (tokens that cross chunks, escapes, UTF-8).

    buf[0:n] holds the current chunk; `base` is the document offset of buf[0].
    """

    def __init__(self, src, bufsize):
        self.base = 0
        self.eof = False
        self.reading = False  # True while the source's own read runs (its errors pass through)
        self.size = bufsize
        self.n = 0
        self.mode = 0
        if isinstance(src, str):
            src = src.encode()
        if isinstance(src, (bytes, bytearray)):
            self.buf = src  # the whole input is the one chunk: no copy
            self.n = len(src)
            self.eof = True
        elif isinstance(src, memoryview):
            self.mv = src
            self.pos = 0
            self.own = self.buf = bytearray(bufsize)
            self.mode = 3
        else:
            f = getattr(src, "readinto", None)
            if f is not None:
                self.buf = bytearray(bufsize)
                self.mode = 1
            else:
                f = getattr(src, "read", None)
                if f is None:
                    raise TypeError("JSON source must be bytes or have readinto() or read()")
                self.buf = b""
                self.mode = 2
            self.rd = f

    def fill(self):
        """Next chunk into buf[0:n]; returns n, 0 at the end of the data."""
        self.base += self.n
        self.n = 0
        if self.eof:
            return 0
        mode = self.mode
        if mode == 1:
            self.reading = True
            k = self.rd(self.buf)
            self.reading = False
            if not k:
                k = 0
        elif mode == 2:
            self.reading = True
            data = self.rd(self.size)
            self.reading = False
            k = 0
            if data:
                if not isinstance(data, bytes):  # str from a text file, bytearray ...
                    data = data.encode() if isinstance(data, str) else bytes(data)
                self.buf = data
                k = len(data)
        else:
            pos = self.pos
            k = min(self.size, len(self.mv) - pos)
            if k > 0:
                self.own[0:k] = self.mv[pos:pos + k]
                self.pos = pos + k
            else:
                k = 0
        if k == 0:
            self.eof = True
        self.n = k
        return k

    def error(self, msg, i):
        return JSONError(msg, self.base + i)

    def string(self, i, want, limit):
        """Scan a string whose content starts at buf[i]; returns (str or None, index after it).

        Validates escapes and UTF-8 across chunk boundaries; holds the raw bytes only if `want`.
        """
        start = self.base + i - 1
        buf = self.buf
        n = self.n
        acc = None  # bytes held so far when the string crosses chunks (only if want)
        size = 0
        esc = 0  # 0 plain, 1 after a backslash, 2-5 inside \\uXXXX (hex digits seen + 2)
        anyesc = False
        need = 0  # UTF-8 continuation bytes still expected
        lo = 0x80
        hi = 0xBF
        r = i  # start of the bytes not yet copied to parts
        while True:
            if i >= n:
                if want and i > r:
                    size += i - r
                    if size > limit:
                        raise JSONError("string longer than max_token=%d" % limit, start)
                    if acc is None:
                        acc = bytearray(buf[r:i])
                    else:
                        acc.extend(buf[r:i])
                n = self.fill()
                buf = self.buf
                i = r = 0
                if not n:
                    raise JSONError("unterminated string", start)
            c = buf[i]
            if need:
                if c < lo or c > hi:
                    raise self.error("invalid UTF-8", i)
                need -= 1
                lo = 0x80
                hi = 0xBF
                i += 1
                continue
            if esc:
                if esc == 1:
                    if c == 0x75:
                        esc = 2
                    elif c in _ESC_IN:
                        esc = 0
                    else:
                        raise self.error("invalid escape", i)
                elif c in _HEX:
                    esc = 0 if esc == 5 else esc + 1
                else:
                    raise self.error("invalid \\u escape", i)
                i += 1
                continue
            lim = min(n, i + 256)  # a window: long strings are checked without copying them
            j = buf.find(b'"', i, lim)
            e = buf.find(b"\\", i, lim if j < 0 else j)
            if e < 0:
                e = lim if j < 0 else j
            if e > i:
                seg = buf[i:e]
                if min(seg) < 32:
                    while buf[i] >= 32:
                        i += 1
                    raise self.error("control character in string", i)
                if max(seg) > 127:
                    while i < e:
                        c = buf[i]
                        if need:
                            if c < lo or c > hi:
                                raise self.error("invalid UTF-8", i)
                            need -= 1
                            lo = 0x80
                            hi = 0xBF
                        elif c >= 0x80:
                            if 0xC2 <= c <= 0xDF:
                                need = 1
                            elif 0xE0 <= c <= 0xEF:
                                need = 2
                                if c == 0xE0:
                                    lo = 0xA0
                                elif c == 0xED:
                                    hi = 0x9F
                            elif 0xF0 <= c <= 0xF4:
                                need = 3
                                if c == 0xF0:
                                    lo = 0x90
                                elif c == 0xF4:
                                    hi = 0x8F
                            else:
                                raise self.error("invalid UTF-8", i)
                        i += 1
                i = e
            if need or (e != j and e >= lim):
                continue  # next window or chunk, or a quote/backslash where UTF-8 needs more
            if i != j:  # a backslash
                esc = 1
                anyesc = True
                i += 1
                continue
            if not want:
                return None, i + 1
            size += i - r
            if size > limit:
                raise JSONError("string longer than max_token=%d" % limit, start)
            if acc is None:
                raw = buf[r:i]
            else:
                acc.extend(buf[r:i])
                raw = acc
            if anyesc:
                return _unescape(raw, start + 1), i + 1
            return raw.decode(), i + 1

    def number(self, i, limit):
        """A number that may cross chunks, starting at buf[i]; returns (int or float, index)."""
        start = self.base + i
        parts = []
        size = 0
        st = 0
        ncls = _NCLS
        ntab = _NTAB
        buf = self.buf
        n = self.n
        while True:
            j = i
            while j < n:
                ct = ncls[buf[j]]
                if not ct:
                    break
                st = ntab[st + ct]
                j += 1
            if j > i:
                size += j - i
                if size > limit:
                    raise JSONError("number longer than max_token=%d" % limit, start)
                parts.append(bytes(buf[i:j]))
            if j < n:
                i = j
                break
            n = self.fill()
            buf = self.buf
            i = 0
            if not n:
                break
        if not (_NUM_OK >> (st >> 3)) & 1:
            raise JSONError("invalid number", start)
        tok = b"".join(parts)
        return (int(tok) if st < 32 else float(tok)), i

    def literal(self, i, lit):
        """true/false/null possibly crossing chunks; returns the index after it."""
        start = self.base + i
        for c in lit:
            if i >= self.n:
                self.fill()
                i = 0
                if not self.n:
                    raise JSONError("truncated literal", start)
            if self.buf[i] != c:
                raise JSONError("invalid literal", start)
            i += 1
        return i


def _unescape(raw, off):
    """Raw string content with backslash escapes (already checked) -> str. off: offset of raw."""
    raw = bytes(raw)  # MicroPython's int(x, 16) wants bytes or str, not bytearray
    out = bytearray()
    i = 0
    while True:
        k = raw.find(b"\\", i)
        if k < 0:
            break
        out += raw[i:k]
        e = raw[k + 1]
        if e == 0x75:
            cp = int(raw[k + 2:k + 6], 16)
            i = k + 6
            if 0xD800 <= cp <= 0xDFFF:
                lo = 0
                if cp <= 0xDBFF and raw[i:i + 2] == b"\\u":
                    lo = int(raw[i + 2:i + 6], 16)
                if not 0xDC00 <= lo <= 0xDFFF:
                    raise JSONError("unpaired surrogate escape", off + k)
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                i += 6
            out += chr(cp).encode()
        else:
            out.append(_ESC_OUT[_ESC_IN.find(raw[k + 1:k + 2])])
            i = k + 2
    out += raw[i:]
    return out.decode()


def _compile(paths):
    """Paths -> trie of nodes [names dict or None, '*' node or None, index of the path or -1]."""
    root = [None, None, -1]
    for k, p in enumerate(paths):
        if not isinstance(p, str):
            raise ValueError("path must be a str: %r" % (p,))
        node = root
        for seg in (p.split(".") if p else ()):
            if not seg:
                raise ValueError("empty segment in path %r" % p)
            if seg == "*":
                if node[1] is None:
                    node[1] = [None, None, -1]
                node = node[1]
            else:
                if node[0] is None:
                    node[0] = {}
                nxt = node[0].get(seg)
                if nxt is None:
                    nxt = node[0][seg] = [None, None, -1]
                node = nxt
        if node[2] < 0:
            node[2] = k
    return root


def _parse(lx, root, pairs, max_depth, max_token):
    """The tokenizer and selector: yields matched values (or (k, value) if pairs)."""
    try:
        cls = _CLS
        ncls = _NCLS
        ntab = _NTAB
        mt1 = max_token + 1
        buf = lx.buf
        n = lx.n
        i = 0
        state = _S_VALUE
        depth = 0  # 4 * nesting depth: the stack's fill level
        maxd = 4 * max_depth
        kind = _ARR
        node = None  # trie node of the current container (None: not on any path)
        cur = None  # container being built, or None
        key = None  # pending key of `cur` when it is a dict
        mk = -1  # path index if `cur` is the root of a match
        tgt = root  # trie node of the next value
        # the parents' (kind, node, cur, mk), 4 slots per level; reused, so that skipping
        # containers allocates nothing (MicroPython's allocator is slow with churn of
        # multi-block garbage such as one tuple per container)
        stack = []
        # member names seen before -> their str (bytes chunks only: bytearray slices are
        # unhashable); saves checking and decoding the same few names again and again
        kc = {}
        kok = isinstance(buf, bytes)
        while True:
            if i >= n:
                n = lx.fill()
                buf = lx.buf
                i = 0
                if not n:
                    break
            c = buf[i]
            t = cls[c]
            if t == _C_WS:
                i += 1
                while i < n and buf[i] == 0x20:  # indentation runs
                    i += 1
                continue
            if t == _C_STR:
                if state in (_S_OBJ0, _S_KEY):
                    iskey = True
                    want = cur is not None or (node is not None and node[0] is not None)
                elif state <= _S_ARR0:
                    iskey = False
                    want = cur is not None or (tgt is not None and tgt[2] >= 0)
                else:
                    raise _unexpected(lx, i, state)
                j = buf.find(b'"', i + 1, n)
                if j > i and j - i <= mt1 and buf.find(b"\\", i + 1, j) < 0:
                    # plain run: no control bytes; only ASCII here (decoding and comparing
                    # lengths is cheaper than max()), anything else takes the strict path
                    s = buf[i + 1:j]
                    kv = iskey and kok
                    v = kc.get(s) if kv else None
                    if v is not None:
                        pass
                    elif s and min(s) < 32:
                        j = -1
                    elif want or kv:
                        try:
                            v = s.decode()
                        except UnicodeError:
                            j = -1
                        else:
                            if len(v) != j - i - 1:
                                j = -1
                            elif kv and len(kc) < 64 and j - i < 40:
                                kc[s] = v  # bounded: at most 64 names of < 40 bytes
                    elif s and max(s) > 127:
                        j = -1
                else:
                    j = -1
                if j < 0:
                    v, i = lx.string(i + 1, want, max_token)
                    buf = lx.buf
                    n = lx.n
                else:
                    if not want:
                        v = None
                    i = j + 1
                if iskey:
                    if cur is not None:
                        key = v
                    elif want:
                        tgt = node[0].get(v)
                    else:
                        tgt = None
                    if i < n and buf[i] == 0x3A:  # the usual ':' (and space) taken here
                        i += 1
                        state = _S_VALUE
                        if i < n and buf[i] == 0x20:
                            i += 1
                    else:
                        state = _S_COLON
                    continue
            elif t == _C_COLON:
                if state != _S_COLON:
                    raise _unexpected(lx, i, state)
                state = _S_VALUE
                i += 1
                continue
            elif t == _C_COMMA:
                if state != _S_AFTER:
                    raise _unexpected(lx, i, state)
                if kind == _OBJ:
                    state = _S_KEY
                else:
                    state = _S_VALUE
                    tgt = node[1] if node is not None else None
                i += 1
                continue
            elif t == _C_NUM:
                if state > _S_ARR0:
                    raise _unexpected(lx, i, state)
                j = i
                st = 0
                while j < n:
                    ct = ncls[buf[j]]
                    if not ct:
                        break
                    st = ntab[st + ct]
                    j += 1
                if j >= n and not lx.eof or j - i > max_token:
                    v, i = lx.number(i, max_token)
                    buf = lx.buf
                    n = lx.n
                else:
                    if not (_NUM_OK >> (st >> 3)) & 1:
                        raise lx.error("invalid number", i)
                    if cur is not None or (tgt is not None and tgt[2] >= 0):
                        v = int(buf[i:j]) if st < 32 else float(buf[i:j])
                    else:
                        v = None
                    i = j
            elif t in (_C_OPEN_OBJ, _C_OPEN_ARR):
                if state > _S_ARR0:
                    raise _unexpected(lx, i, state)
                if depth >= maxd:
                    raise lx.error("nesting deeper than max_depth=%d" % max_depth, i)
                if depth >= len(stack):
                    stack.extend((None, None, None, None))
                stack[depth] = kind
                stack[depth + 1] = node
                stack[depth + 2] = cur
                stack[depth + 3] = mk
                depth += 4
                if cur is not None:
                    v = {} if t == _C_OPEN_OBJ else []
                    if kind == _OBJ:
                        cur[key] = v  # type: ignore  # a dict when kind == _OBJ
                    else:
                        cur.append(v)  # type: ignore
                    cur = v
                    mk = -1
                elif tgt is not None and tgt[2] >= 0:
                    cur = {} if t == _C_OPEN_OBJ else []
                    mk = tgt[2]
                else:
                    node = tgt
                    mk = -1
                if t == _C_OPEN_OBJ:
                    kind = _OBJ
                    state = _S_OBJ0
                else:
                    kind = _ARR
                    state = _S_ARR0
                    tgt = node[1] if node is not None else None
                i += 1
                continue
            elif t in (_C_CLOSE_OBJ, _C_CLOSE_ARR):
                if t == _C_CLOSE_OBJ:
                    ok = kind == _OBJ and state in (_S_OBJ0, _S_AFTER)
                else:
                    ok = kind == _ARR and state in (_S_ARR0, _S_AFTER)
                if not ok or not depth:
                    raise _unexpected(lx, i, state)
                v = cur
                k = mk
                depth -= 4
                kind = stack[depth]
                node = stack[depth + 1]
                cur = stack[depth + 2]
                mk = stack[depth + 3]
                stack[depth + 2] = None
                i += 1
                if k >= 0:
                    yield (k, v) if pairs else v
                # what follows a value, as after a scalar below; repeated rather than a helper
                # because a call per value would have to hand back three locals
                if not depth:
                    state = _S_END
                elif i < n and buf[i] == 0x2C:  # the usual ',' (and space) taken here
                    i += 1
                    if kind == _OBJ:
                        state = _S_KEY
                    else:
                        state = _S_VALUE
                        tgt = node[1] if node is not None else None
                    if i < n and buf[i] == 0x20:
                        i += 1
                else:
                    state = _S_AFTER
                continue
            elif t == _C_LIT:
                if state > _S_ARR0:
                    raise _unexpected(lx, i, state)
                if c == 0x74:
                    lit = b"true"
                    v = True
                elif c == 0x66:
                    lit = b"false"
                    v = False
                else:
                    lit = b"null"
                    v = None
                if i + len(lit) <= n and buf.startswith(lit, i):
                    i += len(lit)
                else:
                    i = lx.literal(i, lit)
                    buf = lx.buf
                    n = lx.n
            else:
                raise _unexpected(lx, i, state)
            # a scalar value v just ended
            if cur is not None:
                if kind == _OBJ:
                    cur[key] = v  # type: ignore  # a dict when kind == _OBJ
                else:
                    cur.append(v)  # type: ignore
            elif tgt is not None and tgt[2] >= 0:
                yield (tgt[2], v) if pairs else v
            if not depth:
                state = _S_END
            elif i < n and buf[i] == 0x2C:  # the usual ',' (and space) taken here
                i += 1
                if kind == _OBJ:
                    state = _S_KEY
                else:
                    state = _S_VALUE
                    tgt = node[1] if node is not None else None
                if i < n and buf[i] == 0x20:
                    i += 1
            else:
                state = _S_AFTER
        if state != _S_END:
            raise JSONError("truncated data" if lx.base else "no data", lx.base)
    except JSONError:
        raise
    except Exception as e:  # internal limits (MemoryError, int/float conversion ...)
        if lx.reading:
            raise  # the source's own error (OSError from a socket ...) passes through
        stack = cur = v = None  # free what was built so that the error itself can be made
        raise JSONError("cannot parse (%s)" % type(e).__name__, lx.base)


def _unexpected(lx, i, state):
    what = "data after the value: %s" if state == _S_END else "unexpected %s"
    return lx.error(what % _show(lx.buf[i]), i)


def items(source, path, max_depth=MAX_DEPTH, max_token=MAX_TOKEN, bufsize=BUFSIZE):
    """Generator of the values at `path` (a str), or of (k, value) for a tuple/list of paths.

    Each value is built only when its path matches; everything else is skipped unbuilt.
    Close the generator (or break out of the loop) to stop reading early.
    """
    if isinstance(path, str):
        root = _compile((path,))
        pairs = False
    else:
        root = _compile(path)
        pairs = True
    return _parse(_Lexer(source, bufsize), root, pairs, max_depth, max_token)


def loads(data, max_depth=MAX_DEPTH, max_token=MAX_TOKEN, bufsize=BUFSIZE):
    """The whole document as Python values, like json.loads; also accepts a stream."""
    out = None
    for v in _parse(_Lexer(data, bufsize), [None, None, 0], False, max_depth, max_token):
        out = v
    return out
