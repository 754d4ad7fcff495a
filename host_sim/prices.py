"""Price series: sorted intervals of UTC seconds with integer prices, gaps allowed (CPython only).

Files are read by host_sim/price_files.py: the shared CSV format
`start_utc,end_utc,price,unit,market` and real exports (ENTSO-E, Nord Pool, ...).

Prices become integer micro-units of currency per kWh (`price_u`, as in firmware/prices/schedule.py)
with integer arithmetic on the decimal text: "36.62123" USD/MWh is 36.62123 / 1000 USD/kWh =
36621.23 micro-USD/kWh, rounded half away from zero to 36621. No float ever touches a price.
"""

import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

# name -> (file, default POSIX TZ rule of the market's local days, publication local minute)
# Day-ahead results appear around 13:00 local (CAISO early afternoon PT, Nord Pool ~12:45 CET,
# ERCOT DAM ~13:30 CT); the server publishes tomorrow's prices at that local minute.
BUNDLED = {
    "caiso": ("caiso_np15_dam_2019-02_2020-01.csv", "PST8PDT,M3.2.0,M11.1.0", 13 * 60),
    "dk1": ("dk1_dayahead_2024.csv", "CET-1CEST,M3.5.0,M10.5.0/3", 13 * 60),
    "ercot": ("ercot_lz_houston_dam_2022.csv", "CST6CDT,M3.2.0,M11.1.0", 13 * 60 + 30),
}
DEFAULT_SERIES = "caiso"


class PriceError(ValueError):
    pass


def decimal_to_u(text, scale_digits):
    """Decimal text times 10**scale_digits, rounded half away from zero, as an int.

    decimal_to_u("36.62123", 3) == 36621 (USD/MWh -> micro-USD/kWh is x 1000)."""
    s = text.strip()
    neg = s[:1] == "-"
    if s[:1] in "+-":
        s = s[1:]
    whole, _, frac = s.partition(".")
    if not (whole or frac) or not (whole + frac).isdigit():
        raise PriceError("bad price %r" % (text,))
    frac_pad = frac + "0" * scale_digits
    v = int(whole or "0") * 10**scale_digits + int(frac_pad[:scale_digits] or "0")
    rest = frac_pad[scale_digits:]
    if rest and rest[0] >= "5":
        v += 1
    return -v if neg else v


def unit_scale(unit):
    """'USD/MWh' -> ('USD', 3): digits to shift a price in this unit to micro-units per kWh."""
    cur, _, per = unit.partition("/")
    per = per.strip().lower()
    if per == "mwh":
        return cur.strip(), 3
    if per == "kwh":
        return cur.strip(), 6
    raise PriceError("unsupported price unit %r (expected <currency>/MWh or /kWh)" % unit)


def u_to_text(pu):
    """Micro-units -> exact decimal text with up to 6 decimals ('0.036621', '-0.0051')."""
    neg = pu < 0
    a = -pu if neg else pu
    s = "%d.%06d" % (a // 1000000, a % 1000000)
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return ("-" if neg and a else "") + s


class Series:
    """A sorted price series: parallel lists of UTC seconds and micro-units/kWh. Intervals
    do not overlap; where one ends before the next starts there is no price (a gap)."""

    def __init__(self, starts, ends, prices, currency="USD", market="", source=""):
        self.starts = starts
        self.ends = ends
        self.prices = prices
        self.currency = currency
        self.market = market
        self.source = source

    def __len__(self):
        return len(self.starts)

    @property
    def start_s(self):
        return self.starts[0]

    @property
    def end_s(self):
        return self.ends[-1]

    def slot_s(self):
        return self.ends[0] - self.starts[0]

    def index_at(self, t_s):
        """Index of the interval containing t_s, or -1 (binary search)."""
        import bisect

        i = bisect.bisect_right(self.starts, t_s) - 1
        if i < 0 or t_s >= self.ends[i]:
            return -1
        return i

    def window(self, t0, t1):
        """Yield (s, e, price_u) clipped to [t0, t1); gaps yield nothing."""
        import bisect

        i = bisect.bisect_right(self.starts, t0) - 1  # the interval at t0, or before it
        if i < 0 or self.ends[i] <= t0:
            i += 1
        n = len(self.starts)
        while i < n and self.starts[i] < t1:
            s, e = self.starts[i], self.ends[i]
            yield max(s, t0), min(e, t1), self.prices[i]
            i += 1

    def missing(self, t0, t1):
        """(intervals, seconds) without a price in [t0, t1): gaps counted in slot_s() steps,
        like the intervals a market would have published there."""
        have = sum(e - s for s, e, _p in self.window(t0, t1))
        gap_s = max(0, t1 - t0) - have
        slot = self.slot_s()
        return (gap_s + slot - 1) // slot if slot > 0 else 0, gap_s

    def cost_us(self, t0, t1):
        """Integral of price_u over [t0, t1) in micro-unit-seconds (exact int)."""
        return sum((e - s) * p for s, e, p in self.window(t0, t1))

    def sliced(self, t0, t1):
        keep = [(s, e, p) for s, e, p in self.window(t0, t1)]
        return Series([k[0] for k in keep], [k[1] for k in keep], [k[2] for k in keep],
                      self.currency, self.market, self.source)


def load_csv(path, tz_rule=None):
    """The Series in a price file (host_sim/price_files.py); tz_rule: the zone of times
    written without an offset (--csv-tz)."""
    from .price_files import read

    return read(path, tz_rule)


def bundled_path(name):
    return os.path.join(DATA_DIR, BUNDLED[name][0])


def bundled_for(path):
    """The BUNDLED key of a CSV path, or None for a user's file."""
    base = os.path.basename(path)
    for k, v in BUNDLED.items():
        if v[0] == base:
            return k
    return None


def to_15min(series):
    """A 15-minute series derived from an hourly one (the bundled data is hourly).

    Each hour is split into four quarters whose prices are linearly interpolated between the
    hourly prices, placed at the hour midpoints (so quarters differ and the planner sees four
    times as many intervals); the mean of an hour's quarters stays close to its hourly price.
    Not real 15-minute market data."""
    starts, ends, prices = [], [], []
    ps = series.prices
    n = len(ps)
    for i in range(n):
        s, e = series.starts[i], series.ends[i]
        q = (e - s) // 4
        prev_p = ps[i - 1] if i > 0 else ps[i]
        next_p = ps[i + 1] if i + 1 < n else ps[i]
        # quarter centres at 1/8, 3/8, 5/8, 7/8 of the hour; hour centres at 1/2
        for k, (a, b, num) in enumerate(((prev_p, ps[i], 5), (prev_p, ps[i], 7),
                                         (ps[i], next_p, 1), (ps[i], next_p, 3))):
            v = a * 8 + (b - a) * num  # a + (b - a) * num / 8, times 8
            pu = (v + 4) // 8 if v >= 0 else -((-v + 4) // 8)
            starts.append(s + k * q)
            ends.append(s + (k + 1) * q if k < 3 else e)
            prices.append(pu)
    return Series(starts, ends, prices, series.currency, series.market,
                  series.source + " (15-min, interpolated)")


def write_csv(series, path, unit=None):
    """Write a series in the shared format, prices per kWh with exact decimals."""
    from firmware.clock.iso import format_iso

    unit = unit or series.currency + "/kWh"
    with open(path, "w") as f:
        f.write("start_utc,end_utc,price,unit,market\n")
        for s, e, p in zip(series.starts, series.ends, series.prices, strict=True):
            f.write("%s,%s,%s,%s,%s\n" % (format_iso(s), format_iso(e), u_to_text(p), unit,
                                          series.market))
