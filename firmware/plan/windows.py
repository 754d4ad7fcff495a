"""Local time-of-day windows and ON/OFF timelines.

A window spec is a list of (start_min, end_min) local minutes, parsed from "06:00-07:00,
22:00-01:00" (end <= start crosses midnight; "24:00" is allowed as an end). daily_windows()
repeats a spec on every local day and turns it into UTC stretches through tz.Zone, so window
edges follow DST: on a spring-forward day "02:00-03:00" is empty, on a fall-back day it lasts
two hours (from the first 02:00 to 03:00).

A timeline is a list of segments (start_s, end_s, on, reason), contiguous and in time order;
add() appends and joins, overlay() paints windows over a timeline.
"""

from ..config import ConfigError


def parse_windows(text, name="window"):
    """'06:00-07:00, 22:00-01:00' -> [(start_min, end_min)]; end <= start crosses midnight."""
    out = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        ab = part.split("-")
        if len(ab) != 2:
            raise ConfigError("%s: %r is not HH:MM-HH:MM" % (name, part))
        out.append((parse_hm(ab[0], name), parse_hm(ab[1], name)))
    return out


def parse_hm(text, name="time"):
    hm = text.strip().split(":")
    try:
        if len(hm) != 2 or len(hm[1]) != 2:
            raise ValueError
        h, m = int(hm[0]), int(hm[1])
    except ValueError:
        raise ConfigError("%s: %r is not HH:MM" % (name, text))
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ConfigError("%s: %r is not a time of day" % (name, text))
    return h * 60 + m


def add(out, s, e, on, reason):
    """Append a segment, joining it to the last one when it continues it with the same
    decision and reason (keeps plans small: a week of 15-minute prices is a few hundred)."""
    if s >= e:
        return
    if out:
        last = out[-1]
        if last[1] == s and last[2] == on and (last[3] is reason or last[3] == reason):
            out[-1] = (last[0], e, on, last[3])
            return
    out.append((s, e, on, reason))


def keep(out, seg):
    """add() for an existing segment tuple: appended as is (no copy) unless it joins the last."""
    if out:
        last = out[-1]
        if last[1] == seg[0] and last[2] == seg[2] and (last[3] is seg[3] or last[3] == seg[3]):
            out[-1] = (last[0], seg[1], last[2], last[3])
            return
    out.append(seg)


def overlay(segs, wins):
    """Paint sorted, non-overlapping wins [(s, e, on, reason)] over a contiguous timeline.
    Segments no window touches are kept as the same tuples (a copy costs only the list)."""
    if not wins:
        return segs
    out = []
    j, n = 0, len(wins)
    for seg in segs:
        s, e, on, r = seg
        while j < n and wins[j][1] <= s:
            j += 1
        if j >= n or wins[j][0] >= e:
            keep(out, seg)
            continue
        t = s
        while t < e:
            while j < n and wins[j][1] <= t:
                j += 1
            if j < n and wins[j][0] <= t:
                w = wins[j]
                end = w[1] if w[1] < e else e
                add(out, t, end, w[2], w[3])
            else:
                end = wins[j][0] if j < n and wins[j][0] < e else e
                add(out, t, end, on, r)
            t = end
    return out


def daily_windows(spec, a, b, zone):
    """Local windows [(start_min, end_min)] repeated every local day -> sorted, joined UTC
    [(s, e)] overlapping [a, b), clipped to it. Edges follow DST (see tz.Zone.from_local)."""
    if not spec:
        return []
    raw = []
    d0 = zone.local_days(a) - 1
    d1 = zone.local_days(b)
    for d in range(d0, d1 + 1):
        base = d * 86400
        for sm, em in spec:
            s = zone.from_local(base + sm * 60)
            e = zone.from_local(base + (em if em > sm else em + 1440) * 60)
            if e > a and s < b:
                raw.append((s if s > a else a, e if e < b else b))
    raw.sort()
    out = []
    for s, e in raw:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def label(spec):
    return ",".join("%02d:%02d-%02d:%02d" % (s // 60, s % 60, e // 60, e % 60) for s, e in spec)
