"""Local time from a POSIX TZ rule, in pure integer arithmetic (no time.localtime).

    z = Zone("PST8PDT,M3.2.0,M11.1.0")       # or "CET-1CEST,M3.5.0,M10.5.0/3", "UTC0", "EST5"
    z.offset_at(utc_s)       -> seconds EAST of UTC in force at utc_s (-25200 for PDT)
    z.day_start(utc_s)       -> UTC second of the local midnight that begins utc_s's local day
    z.next_day_start(utc_s)  -> the same for the following local day (23/25 h later on DST days)
    z.local_minute(utc_s)    -> wall-clock minutes since local midnight, 0..1439
    z.to_utc(y, m, d, h, mi) -> UTC second of a local wall-clock time
    Zone.fixed(offset_s)     -> a zone without DST (tests, price data with a fixed offset)

Rule syntax (POSIX.1 TZ, as in glibc): `std offset [dst [offset] [,start[/time],end[/time]]]`.
Names are 3+ letters or <quoted> ("<+0530>"); offsets are POSIX (positive WEST of Greenwich,
"PST8" = UTC-8) as [+-]hh[:mm[:ss]]; the DST offset defaults to one hour ahead of standard.
Dates are Mm.w.d (month, week 1-5 with 5 = last, weekday 0 = Sunday), Jn (1-365, Feb 29 never
counted) or n (0-365, Feb 29 counted); /time is local wall time before the change, default
02:00, and may be negative or beyond 24 h ("M3.5.0/-1", "J60/26"). A DST name without dates
uses the US rule M3.2.0,M11.1.0. Southern-hemisphere rules (start later in the year than end)
work.

Local times that do not exist or exist twice (`to_utc`, window edges): a time inside the
spring-forward gap maps to the instant the gap ends (02:30 on the PST8PDT spring day -> 03:00
PDT); a time that occurs twice in the fall-back overlap maps to its FIRST occurrence (01:30 ->
01:30 PDT). So a local day always starts at the earliest instant that belongs to it.
"""

from .iso import days_from_civil, days_in_month, weekday


