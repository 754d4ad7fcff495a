"""Time-of-use prices by local time: periods of the day by month, weekday and holiday.

The text form is shared by the static rate plan ("rateplan.tou", providers/rateplan.py) and the
retail grid tariff ("price.grid_tou", plan/retail.py):

    "peak 0.45 6-9 wd 16:00-21:00; night 0.10 * * 22:00-06:00"
    periods: ';'-separated, each `name price months days HH:MM-HH:MM`; the first match wins.
    months:  * | 6-9 | 10-3 (wraps) | 1,2,12      days: * | wd (Mon-Fri, not a holiday) |
    we (Sat, Sun and holidays) | hol | mon,tue,...      times: local, end 24:00 allowed, an end
    before the start wraps past midnight.
    holidays: "MM-DD" (every year) or "YYYY-MM-DD", comma-separated.

    periods = parse_tou(text, "price.grid_tou")    -> [(name, price_u, months, days, s, e)]
    hols = parse_holidays(text, "price.grid_holidays")
    k = period_at(periods, hols, local_day, local_minute)      index of the period, or -1
    cuts(periods)     sorted local minutes at which a period may start or end (0 and 1440 too)

Pure integers (day numbers from clock/iso.py), so both runtimes agree; errors are ConfigError
naming the setting.
"""

from ..clock.iso import civil_from_days, days_in_month, weekday
from .schedule import price_u

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALL = 0x7F
_DAY_WD = 0x1F
_DAY_WE = 0x60
_HOL = 0x80  # bit: the period applies on holidays
_NOHOL = 0x100  # bit: the period never applies on holidays (wd)


def _err(field, value, expected):
    from ..config import ConfigError

    return ConfigError("%s: %r is not allowed; expected %s" % (field, value, expected))


def _hm(s):
    hh, sep, mm = s.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(s)
    m = int(hh) * 60 + int(mm)
    if int(mm) > 59 or m > 1440:
        raise ValueError(s)
    return m


def _months(tok):
    if tok == "*":
        return 0xFFF
    mask = 0
    for part in tok.split(","):
        a, sep, b = part.partition("-")
        a = int(a)
        b = int(b) if sep else a
        if not (1 <= a <= 12 and 1 <= b <= 12):
            raise ValueError(tok)
        m = a
        while True:
            mask |= 1 << (m - 1)
            if m == b:
                break
            m = m % 12 + 1
    return mask


def _days(tok):
    if tok == "*":
        return _DAY_ALL | _HOL
    if tok == "wd":
        return _DAY_WD | _NOHOL
    if tok == "we":
        return _DAY_WE | _HOL
    if tok == "hol":
        return _HOL
    mask = 0
    for d in tok.split(","):
        mask |= 1 << _DAYS.index(d)  # ValueError for an unknown name
    return mask  # named days apply by weekday, holiday or not


def parse_tou(text, field):
    """-> [(name, price_u, month_mask, day_mask, start_min, end_min), ...]"""
    out = []
    for entry in (text or "").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        toks = entry.split()
        try:
            if len(toks) != 5:
                raise ValueError
            a, sep, b = toks[4].partition("-")
            if not sep:
                raise ValueError
            s, e = _hm(a), _hm(b)
            if s == e:
                raise ValueError
            out.append((toks[0], price_u(toks[1]), _months(toks[2]), _days(toks[3]), s, e))
        except ValueError:
            raise _err(field, entry, "'name price months days HH:MM-HH:MM' such as "
                                     "'peak 0.45 6-9 wd 16:00-21:00'")
    return out


def parse_holidays(text, field):
    """-> [(year or 0, month, day), ...]"""
    out = []
    for h in (text or "").split(","):
        h = h.strip()
        if not h:
            continue
        parts = h.split("-")
        try:
            if len(parts) == 2 and len(h) == 5:
                y, m, d = 0, int(parts[0]), int(parts[1])
            elif len(parts) == 3 and len(h) == 10:
                y, m, d = int(parts[0]), int(parts[1]), int(parts[2])
            else:
                raise ValueError
            # a yearly holiday may be Feb 29 (it then only falls in leap years)
            if not (1 <= m <= 12 and 1 <= d <= days_in_month(y or 2000, m)):
                raise ValueError
            out.append((y, m, d))
        except ValueError:
            raise _err(field, h, "MM-DD or YYYY-MM-DD, comma-separated")
    return out


def is_holiday(holidays, y, m, d):
    return any(hm == m and hd == d and (hy == 0 or hy == y) for hy, hm, hd in holidays)


def period_at(periods, holidays, days, minute):
    """Index of the first period matching local day number `days` at local `minute`, or -1."""
    y, m, d = civil_from_days(days)
    hol = is_holiday(holidays, y, m, d) if holidays else False
    wd = weekday(days)
    for k in range(len(periods)):
        _name, _p, months, dmask, s, e = periods[k]
        if not months & (1 << (m - 1)):
            continue
        if hol:
            if not dmask & _HOL and (dmask & _NOHOL or not dmask & (1 << wd)):
                continue
        elif not dmask & (1 << wd):
            continue
        if (s <= minute < e) if s < e else (minute >= s or minute < e):
            return k
    return -1


def cuts(periods):
    """Sorted local minutes of day at which a period may begin or end, 0 and 1440 included."""
    out = [0, 1440]
    for p in periods:
        for m in (p[4], p[5]):
            if m not in out:
                out.append(m)
    out.sort()
    return out
