"""The flash cache: one Schedule (plus a small dict of app counters) in a versioned binary file.

File layout (little endian):

    0   4  magic b"WWPS"
    4   1  version (_VERSION)
    5   1  reserved (0)
    6   2  meta_len: bytes of the meta block that follows the 16-byte prefix
    8   4  fetched_s (unsigned): kept, but not part of the "content changed?" check
    12  4  content CRC32 of meta + records, skipping mean_u and std_u (meta bytes 20..28)
    16  meta_len   meta: <qqIii base_s, end_s, n, mean_u, std_u (NO_PRICE = None), then
                   length-prefixed (<H) UTF-8 strings source, currency, unit, tariff_id,
                   tariff_desc, a <B count of period names and each name, and `extras` as JSON
    ..  n * 10     records <iiBB: start offset from base_s, price_u, name index, flags
    -4  4  CRC32 of bytes [0, size - 4)

save() writes `<name>.tmp`, closes it and renames it over `<name>` (atomic on LittleFS and
POSIX), so a failed or interrupted write leaves the previous cache whole. It writes only when
the content CRC differs from the valid file on flash; a fetch that brings the same prices (only
fetched_s, mean_u or std_u differ) costs no flash write, so a loaded fetched_s is when that
content was first saved. mean_u/std_u are statistics of the requested window (Arcadia's
rateMean and rateStandardDeviation change with it on every fetch); the file keeps the values it
was written with. Records go through one small preallocated buffer in
both directions; neither the file nor its image is ever held in RAM.
"""

import json
import os
import struct
from array import array
from binascii import crc32

from ..compat import const, exc_text
from ..flashfile import join, remove, replace
from .schedule import NO_PRICE, Schedule

MAGIC = b"WWPS"
_VERSION = const(1)
_PREFIX = const(16)
_REC = const(10)
_REC_FMT = "<iiBB"
_META_FMT = "<qqIii"
_META_FIXED = const(28)  # struct.calcsize(_META_FMT)
_STATS = const(20)  # offset of mean_u, std_u in meta: not part of the content CRC
_BLOCK_RECS = const(51)  # records per I/O block: 510 bytes
_MAX_RECS = const(0x100000)  # sanity bound against a corrupt count


class _Bad(Exception):
    pass


