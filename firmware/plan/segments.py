"""The planner's answer: what the relay does from the planning time to end_s, and why.

The app keeps the plan between steps, and a fetch runs while it is held, so it is stored
compactly: one start offset per segment (array "i", 4 bytes), one 16-bit code per segment (its
reason's index in a list of the distinct reason texts, and the ON bit), and each reason text
once. A list of (start_s, end_s, on, reason) tuples would cost a tuple and, on the ESP32's
32-bit MicroPython where epoch seconds do not fit a small int, two boxed ints per segment: a
7-day plan of 15-minute prices (356 segments) held 32.7 KB that way, about 8 KB like this.
"""

from array import array

from ..onoff import word


class Plan:
    """Contiguous segments (start_s, end_s, on, reason) from start_s to end_s; blocks = the
    contiguous blocks chosen (block mode); safe_on = the state when no segment applies."""

    def __init__(self, segments, safe_on=False, blocks=None):
        self.safe_on = safe_on
        self.blocks = blocks or []
        n = len(segments)
        self.start_s = segments[0][0] if n else None
        self.end_s = segments[-1][1] if n else None
        self._base = segments[0][0] if n else 0  # start_s and the span as ints, for _seg
        self._span = segments[-1][1] - self._base if n else 0
        # array(typecode, range(n)) is allocated at its final size, without a list first
        self._off = array("i", range(n))
        self._code = array("H", range(n))
        self._why = []
        index = {}
        t = self._base
        for k in range(n):
            s, e, on, reason = segments[k]
            if s != t or e <= s:
                raise ValueError("plan segment %d (%s..%s) is not contiguous" % (k, s, e))
            t = e
            i = index.get(reason)
            if i is None:
                i = index[reason] = len(self._why)
                self._why.append(reason)
            self._off[k] = s - self._base
            self._code[k] = (i << 1) | (1 if on else 0)

    def __len__(self):
        return len(self._off)

    def _seg(self, k):
        off = self._off
        e = off[k + 1] if k + 1 < len(off) else self._span
        c = self._code[k]
        return self._base + off[k], self._base + e, bool(c & 1), self._why[c >> 1]

    @property
    def segments(self):
        """[(start_s, end_s, on, reason)], built on demand (reports, tests)."""
        return [self._seg(k) for k in range(len(self._off))]

    def _find(self, t_s):
        # The same search as Schedule.index_at, kept here: a shared helper in schedule.py
        # (on the fetch path) moved fetch_store_min_heap_7d from 85,719 to 88,789 B.
        off, x = self._off, t_s - self._base
        if not len(off) or x < 0 or x >= self._span:
            return -1
        lo, hi = 0, len(off) - 1
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if off[mid] <= x:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def at(self, t_s):
        """(on, reason, until_s) at t_s; outside the plan: the safe state, until None."""
        k = self._find(t_s)
        if k < 0:
            return self.safe_on, "no plan: safe state %s" % word(self.safe_on), None
        _s, e, on, reason = self._seg(k)
        return on, reason, e

    def next_change(self, t_s):
        """When the relay state next differs from its state at t_s (end_s if never); None
        outside the plan."""
        k = self._find(t_s)
        if k < 0:
            return None
        code = self._code
        on = code[k] & 1
        for j in range(k + 1, len(code)):
            if code[j] & 1 != on:
                return self._base + self._off[j]
        return self.end_s

    def on_intervals(self):
        """[(start_s, end_s)] of the load being on, adjacent segments joined."""
        out = []
        for k in range(len(self._off)):
            if self._code[k] & 1:
                s, e, _on, _r = self._seg(k)
                if out and out[-1][1] == s:
                    out[-1] = (out[-1][0], e)
                else:
                    out.append((s, e))
        return out
