"""ISO 8601 / RFC 3339 time stamps and durations <-> integer UTC epoch seconds.

Pure integer arithmetic (no `time.mktime`, whose epoch and zone differ between ports), so a
time stamp converts the same on CPython, the unix port and an ESP32.
"""


class TimeFormatError(ValueError):
    pass


# The one "clock is set" cut-off: an earlier reading is an RTC that was never set (the ESP32
# starts at 2000). Not later: the simulator replays real prices from 2019.
CLOCK_SET_AFTER_S = 1420070400  # 2015-01-01T00:00:00Z


def days_from_civil(y, m, d):
    """Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """(year, month, day) for a day number since 1970-01-01."""
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (m <= 2), m, d)


def weekday(days):
    """0 = Monday ... 6 = Sunday, for a day number since 1970-01-01 (a Thursday)."""
    return (days + 3) % 7


def days_in_month(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _num(s, i, n):
    v = 0
    for k in range(i, i + n):
        c = ord(s[k]) - 48 if k < len(s) else -1
        if c < 0 or c > 9:
            raise TimeFormatError("bad time stamp %r at %d" % (s, k))
        v = v * 10 + c
    return v


def parse_iso_offset(s):
    """Parse 'YYYY-MM-DDTHH:MM[:SS[.frac]](Z|+HH:MM|+HHMM|+HH)' -> (utc_s, offset_s).

    A date alone ('YYYY-MM-DD') is midnight UTC. A time without an offset is rejected:
    guessing a zone is how schedules end up an hour off.
    """
    if not isinstance(s, str) or len(s) < 10 or s[4] != "-" or s[7] != "-":
        raise TimeFormatError("bad time stamp %r" % (s,))
    y, mo, d = _num(s, 0, 4), _num(s, 5, 2), _num(s, 8, 2)
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo)):
        raise TimeFormatError("bad date in %r" % (s,))
    days = days_from_civil(y, mo, d)
    if len(s) == 10:
        return days * 86400, 0
    if s[10] not in "Tt ":
        raise TimeFormatError("bad time stamp %r" % (s,))
    hh, mm = _num(s, 11, 2), _num(s, 14, 2)
    if len(s) < 16 or s[13] != ":":
        raise TimeFormatError("bad time stamp %r" % (s,))
    i, ss = 16, 0
    if i < len(s) and s[i] == ":":
        ss = _num(s, 17, 2)
        i = 19
        if i < len(s) and s[i] in ".,":
            i += 1
            while i < len(s) and "0" <= s[i] <= "9":
                i += 1  # sub-second digits carry no price information
    if hh > 24 or mm > 59 or ss > 60 or (hh == 24 and (mm or ss)):
        raise TimeFormatError("bad time of day in %r" % (s,))
    if i >= len(s):
        raise TimeFormatError("time stamp %r has no UTC offset" % (s,))
    c = s[i]
    if c in "Zz":
        off, i = 0, i + 1
    elif c in "+-":
        oh = _num(s, i + 1, 2)
        j = i + 3
        if j < len(s) and s[j] == ":":
            j += 1
        om = _num(s, j, 2) if j < len(s) else 0
        j = j + 2 if j < len(s) else j
        if oh > 23 or om > 59:
            raise TimeFormatError("bad UTC offset in %r" % (s,))
        off = (oh * 3600 + om * 60) * (1 if c == "+" else -1)
        i = j
    else:
        raise TimeFormatError("bad UTC offset in %r" % (s,))
    if i != len(s):
        raise TimeFormatError("trailing characters in %r" % (s,))
    return days * 86400 + hh * 3600 + mm * 60 + min(ss, 59) - off, off


def parse_iso(s):
    """UTC epoch seconds of an ISO 8601 time stamp (see parse_iso_offset)."""
    return parse_iso_offset(s)[0]


def _two(n):
    return ("0" if n < 10 else "") + str(n)


def format_offset(offset_s, colon=True):
    sign = "+" if offset_s >= 0 else "-"
    a = abs(offset_s)
    return sign + _two(a // 3600) + (":" if colon else "") + _two(a % 3600 // 60)


def local_fields(utc_s, offset_s=0):
    """(year, month, day, hour, minute, second) of utc_s shifted by offset_s."""
    t = utc_s + offset_s
    days, rem = t // 86400, t % 86400
    y, m, d = civil_from_days(days)
    return y, m, d, rem // 3600, rem % 3600 // 60, rem % 60


def format_iso(utc_s, offset_s=0, z=True):
    """'2025-07-15T09:12:00-07:00'; UTC is written 'Z' unless z is False ('+00:00')."""
    y, m, d, hh, mm, ss = local_fields(utc_s, offset_s)
    tail = "Z" if (offset_s == 0 and z) else format_offset(offset_s)
    return "%04d-%s-%sT%s:%s:%s%s" % (y, _two(m), _two(d), _two(hh), _two(mm), _two(ss), tail)


def format_ymd(utc_s, offset_s=0, sep=""):
    y, m, d = local_fields(utc_s, offset_s)[:3]
    return "%04d%s%s%s%s" % (y, sep, _two(m), sep, _two(d))


def format_hm(utc_s, offset_s=0):
    hh, mm = local_fields(utc_s, offset_s)[3:5]
    return _two(hh) + ":" + _two(mm)


_DUR_UNITS = {"Y": 365 * 86400, "W": 7 * 86400, "D": 86400, "H": 3600, "M": 60, "S": 1}


def parse_duration(s):
    """Seconds in an ISO 8601 duration ('PT1H', 'PT15M', 'P1D', 'P1DT12H', 'P9999Y').

    Months are refused (their length depends on the start date; OpenADR advises against
    them). Years count 365 days, which only matters for 'P9999Y' ("forever").
    """
    if not isinstance(s, str) or len(s) < 3 or s[0] != "P":
        raise TimeFormatError("bad duration %r" % (s,))
    total, num, in_time, seen = 0, -1, False, False
    for c in s[1:]:
        if "0" <= c <= "9":
            num = (0 if num < 0 else num * 10) + ord(c) - 48
        elif c == "T":
            if in_time or num >= 0:
                raise TimeFormatError("bad duration %r" % (s,))
            in_time = True
        elif c in _DUR_UNITS and num >= 0:
            if c == "M" and not in_time:
                raise TimeFormatError("month durations are not supported: %r" % (s,))
            if c in "YWD" and in_time or c in "HS" and not in_time:
                raise TimeFormatError("bad duration %r" % (s,))
            total += num * _DUR_UNITS[c]
            num, seen = -1, True
        else:
            raise TimeFormatError("bad duration %r" % (s,))
    if num >= 0 or not seen:
        raise TimeFormatError("bad duration %r" % (s,))
    return total