class Zone:
    def __init__(self, rule="UTC0"):
        self.rule = rule
        self._year = None
        self._tr = (0, 0)
        self._ytr = (0, 0)  # is_dst's cache: transitions of the local year [_d0, _d1)
        self._d0 = self._d1 = 0
        self.dst_off = None
        self.dst_name = ""
        self.start = self.end = None
        if rule is None:
            self.std_name, self.std_off = "UTC", 0
            return
        _parse(self, rule.strip())

    @staticmethod
    def fixed(offset_s, name=""):
        z = Zone("UTC0")
        z.std_off = int(offset_s)
        z.std_name = name or "FIXED"
        z.rule = "fixed %d" % z.std_off
        return z

    def __repr__(self):
        return "Zone(%r)" % (self.rule,)

    # -- transitions ------------------------------------------------------------------------
    def transitions(self, year):
        """(dst_start_utc_s, dst_end_utc_s) for `year`, or None without DST."""
        if self.dst_off is None:
            return None
        return self._transitions(year)

    def _transitions(self, year):
        if self._year != year:
            self._tr = (_when(self.start, year) - self.std_off,
                        _when(self.end, year) - self.dst_off)
            self._year = year
        return self._tr

    def is_dst(self, utc_s):
        if self.dst_off is None:
            return False
        # The year of the local standard time; DST rules are written in local dates.
        days = (utc_s + self.std_off) // 86400
        if self._d0 <= days < self._d1:
            a, b = self._ytr  # the same year as last time (the common case)
        else:
            y = _year_of(days)
            a, b = self._ytr = self._transitions(y)
            self._d0, self._d1 = days_from_civil(y, 1, 1), days_from_civil(y + 1, 1, 1)
        if a < b:
            return a <= utc_s < b
        return not (b <= utc_s < a)  # southern hemisphere: DST spans the new year

    def offset_at(self, utc_s):
        return self.dst_off if self.is_dst(utc_s) else self.std_off

    def name_at(self, utc_s):
        return self.dst_name if self.is_dst(utc_s) else self.std_name

    # -- local days -------------------------------------------------------------------------
    def local_days(self, utc_s):
        """Local calendar day number (days since 1970-01-01) containing utc_s."""
        return (utc_s + self.offset_at(utc_s)) // 86400

    def local_s(self, utc_s):
        """Local wall-clock seconds since 1970 (what a wall clock shows, as a count)."""
        return utc_s + self.offset_at(utc_s)

    def day_start(self, utc_s):
        return self.from_local(self.local_days(utc_s) * 86400)

    def next_day_start(self, utc_s):
        return self.from_local((self.local_days(utc_s) + 1) * 86400)

    def local_minute(self, utc_s):
        return (utc_s + self.offset_at(utc_s)) % 86400 // 60

    def to_utc(self, y, m, d, h=0, mi=0, s=0):
        return self.from_local(days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s)

    def from_local(self, local_s):
        """UTC second of local wall-clock seconds (see the module doc for gaps/overlaps)."""
        std = local_s - self.std_off
        if self.dst_off is None:
            return std
        dst = local_s - self.dst_off
        ok_std = not self.is_dst(std)
        ok_dst = self.is_dst(dst)
        if ok_std and ok_dst:
            return std if std < dst else dst  # overlap: the first occurrence
        if ok_std:
            return std
        if ok_dst:
            return dst
        # gap: the transition instant lies between the two readings
        lo, hi = (std, dst) if std < dst else (dst, std)
        y = _year_of((lo + self.std_off) // 86400)
        for yy in (y - 1, y, y + 1):
            for t in self._transitions(yy):
                if lo < t <= hi:
                    return t
        return hi  # not reached for sane rules


def _year_of(days):
    # civil year of a day number, without building the month/day
    y = (days * 400) // 146097 + 1970
    while days_from_civil(y, 1, 1) > days:
        y -= 1
    while days_from_civil(y + 1, 1, 1) <= days:
        y += 1
    return y


def _when(rule, year):
    """Local wall-clock seconds (since 1970) at which a transition rule fires in `year`."""
    kind, a, b, c, t = rule
    if kind == "M":
        m, w, wd = a, b, c
        first = days_from_civil(year, m, 1)
        wd1 = (weekday(first) + 1) % 7  # POSIX: 0 = Sunday
        day = 1 + (wd - wd1) % 7 + (w - 1) * 7
        while day > days_in_month(year, m):
            day -= 7
        days = first + day - 1
    elif kind == "J":
        days = days_from_civil(year, 1, 1) + a - 1
        if a >= 60 and days_in_month(year, 2) == 29:
            days += 1
    else:
        days = days_from_civil(year, 1, 1) + a
    return days * 86400 + t


class _P:
    def __init__(self, s):
        self.s = s
        self.i = 0

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ""

    def num(self):
        j = self.i
        while self.i < len(self.s) and "0" <= self.s[self.i] <= "9":
            self.i += 1
        if j == self.i:
            raise ValueError("bad TZ rule %r at %d" % (self.s, j))
        return int(self.s[j:self.i])

    def name(self):
        s = self.s
        if self.peek() == "<":
            j = s.find(">", self.i)
            if j < 0:
                raise ValueError("bad TZ rule %r" % s)
            n = s[self.i + 1:j]
            self.i = j + 1
            return n
        j = self.i
        while self.i < len(s) and s[self.i].isalpha():
            self.i += 1
        if self.i - j < 3:
            raise ValueError("bad TZ name in %r" % s)
        return s[j:self.i]

    def hms(self):
        sign = 1
        if self.peek() in ("+", "-"):
            sign = -1 if self.peek() == "-" else 1
            self.i += 1
        v = self.num() * 3600
        if self.peek() == ":":
            self.i += 1
            v += self.num() * 60
            if self.peek() == ":":
                self.i += 1
                v += self.num()
        return sign * v


def _parse(z, s):
    if not s:
        raise ValueError("empty TZ rule")
    p = _P(s)
    z.std_name = p.name()
    z.std_off = -p.hms()
    if p.peek() == "":
        return
    z.dst_name = p.name()
    z.dst_off = z.std_off + 3600
    if p.peek() not in ("", ","):
        z.dst_off = -p.hms()
    if p.peek() == "":
        z.start, z.end = ("M", 3, 2, 0, 7200), ("M", 11, 1, 0, 7200)
        return
    rules = []
    for _ in range(2):
        if p.peek() != ",":
            raise ValueError("bad TZ rule %r" % s)
        p.i += 1
        c = p.peek()
        if c == "M":
            p.i += 1
            m = p.num()
            if p.peek() != ".":
                raise ValueError("bad TZ rule %r" % s)
            p.i += 1
            w = p.num()
            if p.peek() != ".":
                raise ValueError("bad TZ rule %r" % s)
            p.i += 1
            d = p.num()
            if not (1 <= m <= 12 and 1 <= w <= 5 and 0 <= d <= 6):
                raise ValueError("bad date in TZ rule %r" % s)
            r = ["M", m, w, d]
        elif c == "J":
            p.i += 1
            n = p.num()
            if not 1 <= n <= 365:
                raise ValueError("bad date in TZ rule %r" % s)
            r = ["J", n, 0, 0]
        else:
            n = p.num()
            if not 0 <= n <= 365:
                raise ValueError("bad date in TZ rule %r" % s)
            r = ["n", n, 0, 0]
        t = 7200
        if p.peek() == "/":
            p.i += 1
            t = p.hms()
        rules.append((r[0], r[1], r[2], r[3], t))
    if p.peek() != "":
        raise ValueError("trailing characters in TZ rule %r" % s)
    z.start, z.end = rules
