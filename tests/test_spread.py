# runtimes: cpython micropython
# mpy-heap: 2m
"""Fleet spreading (policy.spread): each plug pays at most its tolerance above its own exact
optimum, the same device always plans the same, and devices of other classes pick other
hours among those within the tolerance. On real DK1 2024 prices, on both runtimes."""

from firmware.clock.iso import parse_iso
from firmware.clock.tz import Zone
from firmware.plan import planner
from firmware.plan.cheapest import cheapest, cost_of
from firmware.plan.planner import Policy, State, plan
from firmware.prices.schedule import Schedule, price_u

from support import TESTS_DIR

DK1 = Zone("CET-1CEST,M3.5.0,M10.5.0/3")


def dk1_hours():
    rows = []
    with open(TESTS_DIR + "/data/dk1_2024_dst.csv") as f:
        f.readline()
        for line in f:
            a, b, p = line.split(",")[:3]
            rows.append((parse_iso(a), parse_iso(b), price_u(p) // 1000))  # per MWh -> kWh
    return rows


def schedule(rows):
    s = Schedule("test", "EUR", "kWh")
    for a, b, p in rows:
        s.add(a, b, p)
    return s


def day_plan(sched, day, cls, spread, hours=4, mode="cheapest", **kw):
    cfg = {"policy.mode": mode, "policy.hours": hours, "policy.spread": spread}
    cfg.update(kw)
    pol = Policy.from_config(cfg)
    pol.spread_class = cls
    st = State()
    st.clock_valid = True
    return plan(sched, pol, day, st, DK1)


def on_in(p, a, b):
    return [(max(s, a), min(e, b)) for s, e, on, _r in p.segments if on and s < b and e > a]


def days(rows, n):
    t = DK1.next_day_start(rows[0][0])
    out = []
    while len(out) < n and DK1.next_day_start(t) <= rows[-1][1]:
        out.append(t)
        t = DK1.next_day_start(t)
    return out


def test_spreading_costs_each_plug_at_most_its_tolerance_per_kwh():
    rows = dk1_hours()
    sched = schedule(rows)
    tol_mwh = 5  # EUR/MWh = 5000 micro-EUR per kWh
    moved = 0
    for day in days(rows, 6):
        end = DK1.next_day_start(day)
        pieces = [r for r in rows if r[0] >= day and r[1] <= end]
        best = cost_of(pieces, cheapest(pieces, 4 * 3600))
        for cls in range(0, planner.SPREAD_CLASSES, 3):
            on = on_in(day_plan(sched, day, cls, tol_mwh), day, end)
            assert sum(e - s for s, e in on) == 4 * 3600
            cost = cost_of(pieces, on)
            assert cost <= best + tol_mwh * 1000 * 4 * 3600, (day, cls, cost, best)
            if cost != best:
                moved += 1
    assert moved > 0  # the tolerance is used at all on real prices


def test_the_same_device_always_plans_the_same_and_classes_differ():
    rows = dk1_hours()
    sched = schedule(rows)
    day = days(rows, 2)[1]
    end = DK1.next_day_start(day)
    a = on_in(day_plan(sched, day, 7, 10), day, end)
    assert a == on_in(day_plan(sched, day, 7, 10), day, end)
    # a re-plan later today keeps tomorrow's choice (the draw follows each interval's start)
    tomorrow, after = end, DK1.next_day_start(end)
    st = State()
    st.clock_valid = True
    pol = Policy.from_config({"policy.hours": 4, "policy.spread": 10})
    pol.spread_class = 7
    assert on_in(plan(sched, pol, day + 5 * 3600, st, DK1), tomorrow, after) == \
        on_in(day_plan(sched, day, 7, 10), tomorrow, after)
    hours = set()
    for cls in range(planner.SPREAD_CLASSES):
        for s, _e in on_in(day_plan(sched, day, cls, 10), day, end):
            hours.add(s)
    exact = on_in(day_plan(sched, day, 0, 0), day, end)
    assert len(hours) > len(exact), (sorted(hours), exact)
    assert planner.spread_class(12345) == 12345 % planner.SPREAD_CLASSES


def test_spread_zero_is_the_exact_plan_and_reasons_say_spread():
    rows = dk1_hours()
    sched = schedule(rows)
    day = days(rows, 3)[2]
    exact = day_plan(sched, day, 5, 0)
    for cls in range(planner.SPREAD_CLASSES):
        assert day_plan(sched, day, cls, 0).segments == exact.segments
    said = False
    for cls in range(planner.SPREAD_CLASSES):
        for _s, _e, on, r in day_plan(sched, day, cls, 20).segments:
            if on and r.startswith("spread: within 0.0200 of the cheapest "):
                said = True
    assert said


def test_other_rules_hold_while_spreading():
    rows = dk1_hours()
    sched = schedule(rows)
    for day in days(rows, 3):
        end = DK1.next_day_start(day)
        for cls in range(0, planner.SPREAD_CLASSES, 7):
            p = day_plan(sched, day, cls, 30, **{"policy.forced_off": "02:00-05:00"})
            for s, e, on, _r in p.segments:
                if on and s < end:
                    lm = DK1.local_minute(s)
                    assert not (120 <= lm < 300), (s, e)
            blk = day_plan(sched, day, cls, 30, hours=3, mode="block")
            on = on_in(blk, day, end)
            assert len(on) == 1 and on[0][1] - on[0][0] == 3 * 3600, on
