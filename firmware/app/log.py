"""A tiny levelled logger: UTC time stamp, level letter, short tag, message.

Lines go to a sink (the HAL's; print on the device) and the last few stay in a RAM ring buffer
for `plug.log()` and the simulator's timeline.
"""

from ..clock.iso import format_iso
from ..compat import const

DEBUG = const(10)
INFO = const(20)
WARN = const(30)
ERROR = const(40)
_LETTER = {DEBUG: "D", INFO: "I", WARN: "W", ERROR: "E"}


class Log:
    def __init__(self, now_s, sink=print, size=32, level=INFO):
        self._now_s = now_s  # callable -> UTC epoch seconds
        self._sink = sink
        self._ring = [""] * size
        self._next = 0
        self.level = level
        self.count = 0

    def log(self, level, tag, msg):
        if level < self.level:
            return
        line = "%s %s %s: %s" % (format_iso(self._now_s()), _LETTER.get(level, "?"), tag, msg)
        self._ring[self._next] = line
        self._next = (self._next + 1) % len(self._ring)
        self.count += 1
        if self._sink is not None:
            self._sink(line)

    def debug(self, tag, msg):
        self.log(DEBUG, tag, msg)

    def info(self, tag, msg):
        self.log(INFO, tag, msg)

    def warn(self, tag, msg):
        self.log(WARN, tag, msg)

    def error(self, tag, msg):
        self.log(ERROR, tag, msg)

    def lines(self, n=None):
        """The last n lines (all kept lines if n is None), oldest first."""
        size = len(self._ring)
        kept = min(self.count, size)
        n = kept if n is None else min(n, kept)
        return [self._ring[(self._next - n + k) % size] for k in range(n)]
