"""The in-memory price schedule: a base time plus compact parallel arrays.

Interval i covers [base_s + starts[i], next start) and the last one ends at `end_s`. A stretch
with no known price is an interval whose price is NO_PRICE, so intervals are always contiguous.
Prices are integer fixed point: millionths of `currency` per `unit` (the "u" in `price_u`),
e.g. 0.0714 USD/kWh -> 71400. Integers keep decisions identical on CPython and on an ESP32,
whose floats are single precision.

Per interval: starts array('i') 4 B + prices array('i') 4 B + name index 1 B + flags 1 B = 10 B.

What the arrays hold is checked on the way in, identically on both runtimes (MicroPython's
array('i') would wrap silently where CPython raises): add() refuses a price outside
±PRICE_MAX_U (so no real price is NO_PRICE) and an interval ending more than MAX_SPAN_S after
the schedule's start, with ValueError; price_u() refuses out-of-range prices and non-ASCII digits.
"""

from array import array

from ..compat import const

NO_PRICE = const(-0x40000000)  # smallest 31-bit small int; real prices stay above -1073/kWh
PRICE_MAX_U = const(999999999)  # |price| <= 999.999999 per unit: far from NO_PRICE and int32
MAX_SPAN_S = 0x7FFFFFFF  # the latest end, after base_s, an array('i') offset can hold
NO_NAME = const(255)
FLAG_FORECAST = const(1)  # a preliminary price that a later fetch should replace
_MAX_NAMES = const(250)

U_PER_UNIT = const(1000000)


def price_u(text_or_number):
    """Decimal price (string such as "0.053046", or int/float) -> integer micro-units.

    Strings are converted digit by digit, so "0.0530465" rounds half away from zero exactly,
    without binary floating point; numbers go through round(x * 1e6).
    """
    if isinstance(text_or_number, str):
        s = text_or_number.strip()
        neg = s[:1] == "-"
        if s[:1] in "+-":
            s = s[1:]
        if "e" in s or "E" in s:
            return price_u(float(text_or_number))
        whole, _, frac = s.partition(".")
        if not (whole or frac) or not _digits(whole + frac):
            raise ValueError("bad price %r" % (text_or_number,))
        v = int(whole or "0") * U_PER_UNIT + int((frac + "000000")[:6])
        if len(frac) > 6 and frac[6] >= "5":
            v += 1
        return _in_range(-v if neg else v, text_or_number)
    if isinstance(text_or_number, bool) or not isinstance(text_or_number, (int, float)):
        raise ValueError("bad price %r" % (text_or_number,))
    x = text_or_number * U_PER_UNIT
    if not -PRICE_MAX_U - 1 < x < PRICE_MAX_U + 1:  # also inf and nan, before int() raises
        raise ValueError("price %r out of range (at most 999.999999 per unit)"
                         % (text_or_number,))
    return _in_range(int(x + 0.5) if x >= 0 else -int(-x + 0.5), text_or_number)


def _in_range(v, given):
    if not -PRICE_MAX_U <= v <= PRICE_MAX_U:
        raise ValueError("price %r out of range (at most 999.999999 per unit)" % (given,))
    return v


def _digits(s):
    # ASCII only: CPython's str.isdigit() also takes other scripts' digits, MicroPython's not
    return all("0" <= c <= "9" for c in s)


