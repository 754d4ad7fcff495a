"""What not knowing the future costs: the plug's policy run as an ideal plug (CPython only).

The plug's gap to the perfect-foresight optimum has two parts. Some of it no plug can avoid:
a deadline window that opens in the morning spans hours whose prices are published only at
midday, so any decision before then is made without them. The rest is what this plug lost on
top: fetching after publication, failed fetches, power cuts, re-plans.

ideal_on() runs the firmware's own planner (the same Policy, the same State and count_run, so
the same strategy) as a plug that knows each day's prices the second they are published and
never fails: the gap of its cost to its own optimum is the unknowable part; the plug's gap
minus that is what the plan lost. A bundled series is published day by day at `publish_min`
local (the price server's rule); the ideal plug keeps one day of history, as the app does.
"""

from firmware.plan.planner import Policy, State, count_run, note_started_block, plan
from firmware.prices.schedule import Schedule

KEEP_HISTORY_S = 86400  # as firmware/app/netloop.py


def _known_until(zone, t, publish_min):
    """End of the prices published by t: today's, and tomorrow's once the local minute of
    publication has passed."""
    end = zone.next_day_start(t)
    if zone.local_minute(t) >= publish_min:
        end = zone.next_day_start(end)
    return end


def ideal_on(series, zone, t0, t1, cfg, publish_min):
    """[(s, e)] where the ideal plug runs the load in [t0, t1)."""
    pol = Policy.from_config(cfg)
    state = State()
    state.clock_valid = True
    on, on_since = [], None
    p, known, day = None, None, None
    cuts = sorted(set([s for s in series.starts if t0 < s < t1] +
                      [e for e in series.ends if t0 < e < t1]))
    t = t0
    k = 0
    while t < t1:
        count_run(state, pol, t, zone)
        if pol.mode == "block":
            note_started_block(state, t)
        horizon = _known_until(zone, t, publish_min)
        today = zone.day_start(t)
        if p is None or horizon != known or today != day or t >= p.end_s:
            known, day = horizon, today
            sched = Schedule("ideal", series.currency, "kWh")
            for s, e, price in series.window(today - KEEP_HISTORY_S, horizon):
                sched.add(s, e, price)
            p = plan(sched, pol, t, state, zone)
        now_on, _reason, until = p.at(t)
        if now_on != bool(state.relay_on):
            if now_on:
                on_since = t
                state.on_since_s = t
            else:
                on.append((on_since, t))
                state.off_since_s = t
            state.relay_on = now_on
        # next event: a price boundary, the plan's next change, publication, a new day
        while k < len(cuts) and cuts[k] <= t:
            k += 1
        nxt = t1
        for c in (cuts[k] if k < len(cuts) else t1, until or t1, p.end_s,
                  zone.next_day_start(t), _publication_after(zone, t, publish_min)):
            if t < c < nxt:
                nxt = c
        t = nxt
    if state.relay_on and on_since is not None:
        on.append((on_since, t1))
    return on


def _publication_after(zone, t, publish_min):
    day = zone.day_start(t)
    pub = day + publish_min * 60 + zone.offset_at(day) - zone.offset_at(day + publish_min * 60)
    return pub if pub > t else zone.next_day_start(t) + publish_min * 60
