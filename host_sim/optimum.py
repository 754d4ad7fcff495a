"""Reference costs, computed independently of the firmware's planner (CPython only).

Everything is exact integer arithmetic in "micro-unit seconds" (price_u x seconds); a load of
W watts costs cost_us * W / 3.6e12 currency units.

For each policy window (a local day, or deadline to deadline) the device's actual on-time in
that window, D seconds, is the energy to place:
- optimum: the cheapest D seconds of the window with hindsight; any slots (fractional-knapsack
  greedy by price, ties to the earlier slot), or one contiguous block (--block: the best start is
  at a price boundary or ends at one, so only those candidates are tried);
- baseline: D seconds from a fixed local time (18:00) on the window's day;
- average: D seconds at the run's time-weighted mean price.
"""


def on_intervals(relay_events, t0, t1):
    """[(s, e)] where the relay was on, clipped to [t0, t1), from [(t, on)] transitions."""
    out = []
    on_since = None
    for t, on in relay_events:
        if on and on_since is None:
            on_since = t
        elif not on and on_since is not None:
            if t > on_since:
                out.append((on_since, t))
            on_since = None
    if on_since is not None:
        out.append((on_since, t1))
    clipped = []
    for s, e in out:
        s, e = max(s, t0), min(e, t1)
        if e > s:
            clipped.append((s, e))
    return clipped


def local_time_on(zone, day_start_s, minute):
    t = day_start_s + minute * 60
    return t + zone.offset_at(day_start_s) - zone.offset_at(t)


def windows(zone, t0, t1, deadline_min=None):
    """Policy windows [(a, b)] covering [t0, t1): local days, or deadline to deadline."""
    out = []
    if deadline_min is None:
        a = t0
        while a < t1:
            b = min(zone.next_day_start(a), t1)
            out.append((a, b))
            a = b
        return out
    d = zone.day_start(t0)
    edge = local_time_on(zone, d, deadline_min)
    if edge <= t0:
        d = zone.next_day_start(d)
        edge = local_time_on(zone, d, deadline_min)
    a = t0
    while a < t1:
        b = min(edge, t1)
        out.append((a, b))
        a = b
        d = zone.next_day_start(d)
        edge = local_time_on(zone, d, deadline_min)
    return out


def overlap_s(intervals, a, b):
    return sum(max(0, min(e, b) - max(s, a)) for s, e in intervals)


def cost_of(series, intervals):
    return sum(series.cost_us(s, e) for s, e in intervals)


def cheapest_us(series, a, b, dur_s):
    """Cheapest placement of dur_s seconds in [a, b), any slots."""
    slots = sorted(((p, s, e) for s, e, p in series.window(a, b)), key=lambda x: (x[0], x[1]))
    left, total = dur_s, 0
    for p, s, e in slots:
        if left <= 0:
            break
        take = min(left, e - s)
        total += take * p
        left -= take
    return total


def cheapest_block_us(series, a, b, dur_s):
    """Cheapest contiguous dur_s seconds in [a, b) (None if it does not fit)."""
    if dur_s <= 0:
        return 0
    if dur_s > b - a:
        return None
    bounds = set()
    for s, e, _ in series.window(a, b):
        bounds.add(s)
        bounds.add(e)
    cands = set()
    for x in bounds:
        for st in (x, x - dur_s):
            if a <= st and st + dur_s <= b:
                cands.add(st)
    return min(series.cost_us(st, st + dur_s) for st in cands)


def references(series, zone, t0, t1, on, block=False, deadline_min=None, baseline_min=18 * 60):
    """Dict of reference costs (micro-unit seconds) for the device's on-intervals `on`, with
    `per_window` rows (a, b, on_s, device_us, optimal_us, baseline_us, average_us)."""
    wins = windows(zone, t0, t1, deadline_min)
    period_us = series.cost_us(t0, t1)
    span = t1 - t0
    rows = []
    for a, b in wins:
        d = overlap_s(on, a, b)
        dev = cost_of(series, [(max(s, a), min(e, b)) for s, e in on if e > a and s < b])
        opt = base = avg = 0
        if d > 0:
            if block:
                c = cheapest_block_us(series, a, b, d)
                opt = c if c is not None else cheapest_us(series, a, b, d)
            else:
                opt = cheapest_us(series, a, b, d)
            bs = local_time_on(zone, zone.day_start(a), baseline_min)
            base = series.cost_us(bs, bs + d)
            avg = period_us * d // span
        rows.append((a, b, d, dev, opt, base, avg))
    on_s = sum(e - s for s, e in on)
    return {"windows": len(wins), "on_s": on_s,
            "optimal_us": sum(r[4] for r in rows), "baseline_us": sum(r[5] for r in rows),
            "average_us": period_us * on_s // span if span > 0 else 0,
            "mean_price_u": period_us // span if span > 0 else 0, "per_window": rows}


def with_charges(ref, pieces, watts):
    """`ref` with consumption charges ([(t, price_u*W*s)], e.g. a rate plan's usage tiers)
    added to every per-window row (device and references alike: they depend on the energy
    per billing cycle, which every placement shares), in micro-unit seconds for `watts`."""
    rows = []
    for a, b, d, dev, opt, base, avg in ref["per_window"]:
        c = sum(x for t, x in pieces if a <= t < b) // watts if watts else 0
        rows.append((a, b, d, dev + c, opt + c, base + c, avg + c))
    out = dict(ref)
    out["per_window"] = rows
    return out
