"""The fleet's price-API requests, timed by firmware Cadence itself (CPython only).

    times = fetch_times(cadence, zone, publish_min, t0, t1, cut=(a, b))
    per_minute = requests(m, plugs, spread_s, cut)    # {minute: requests}, one shard

A plug fetches when Cadence.next_due says so, evaluated after each fetch (every fetch
succeeds; a fetch at or after the market's publication brings tomorrow's prices, else today's).
The run starts two days early (not counted) so the fleet is in its steady cadence, not in a
first boot together. A power cut (a, b) stops every plug; at b they restart together with their
cache and the first fetch is the one NetLoop.retime takes: Cadence.catch_up(b, due) when
overdue (catch_up=False: at once, as before issue 17). Cadence's only per-device inputs are its
settings and offset_s (its rng is read only by failed()), so plugs are grouped by offset.
"""

from firmware.app.fetcher import Cadence, local_time_on
from firmware.app.jitter import Rng

WARM_UP_DAYS = 2


def _coverage(zone, publish_min, t):
    """The end of the prices a fetch at t brings: tomorrow once the market has published."""
    day = zone.day_start(t)
    end = zone.next_day_start(t)
    if t >= local_time_on(zone, day, publish_min):
        end = zone.next_day_start(end)
    return end


def fetch_times(cad, zone, publish_min, t0, t1, cut=None, catch_up=True):
    """The UTC seconds in [t0, t1) at which a plug with Cadence cad asks the price API."""
    t = zone.day_start(t0)
    for _ in range(WARM_UP_DAYS):
        t = zone.day_start(t - 1)
    last = cov = None
    out = []
    restarted = cut is None
    while True:
        due = cad.next_due(zone, t, last, cov)
        if due < t:
            due = t
        if not restarted and due >= cut[0]:  # the power cut: nothing until it ends
            restarted = True
            t = cut[1]
            due = cad.next_due(zone, t, last, cov)
            if due <= t:
                due = cad.catch_up(t, due) if catch_up else t
        if due >= t1:
            return out
        if due >= t0:
            out.append(due)
        last, cov, t = due, _coverage(zone, publish_min, due), due


def requests(m, plugs, cfg, cut=None, catch_up=True):
    """{minute (UTC s // 60): requests} of `plugs` on market m, one Cadence per offset."""
    count = {}
    for p in plugs:
        n, seed = count.get(p.offset_s, (0, p.seed))
        count[p.offset_s] = (n + 1, seed)
    per_min = {}
    for n, seed in count.values():
        cad = Cadence(cfg, m.publish_min, Rng(seed))  # as the group's first plug has it
        for t in fetch_times(cad, m.zone, m.publish_min, m.t0, m.t1, cut, catch_up):
            k = t // 60
            per_min[k] = per_min.get(k, 0) + n
    return per_min


def add(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def stats(per_min, t0, t1):
    """(peak, p99 over every minute of [t0, t1), busy minutes, total requests)."""
    minutes = (t1 - t0) // 60
    vals = sorted(per_min.values(), reverse=True)
    total = sum(vals)
    k = minutes // 100  # the p99 is the (minutes/100 + 1)-th busiest minute
    p99 = vals[k] if k < len(vals) else 0
    return (vals[0] if vals else 0), p99, len(vals), total