def _put_str(out, s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    if len(b) > 0xFFFF:
        b = b[:0xFFFF]
    out.extend(struct.pack("<H", len(b)))
    out.extend(b)


class Store:
    """load()/save() of the price cache under flash directory `root`."""

    def __init__(self, root, log=None, name="prices.bin"):
        self.path = join(root, name)
        self.tmp = self.path + ".tmp"
        self.log = log
        self.writes = 0
        self.last_error = None
        self._buf = bytearray(_BLOCK_RECS * _REC)

    # -- helpers ------------------------------------------------------------------------
    def _note(self, level, msg):
        if self.log is not None:
            getattr(self.log, level)("store", msg)

    def _meta(self, sched, extras):
        m = bytearray(struct.pack(
            _META_FMT, sched.base_s, sched.end_s, len(sched.starts),
            NO_PRICE if sched.mean_u is None else sched.mean_u,
            NO_PRICE if sched.std_u is None else sched.std_u))
        for s in (sched.source, sched.currency, sched.unit, str(sched.tariff_id or ""),
                  sched.tariff_desc):
            _put_str(m, s or "")
        m.append(len(sched.names))
        for s in sched.names:
            _put_str(m, s)
        _put_str(m, json.dumps(extras or {}))
        if len(m) > 0xFFFF:
            raise ValueError("cache metadata too large (%d bytes)" % len(m))
        return m

    def _records(self, sched):
        """Yield memoryview blocks of packed records, reusing one buffer."""
        buf, mv = self._buf, memoryview(self._buf)
        starts, prices, ni, fl = sched.starts, sched.prices, sched.name_idx, sched.flags
        n = len(starts)
        i = 0
        while i < n:
            k = min(n - i, _BLOCK_RECS)
            for j in range(k):
                struct.pack_into(_REC_FMT, buf, j * _REC, starts[i + j], prices[i + j],
                                 ni[i + j], fl[i + j])
            yield mv[:k * _REC]
            i += k

    def _check(self, f, size):
        """Prefix of the open file `f` after checking magic, version and the whole-file CRC
        (streamed through the block buffer); raises _Bad with the reason."""
        head = f.read(_PREFIX)
        if len(head) < 6:
            raise _Bad("truncated (%d bytes)" % size)
        if head[:4] != MAGIC:
            raise _Bad("corrupt (bad magic)")
        if head[4] != _VERSION:
            raise _Bad("version %d, expected %d" % (head[4], _VERSION))
        if len(head) < _PREFIX or size < _PREFIX + 4:
            raise _Bad("truncated (%d bytes)" % size)
        crc = crc32(head)
        left = size - _PREFIX - 4
        mv = memoryview(self._buf)
        while left > 0:
            k = f.readinto(mv[:min(left, len(self._buf))])
            if not k:
                raise _Bad("truncated (%d bytes)" % size)
            crc = crc32(mv[:k], crc)
            left -= k
        tail = f.read(4)
        if len(tail) != 4 or struct.unpack("<I", tail)[0] != crc & 0xFFFFFFFF:
            raise _Bad("corrupt (CRC mismatch)")
        return head

    def _stored_content_crc(self):
        """Content CRC of the valid file on flash, or None (absent, invalid)."""
        try:
            size = os.stat(self.path)[6]
            with open(self.path, "rb") as f:
                return struct.unpack_from("<I", self._check(f, size), 12)[0]
        except (_Bad, OSError, ValueError):
            return None

    # -- public -------------------------------------------------------------------------
    def save(self, sched, extras=None):
        """Write the cache if its content changed: True if written, False if unchanged.

        Raises OSError (after removing the temporary file) when the write fails; the old
        cache is then untouched. ValueError for a schedule that cannot be stored."""
        meta = self._meta(sched, extras)
        mv = memoryview(meta)
        content = crc32(mv[_META_FIXED:], crc32(mv[:_STATS]))
        for blk in self._records(sched):
            content = crc32(blk, content)
        content &= 0xFFFFFFFF
        if self._stored_content_crc() == content:
            return False
        head = bytearray(MAGIC)
        head.extend(struct.pack("<BBHII", _VERSION, 0, len(meta),
                                (sched.fetched_s or 0) & 0xFFFFFFFF, content))
        def write(f):
            f.write(head)
            f.write(meta)
            crc = crc32(meta, crc32(head))
            for blk in self._records(sched):
                f.write(blk)
                crc = crc32(blk, crc)
            f.write(struct.pack("<I", crc & 0xFFFFFFFF))

        try:
            replace(self.path, write, "wb")
        except Exception as e:  # OSError (flash full, I/O), MemoryError: old cache stays
            self.last_error = "write failed: " + exc_text(e)
            self._note("error", "cache " + self.last_error)
            raise
        self.writes += 1
        self._note("info", "cache saved: %d intervals" % len(sched.starts))
        return True

    def load(self):
        """(Schedule or None, extras dict). Never raises; the reason for "no cache" is in
        .last_error ("absent", "truncated ...", "corrupt ...", "version N ...")."""
        remove(self.tmp)  # a write that was cut short leaves a stale temporary file
        self.last_error = None
        try:
            return self._load()
        except _Bad as e:
            self.last_error = e.args[0]
        except MemoryError:
            self.last_error = "no memory to load"
        except (OSError, ValueError, KeyError, IndexError, TypeError, UnicodeError) as e:
            self.last_error = "corrupt (%s)" % exc_text(e)
        if self.last_error == "absent":
            self._note("info", "no cache: absent")
        else:
            self._note("warn", "no cache: " + self.last_error)
        return None, {}

    def _load(self):
        try:
            size = os.stat(self.path)[6]
        except OSError:
            raise _Bad("absent")
        with open(self.path, "rb") as f:
            meta_len, fetched_s = struct.unpack_from("<HI", self._check(f, size), 6)
            if meta_len < _META_FIXED or size < _PREFIX + meta_len + 4:
                raise _Bad("corrupt (meta length %d)" % meta_len)
            # pass 2: parse
            f.seek(_PREFIX)
            meta = f.read(meta_len)
            base_s, end_s, n, mean_u, std_u = struct.unpack_from(_META_FMT, meta, 0)
            if n > _MAX_RECS or size != _PREFIX + meta_len + n * _REC + 4:
                raise _Bad("corrupt (size %d does not match %d records)" % (size, n))
            p = [_META_FIXED]
            strs = [_get_str(meta, p) for _ in range(5)]
            names = [_get_str(meta, p) for _ in range(_get_byte(meta, p))]
            extras = json.loads(_get_str(meta, p))
            s = Schedule(strs[0], strs[1], strs[2])
            s.tariff_id, s.tariff_desc = strs[3], strs[4]
            s.fetched_s = fetched_s
            s.mean_u = None if mean_u == NO_PRICE else mean_u
            s.std_u = None if std_u == NO_PRICE else std_u
            s.names = names
            s.base_s, s.end_s = base_s, end_s
            starts = s.starts = array("i", bytes(4 * n))
            prices = s.prices = array("i", bytes(4 * n))
            ni = s.name_idx = bytearray(n)
            fl = s.flags = bytearray(n)
            buf, mv = self._buf, memoryview(self._buf)
            i = 0
            while i < n:
                k = min(n - i, _BLOCK_RECS)
                got = f.readinto(mv[:k * _REC])
                if got != k * _REC:
                    raise _Bad("truncated (%d bytes)" % size)
                for j in range(k):
                    starts[i], prices[i], ni[i], fl[i] = struct.unpack_from(_REC_FMT, buf,
                                                                            j * _REC)
                    i += 1
        if not isinstance(extras, dict):
            raise _Bad("corrupt (extras)")
        return s, extras

    def clear(self):
        """Delete the cache (and any temporary file)."""
        remove(self.tmp)
        remove(self.path)


def _get_byte(meta, p):
    v = meta[p[0]]
    p[0] += 1
    return v


def _get_str(meta, p):
    i = p[0]
    (k,) = struct.unpack_from("<H", meta, i)
    if i + 2 + k > len(meta):
        raise _Bad("corrupt (meta)")
    p[0] = i + 2 + k
    return str(meta[i + 2:i + 2 + k], "utf-8")