def format_price(pu, decimals=4):
    """Integer micro-units -> '0.0714' (display only)."""
    if pu is None or pu == NO_PRICE:
        return "-"
    neg = pu < 0
    a = -pu if neg else pu
    q = 10 ** (6 - decimals)
    a = (a + q // 2) // q
    s = str(a // 10**decimals)
    if decimals:
        s += "." + ("%0" + str(decimals) + "d") % (a % 10**decimals)
    return ("-" if neg else "") + s


class Schedule:
    """Prices over time. Build with add() in time order; query with price_at()/window()."""

    def __init__(self, source="", currency="USD", unit="kWh"):
        self.base_s = 0
        self.end_s = 0
        self.starts = array("i")
        self.prices = array("i")
        self.name_idx = bytearray()
        self.flags = bytearray()
        self.names = []  # period names, indexed by name_idx
        # metadata
        self.source = source
        self.currency = currency
        self.unit = unit
        self.tariff_id = ""
        self.tariff_desc = ""
        self.fetched_s = 0
        self.mean_u = None  # type: int | None
        self.std_u = None  # type: int | None

    def copy_meta(self, other):
        for k in ("source", "currency", "unit", "tariff_id", "tariff_desc", "fetched_s",
                  "mean_u", "std_u"):
            setattr(self, k, getattr(other, k))

    # -- building -------------------------------------------------------------------------
    def reserve(self, n):
        """Room for `n` more intervals, allocated now. MicroPython grows an array 8 items at a
        time, and four arrays growing in turn fragment a small heap (a 7-day 15-minute fetch
        needed 16 KB more heap that way); add() then fills the room without reallocating."""
        k = len(self.starts)
        # array("i", range(m)) is allocated at its final size, without a temporary; the
        # slice assignments copy the content, then shrink the length back: the capacity stays
        # (on MicroPython)
        for attr in ("starts", "prices"):
            a = array("i", range(k + n))
            a[:k] = getattr(self, attr)
            a[k:] = array("i")
            setattr(self, attr, a)
        for attr in ("name_idx", "flags"):
            b = bytearray(k + n)
            b[:k] = getattr(self, attr)
            b[k:] = b""
            setattr(self, attr, b)

    def _name_index(self, name):
        if not name:
            return NO_NAME
        try:
            return self.names.index(name)
        except ValueError:
            pass
        if len(self.names) >= _MAX_NAMES:
            return NO_NAME  # names are for display; running out must not lose prices
        self.names.append(name)
        return len(self.names) - 1

    def add(self, start_s, end_s, price, name=None, flags=0):
        """Append [start_s, end_s) at `price` (micro-units). Records must come in time order;
        a gap before start_s becomes a NO_PRICE interval. Overlap, a price outside
        ±PRICE_MAX_U or an end beyond MAX_SPAN_S after the start raise ValueError (nothing
        is added)."""
        if end_s <= start_s:
            raise ValueError("empty or reversed interval at %d" % start_s)
        if not isinstance(price, int) or not -PRICE_MAX_U <= price <= PRICE_MAX_U:
            raise ValueError("price %r at %d out of range" % (price, start_s))
        n = len(self.starts)
        if end_s - (self.base_s if n else start_s) > MAX_SPAN_S:
            raise ValueError("interval at %d ends too far from the schedule's start" % start_s)
        if n == 0:
            self.base_s = start_s
        elif start_s < self.end_s:
            raise ValueError("interval at %d overlaps the previous one" % start_s)
        elif start_s > self.end_s:
            self._append(self.end_s, NO_PRICE, NO_NAME, 0)
        self._append(start_s, price, self._name_index(name), flags)
        self.end_s = end_s

    def _append(self, start_s, price, ni, flags):
        self.starts.append(start_s - self.base_s)
        self.prices.append(price)
        self.name_idx.append(ni)
        self.flags.append(flags)

    # -- reading --------------------------------------------------------------------------
    def __len__(self):
        return len(self.starts)

    def start_of(self, i):
        return self.base_s + self.starts[i]

    def end_of(self, i):
        return self.base_s + self.starts[i + 1] if i + 1 < len(self.starts) else self.end_s

    def name_of(self, i):
        k = self.name_idx[i]
        return self.names[k] if k != NO_NAME else ""

    def index_at(self, t_s):
        """Index of the interval containing t_s, or -1."""
        n = len(self.starts)
        if n == 0 or t_s < self.base_s or t_s >= self.end_s:
            return -1
        off = t_s - self.base_s
        lo, hi = 0, n - 1
        starts = self.starts
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if starts[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def price_at(self, t_s):
        """Price in micro-units at t_s, or None where no price is known."""
        i = self.index_at(t_s)
        if i < 0 or self.prices[i] == NO_PRICE:
            return None
        return self.prices[i]

    def next_change(self, t_s):
        """The first time after t_s at which the price (or its presence) changes, or None."""
        i = self.index_at(t_s)
        if i < 0:
            return self.base_s if len(self.starts) and t_s < self.base_s else None
        p = self.prices[i]
        for k in range(i + 1, len(self.starts)):
            if self.prices[k] != p:
                return self.base_s + self.starts[k]
        return self.end_s

    def window(self, t0_s, t1_s):
        """Yield (start_s, end_s, price_u, i) for intervals overlapping [t0_s, t1_s), clipped
        to it. Gaps are included with price NO_PRICE, so callers see every second once."""
        n = len(self.starts)
        if n == 0 or t1_s <= self.base_s or t0_s >= self.end_s:
            return
        i = self.index_at(max(t0_s, self.base_s))
        while i < n:
            s = self.base_s + self.starts[i]
            if s >= t1_s:
                break
            e = self.end_of(i)
            yield (s if s > t0_s else t0_s), (e if e < t1_s else t1_s), self.prices[i], i
            i += 1

    def coverage(self):
        """(start_s, end_s) of the known span, or None when empty."""
        return (self.base_s, self.end_s) if len(self.starts) else None

    def covers(self, t_s):
        return self.price_at(t_s) is not None

    def last_price_end(self):
        """End of the last interval that has a price (end_s unless trailing gaps)."""
        for i in range(len(self.starts) - 1, -1, -1):
            if self.prices[i] != NO_PRICE:
                return self.end_of(i)
        return None

    def same_as(self, other):
        """Same content. fetched_s, mean_u and std_u (statistics of the requested window) are
        not content: a re-fetch of the same prices is "unchanged" (store.py agrees)."""
        return (self.base_s == other.base_s and self.end_s == other.end_s
                and self.starts == other.starts and self.prices == other.prices
                and self.name_idx == other.name_idx and self.flags == other.flags
                and self.names == other.names and self.tariff_id == other.tariff_id
                and self.tariff_desc == other.tariff_desc and self.unit == other.unit
                and self.currency == other.currency and self.source == other.source)

    # -- combining ------------------------------------------------------------------------
    def merge(self, newer):
        """A new Schedule: `newer` wins wherever it has a price (a corrected re-fetch replaces
        what it covers); elsewhere self is kept. Metadata comes from newer. Intervals keep
        their own boundaries; a stretch priced by neither becomes a NO_PRICE gap."""
        out = Schedule()
        out.copy_meta(newer)
        out.reserve(len(self) + len(newer) + 1)
        last_src = last_j = None
        a = None
        for b in _cut_points(self, newer):
            if a is not None:
                src, j = newer, newer.index_at(a)
                if j < 0 or newer.prices[j] == NO_PRICE:
                    src, j = self, self.index_at(a)
                    if j < 0 or self.prices[j] == NO_PRICE:
                        a = b
                        continue
                if last_src is src and last_j == j and out.end_s == a:
                    out.end_s = b  # the same source interval, cut by the other's boundary
                else:
                    out.add(a, b, src.prices[j], src.name_of(j), src.flags[j])
                last_src, last_j = src, j
            a = b
        return out

    def clear_spans(self, spans):
        """This schedule without prices in spans [(start_s, end_s), ...] (they become gaps): a
        new Schedule with the same metadata, or self when no span meets a price (a source
        that withdrew prices it gave before, e.g. OpenADR events cancelled)."""
        cuts = sorted((int(a), int(b)) for a, b in spans or ()
                      if b > a and a < self.end_s and b > self.base_s)
        if not cuts or not len(self):
            return self
        out = Schedule()
        out.copy_meta(self)
        hit = False
        for s, e, p, i in self.window(self.base_s, self.end_s):
            if p == NO_PRICE:
                continue
            t = s
            for a, b in cuts:
                if b <= t:
                    continue
                if a >= e:
                    break
                hit = True
                if a > t:
                    out.add(t, a, p, self.name_of(i), self.flags[i])
                t = b
                if t >= e:
                    break
            if t < e:
                out.add(t, e, p, self.name_of(i), self.flags[i])
        return out if hit else self

    def drop_before(self, t_s):
        """Forget intervals that ended at or before t_s (in place; metadata is kept)."""
        n = len(self.starts)
        k = 0
        while k < n and self.end_of(k) <= t_s:
            k += 1
        while k < n and self.prices[k] == NO_PRICE:
            k += 1  # a schedule never starts with a gap
        if k == 0:
            return
        if k >= n:
            self.base_s = self.end_s = 0
            self.starts, self.prices = array("i"), array("i")
            self.name_idx, self.flags = bytearray(), bytearray()
            return
        shift = self.starts[k]
        starts = self.starts
        for i in range(k, n):
            starts[i - k] = starts[i] - shift
        self.starts = starts[:n - k]
        self.prices = self.prices[k:]
        self.name_idx = self.name_idx[k:]
        self.flags = self.flags[k:]
        self.base_s += shift


def _bounds(s):
    for i in range(len(s.starts)):
        yield s.base_s + s.starts[i]
    if len(s.starts):
        yield s.end_s


def _cut_points(a, b):
    """Every interval boundary of a and b, ascending, without duplicates (no list built)."""
    ga, gb = _bounds(a), _bounds(b)
    x, y = next(ga, None), next(gb, None)
    last = None
    while x is not None or y is not None:
        if y is None or (x is not None and x <= y):
            p, x = x, next(ga, None)
        else:
            p, y = y, next(gb, None)
        if p != last:
            yield p
            last = p
