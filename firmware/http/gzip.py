"""gzip bodies for http/client.py, imported only when a response says Content-Encoding: gzip
(or a Client(gzip=True) builds its Accept-Encoding): MicroPython's `deflate`, or CPython's
`zlib` with the same bounded, streaming behaviour."""


def available():
    """True if this runtime can decode gzip (what Client(gzip=True) then asks for)."""
    try:
        import deflate  # noqa: F401 - MicroPython
    except ImportError:
        try:
            import zlib  # noqa: F401 - CPython
        except ImportError:
            return False
    return True


def gunzip(resp):
    """A decoder with readinto() over the raw (de-chunked) body of Response `resp`."""
    import io

    class _Raw(io.IOBase):
        def readinto(self, b):
            return resp._raw_into(memoryview(b))

    try:
        import deflate
    except ImportError:  # CPython: the same streaming behaviour from zlib
        import zlib

        class _Zlib:
            """deflate.DeflateIO(stream, GZIP) on CPython: zlib with bounded output per call."""

            def __init__(self, raw):
                self._raw = raw
                self._d = zlib.decompressobj(31)
                self._in = bytearray(1024)
                self._tail = b""

            def readinto(self, buf):
                d = self._d
                while True:
                    if d.eof:
                        return 0
                    data = self._tail
                    if not data:
                        n = self._raw.readinto(self._in)
                        if not n:
                            raise EOFError("gzip data ends early")
                        data = bytes(self._in[:n])
                    out = d.decompress(data, len(buf))
                    self._tail = d.unconsumed_tail
                    if out:
                        buf[:len(out)] = out
                        return len(out)

        return _Zlib(_Raw())
    return deflate.DeflateIO(_Raw(), deflate.GZIP)
