"""What the European day-ahead price servers share (CPython only): exact decimal texts of
integer micro-unit prices, intervals cut to a resolution, and fault modes.

Every server (energidataservice, awattar, octopus, entsoe in this folder) takes a callable
prices(t0_s, t1_s, now_s) -> [(start_s, end_s, price_u)] in the series' currency per kWh (the
simulator's Feed.window: only what is published by now_s) and answers in its API's shape. Each
control()s the same fault modes (`/_ctl?fail=<mode>[&count=n]` on a LoopbackServer):
"500", "503" (Retry-After: 7), "429" (Retry-After: 60), "garbage" (a broken body), "error"
(the API's own error answer), "empty" (a well-formed answer without prices); and
`interval=<minutes>` (15, 30 or 60: intervals cut to that resolution, each keeping its price).
"""

from . import JSON, Failures


def decimal(pu, digits):
    """price_u / 10**digits as exact decimal text with `digits` places ('-0.010', '42.090')."""
    neg = pu < 0
    a = -pu if neg else pu
    q = 10 ** digits
    return ("-" if neg else "") + "%d.%0*d" % (a // q, digits, a % q)


def div_round(a, b):
    return (a + b // 2) // b if a >= 0 else -((-a + b // 2) // b)


def cut(rows, step_s):
    """Rows [(s, e, p)] cut at multiples of step_s (UTC), each piece keeping its price; rows
    longer than step_s on a grid become several. step_s 0: unchanged."""
    if not step_s:
        return list(rows)
    out = []
    for s, e, p in rows:
        t = s
        while t < e:
            b = min(e, t - t % step_s + step_s)
            out.append((t, b, p))
            t = b
    return out


def merge_to(rows, step_s):
    """Rows averaged (time-weighted, rounded) into step_s buckets on the UTC grid: an hourly
    dataset served from 15-minute prices."""
    acc = {}
    for s, e, p in rows:
        t = s
        while t < e:
            b = min(e, t - t % step_s + step_s)
            k = t - t % step_s
            x = acc.setdefault(k, [0, 0])
            x[0] += p * (b - t)
            x[1] += b - t
            t = b
    return [(k, k + step_s, div_round(v[0], v[1])) for k, v in sorted(acc.items())
            if v[1] == step_s]


class Faults:
    """The fault modes every day-ahead server shares (see the module doc)."""

    def __init__(self):
        self.fail = Failures()
        self.interval_min = 0

    def control(self, name, q, arg):
        if "fail" in q:
            self.fail.add(q["fail"], int(q.get("count", 1)), q.get("path", ""))
        if "interval" in q:
            self.interval_min = int(q["interval"])

    def common(self, path):
        """(status, headers, body) for a transport-level fault, the mode for the API's own
        ones ("error", "empty", "garbage"), or None."""
        mode = self.fail.take(path)
        if mode == "500":
            return (500, {"Content-Type": "text/plain"}, b"Internal Server Error"), None
        if mode == "503":
            return (503, {"Content-Type": "text/plain", "Retry-After": "7"}, b"busy"), None
        if mode == "429":
            return (429, dict(JSON, **{"Retry-After": "60"}),
                    b'{"message":"Too Many Requests"}'), None
        return None, mode
