"""Retry-After for firmware/http/client.py, imported only when a response carries one: delta-seconds
or an IMF-fixdate measured against the response's own Date header (the core reads no clock)."""

_MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec"


def _http_date(s):
    """UTC seconds of an IMF-fixdate ('Sun, 06 Nov 1994 08:49:37 GMT'), or None."""
    p = (s or "").split()
    try:
        m = _MONTHS.find(p[2])
        hh, mm, ss = p[4].split(":")
        if len(p) != 6 or m < 0 or m % 3 or len(p[2]) != 3:
            return None
        from firmware.http.client import is_digits

        for x in (p[1], p[3], hh, mm, ss):
            if not is_digits(x) or len(x) > 4:
                return None
        m //= 3
        from firmware.clock.iso import days_from_civil

        return (days_from_civil(int(p[3]), m + 1, int(p[1])) * 86400 + int(hh) * 3600
                + int(mm) * 60 + int(ss))
    except (IndexError, ValueError):
        return None


def retry_after(headers):
    """Seconds from a Retry-After header: delta-seconds, or an HTTP-date measured against the
    response's own Date header (the core reads no wall clock); None if absent or unreadable."""
    v = (headers.get("retry-after") or "").strip()
    if not v:
        return None
    from firmware.http.client import is_digits  # ASCII only, on both runtimes

    if is_digits(v):
        return int(v)
    t, now = _http_date(v), _http_date(headers.get("date"))
    if t is None or now is None:
        return None
    return max(0, t - now)
