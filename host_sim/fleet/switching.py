"""The fleet's relay decisions, from firmware.plan.planner.plan() itself (CPython only).

    on = group_on_s(m, ("cheapest", 4), cls, spread_u)   # on-seconds per interval of the run
    r = switching(m, plugs, spread_u)                    # one shard's load, cost and energy

A plug's day is what plan() decides at the start of that local day from that day's prices
(the plan made after the previous day's fetch chooses the same intervals for a day period:
the spread draw follows each interval's start). Plugs that provably decide alike are planned
once: the inputs of plan() for a plug are the day's prices, its Policy (mode, hours, spread)
and policy.spread_class; with spread 0 the class is never read (planner._spread returns the
prices unchanged), so the group key is (policy, class if spread else None). The load (watts)
only scales a group's on-time. tests/test_fleet.py checks this against one plan per plug.
Sums are integers (watt-seconds, micro-units x watt-seconds), so shards add up exactly.
"""

from firmware.plan.planner import Policy, State, plan


def policy_for(key, spread_u, cls):
    mode, hours = key
    pol = Policy.from_config({"policy.mode": mode, "policy.hours": hours,
                              "policy.spread": spread_u / 1000})
    pol.spread_u = spread_u  # exact, whatever the float above rounded to
    pol.spread_class = cls
    return pol


def day_on(m, k, pol):
    """[(s, e)] the plan made at the start of local day k switches on, within that day."""
    a, b, _i, _j = m.days[k]
    st = State()
    st.clock_valid = True
    p = plan(m.day_schedule(k), pol, a, st, m.zone)
    return [(max(s, a), min(e, b)) for s, e, on, _r in p.segments if on and s < b and e > a]


def group_on_s(m, key, cls, spread_u, days=None):
    """On-seconds per interval of the run for one group (a list of ints)."""
    pol = policy_for(key, spread_u, cls)
    out = [0] * len(m.prices)
    starts, ends = m.starts, m.ends
    for k in (range(len(m.days)) if days is None else days):
        _a, _b, i, j = m.days[k]
        for s, e in day_on(m, k, pol):
            while i < j and ends[i] <= s:
                i += 1
            n = i
            while n < j and starts[n] < e:
                lo, hi = max(s, starts[n]), min(e, ends[n])
                out[n] += hi - lo
                n += 1
    return out


def group_key(p, spread_u):
    return (p.policy, p.cls if spread_u else None)


class Switching:
    """One fleet run's totals: load in watt-seconds per interval, cost in micro-units x
    watt-seconds, energy in watt-seconds; + adds two shards' totals."""

    def __init__(self, n_intervals):
        self.load_ws = [0] * n_intervals
        self.cost = 0
        self.energy_ws = 0
        self.plugs = 0
        self.groups = 0

    def __add__(self, other):
        r = Switching(0)
        r.load_ws = [a + b for a, b in zip(self.load_ws, other.load_ws, strict=True)]
        r.cost = self.cost + other.cost
        r.energy_ws = self.energy_ws + other.energy_ws
        r.plugs = self.plugs + other.plugs
        r.groups = self.groups + other.groups
        return r

    def __eq__(self, other):
        return (self.load_ws, self.cost, self.energy_ws, self.plugs) == \
            (other.load_ws, other.cost, other.energy_ws, other.plugs)


def switching(m, plugs, spread_u, grouped=True):
    """The totals of `plugs` on market m at policy.spread = spread_u (micro-units per kWh).
    grouped=False plans every plug on its own (the check of the grouping)."""
    watts = {}
    count = 0
    for p in plugs:
        count += 1
        key = group_key(p, spread_u) if grouped else (p.device_id, p.policy, p.cls)
        w = watts.get(key)
        watts[key] = (p.load_w if w is None else w[0] + p.load_w, p)
    r = Switching(len(m.prices))
    prices = m.prices
    for w, p in watts.values():
        on = group_on_s(m, p.policy, p.cls, spread_u)
        load = r.load_ws
        for i, s in enumerate(on):
            if s:
                load[i] += w * s
                r.cost += w * s * prices[i]
                r.energy_ws += w * s
    r.plugs = count
    r.groups = len(watts)
    return r
