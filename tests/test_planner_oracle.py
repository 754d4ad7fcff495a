"""Exactness of the planner against brute-force oracles (CPython: hypothesis, zoneinfo, real data).

- cheapest N seconds: the oracle tries every subset of intervals that holds at least N seconds
  (the dearest member is the one cut short) and keeps the minimum cost;
- contiguous block: the oracle prices every start minute of every priced run, minute by minute;
- both also through plan() per local day, on random schedules and on the real series in
  tests/data/ (hourly and re-sliced to 15 minutes with distinct quarter prices);
- firmware.clock.tz against the IANA database (zoneinfo) for the rules the product documents.
"""

import csv
import os
import random
from datetime import UTC as DT_UTC
from datetime import datetime
from itertools import combinations
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.clock.iso import parse_iso
from firmware.clock.tz import Zone
from firmware.plan import planner
from firmware.plan.planner import Policy, State, cheapest, cheapest_block, cost_of, plan
from firmware.plan.policy import need_limit
from firmware.prices.schedule import Schedule, price_u

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
T0 = parse_iso("2024-06-03T00:00:00Z")


# -- oracles ------------------------------------------------------------------------------------
def oracle_cheapest(pieces, need):
    """Min cost of `need` seconds from any subset; the dearest chosen piece is cut short."""
    total = sum(e - s for s, e, _ in pieces)
    need = min(need, total)
    if need <= 0:
        return 0
    best = None
    idx = range(len(pieces))
    for r in range(1, len(pieces) + 1):
        for combo in combinations(idx, r):
            dur = sum(pieces[k][1] - pieces[k][0] for k in combo)
            if dur < need:
                continue
            # the dearest member (the longest of equals) gives back the excess; a subset
            # whose excess is more than that member is covered by a smaller subset
            top = max(combo, key=lambda k: (pieces[k][2], pieces[k][1] - pieces[k][0]))
            if dur - need >= pieces[top][1] - pieces[top][0]:
                continue
            cost = sum(pieces[k][2] * (pieces[k][1] - pieces[k][0]) for k in combo)
            cost -= pieces[top][2] * (dur - need)
            if best is None or cost < best:
                best = cost
    return best


def per_minute(pieces):
    """{minute_start_s: price} for pieces whose bounds are whole minutes."""
    m = {}
    for s, e, p in pieces:
        for t in range(s, e, 60):
            m[t] = p
    return m


def oracle_block(pieces, length_s):
    """(cost, start) of the cheapest contiguous block, earliest on ties, by minute."""
    m = per_minute(pieces)
    best = None
    for t in sorted(m):
        cost = 0
        for u in range(t, t + length_s, 60):
            if u not in m:
                cost = None
                break
            cost += m[u] * 60
        if cost is not None and (best is None or cost < best[0]):
            best = (cost, t)
    return best


# -- random schedules ---------------------------------------------------------------------------
pieces_st = st.lists(
    st.tuples(st.integers(1, 90), st.integers(-50, 60), st.booleans()),
    min_size=1, max_size=11)


def build(spec, t0=T0):
    """[(minutes, price, gap_before)] -> pieces [(s, e, p)] in time order (gaps allowed)."""
    out = []
    t = t0
    for minutes, price, gap in spec:
        if gap:
            t += 60 * 17
        out.append((t, t + minutes * 60, price))
        t += minutes * 60
    return out


def to_schedule(pieces):
    s = Schedule()
    for a, b, p in pieces:
        s.add(a, b, p)
    return s


@settings(max_examples=400, deadline=None)
@given(pieces_st, st.integers(0, 600))
def test_oracle_cheapest_slots_random(spec, need_min):
    pieces = build(spec)
    need = need_min * 60
    sel = cheapest(pieces, need)
    total = sum(e - s for s, e, _ in pieces)
    assert sum(e - s for s, e, _ in sel) == min(need, total)
    assert cost_of(pieces, sel) == oracle_cheapest(pieces, need)
    # chosen stretches lie inside pieces, in time order, without overlap
    for k in range(len(sel) - 1):
        assert sel[k][1] <= sel[k + 1][0]


@settings(max_examples=400, deadline=None)
@given(pieces_st, st.integers(1, 300))
def test_oracle_contiguous_block_random(spec, length_min):
    pieces = build(spec)
    got = cheapest_block(pieces, length_min * 60)
    want = oracle_block(pieces, length_min * 60)
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert (got[2], got[0]) == want  # same cost, and the earliest optimal start
        assert cost_of(pieces, [got]) == got[2]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(5, 240), st.integers(-20, 40), st.just(False)),
                min_size=1, max_size=10), st.integers(0, 12 * 60), st.booleans())
def test_oracle_through_plan_random(spec, need_min, block):
    pieces = build(spec)
    s = to_schedule(pieces)
    state = State()
    state.clock_valid = True
    zone = Zone("UTC0")
    mode = "block" if block else "cheapest"
    pol = Policy.from_config({"policy.mode": mode, "policy.hours": need_min / 60})
    p = plan(s, pol, T0, state, zone)
    day_end = zone.next_day_start(T0)
    day = [(a, min(b, day_end), q) for a, b, q in pieces if a < day_end]
    on = [(a, min(b, day_end)) for a, b in p.on_intervals() if a < day_end]
    if block:
        want = oracle_block(day, need_min * 60) if need_min else None
        if want is None:
            assert on == []
        else:
            assert on == [(want[1], want[1] + need_min * 60)]
    else:
        assert cost_of(day, on) == oracle_cheapest(day, need_min * 60)


# -- real prices --------------------------------------------------------------------------------
def load_stretches(name):
    """The file's contiguous stretches, each a list of (start_s, end_s, price_u per kWh)."""
    out, cur = [], []
    with open(os.path.join(DATA, name)) as f:
        for row in csv.DictReader(f):
            s, e = parse_iso(row["start_utc"]), parse_iso(row["end_utc"])
            p = price_u(row["price"]) // 1000  # per MWh -> per kWh, micro-units
            if cur and cur[-1][1] != s:
                out.append(cur)
                cur = []
            cur.append((s, e, p))
    out.append(cur)
    return out


MARKETS = (("caiso_np15_2019_dst.csv", "PST8PDT,M3.2.0,M11.1.0"),
           ("dk1_2024_dst.csv", "CET-1CEST,M3.5.0,M10.5.0/3"),
           ("ercot_houston_2022_dst.csv", "CST6CDT,M3.2.0,M11.1.0"))


def quarters(stretch, seed):
    """Hourly prices re-sliced into 15-minute prices that differ within the hour (and tie)."""
    rnd = random.Random(seed)
    out = []
    for s, _e, p in stretch:
        for k in range(4):
            out.append((s + k * 900, s + (k + 1) * 900, p + rnd.choice((-300, 0, 0, 250))))
    return out


def check_days(stretch, zone, need_s, mode):
    s = to_schedule(stretch)
    state = State()
    state.clock_valid = True
    pol = Policy.from_config({"policy.mode": mode, "policy.hours": need_s / 3600})
    t = zone.next_day_start(stretch[0][0])  # first complete local day
    days = 0
    lengths = set()
    while zone.next_day_start(t) <= stretch[-1][1]:
        d1 = zone.next_day_start(t)
        lengths.add(d1 - t)
        p = plan(s, pol, t, state, zone)
        day = [(a, b, q) for a, b, q in stretch if t <= a < d1]
        on = [(a, min(b, d1)) for a, b in p.on_intervals() if a < d1]
        if mode == "block":
            got = cheapest_block(day, need_s)
            assert on == [(got[0], got[1])]
            # every candidate start (a boundary, or ending on one) is no cheaper; earlier wins
            for a, b, _q in day:
                for start in (a, b - need_s):
                    if t <= start and start + need_s <= d1:
                        c = cost_of(day, [(start, start + need_s)])
                        assert c > got[2] or (c == got[2] and start >= got[0])
        else:
            assert sum(b - a for a, b in on) == need_s
            # independent check: the cheapest need_s seconds by sorting the per-quarter prices
            unit = 900
            cells = sorted((q, a + k) for a, b, q in day for k in range(0, b - a, unit))
            want = sum(q * unit for q, _ in cells[:need_s // unit])
            assert cost_of(day, on) == want
        days += 1
        t = d1
    return days, lengths


def test_real_prices_cheapest_and_block_every_day():
    for name, rule in MARKETS:
        zone = Zone(rule)
        all_lengths = set()
        for stretch in load_stretches(name):
            for need_h in (1, 3, 5):
                d, lengths = check_days(stretch, zone, need_h * 3600, "cheapest")
                all_lengths |= lengths
                assert d >= 12
                check_days(stretch, zone, need_h * 3600, "block")
            q = quarters(stretch, len(stretch))
            for need_s in (900, 4 * 3600 + 2700):
                check_days(q, zone, need_s, "cheapest")
                check_days(q, zone, need_s, "block")
        assert all_lengths == {23 * 3600, 24 * 3600, 25 * 3600}, name


def test_real_prices_block_equals_minute_oracle_on_a_few_days():
    zone = Zone("CET-1CEST,M3.5.0,M10.5.0/3")
    stretch = quarters(load_stretches("dk1_2024_dst.csv")[0], 7)
    t = zone.next_day_start(stretch[0][0])
    for _ in range(3):
        d1 = zone.next_day_start(t)
        day = [(a, b, q) for a, b, q in stretch if t <= a < d1]
        for length in (35 * 60, 3 * 3600 + 600):
            got = cheapest_block(day, length)
            assert (got[2], got[0]) == oracle_block(day, length)
        t = d1


# -- tz against the IANA database --------------------------------------------------------------
def test_tz_matches_zoneinfo():
    rnd = random.Random(4)
    for rule, name in (("PST8PDT,M3.2.0,M11.1.0", "America/Los_Angeles"),
                       ("CET-1CEST,M3.5.0,M10.5.0/3", "Europe/Copenhagen"),
                       ("CST6CDT,M3.2.0,M11.1.0", "America/Chicago"),
                       ("AEST-10AEDT,M10.1.0,M4.1.0/3", "Australia/Sydney")):
        z, zi = Zone(rule), ZoneInfo(name)
        samples = [rnd.randrange(1577836800, 1893456000) for _ in range(3000)]
        for y in range(2020, 2030):  # and every transition second, +-1
            for tr in z.transitions(y):
                samples += [tr - 1, tr, tr + 1]
        for t in samples:
            want = datetime.fromtimestamp(t, DT_UTC).astimezone(zi).utcoffset().total_seconds()
            assert z.offset_at(t) == int(want), (rule, t)
        for _ in range(300):  # day_start = the first instant of the local date
            t = rnd.randrange(1577836800, 1893456000)
            loc = datetime.fromtimestamp(t, DT_UTC).astimezone(zi)
            mid = datetime(loc.year, loc.month, loc.day, tzinfo=zi)
            assert z.day_start(t) == int(mid.timestamp()), (rule, t)


def test_planner_config_fields_validate_their_defaults():
    for f in planner.CONFIG:
        assert f.check(f.default) == f.default


# -- invariants of whole plans under random policies --------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-20, 80), min_size=4, max_size=200),
       st.sampled_from(("cheapest", "block", "deadline", "limits")),
       st.sampled_from(("day", "window", "rolling")),
       st.integers(0, 12 * 4), st.integers(0, 120), st.integers(0, 120), st.integers(0, 6),
       st.integers(0, 95), st.sampled_from((None, False, True)),
       st.sampled_from(("UTC0", "PST8PDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3")))
def test_plan_invariants_random(prices, mode, period, quarters_on, min_on, min_off, max_sw,
                                now_q, relay_on, rule):
    zone = Zone(rule)
    t0 = parse_iso("2025-03-08T20:00:00Z")  # the US spring-forward night is in range
    s = to_schedule([(t0 + k * 900, t0 + (k + 1) * 900, p * 1000) for k, p in enumerate(prices)])
    now = t0 + now_q * 900
    state = State()
    state.clock_valid = True
    state.relay_on = relay_on
    if relay_on is not None:
        state.on_since_s = now - 600 if relay_on else None
        state.off_since_s = None if relay_on else now - 600
    cfg = {
        "policy.mode": mode, "policy.period": period, "policy.hours": quarters_on / 4,
        "policy.rolling_hours": 6, "policy.window": "22:00-06:00", "policy.on_below": "0.000",
        "policy.off_above": "0.070", "policy.min_on_min": min_on, "policy.min_off_min": min_off,
        "policy.max_switches": max_sw}
    lim = need_limit(cfg)  # the schema refuses a need longer than the period
    if lim is not None and cfg["policy.hours"] > lim[0]:
        cfg["policy.hours"] = lim[0]
    pol = Policy.from_config(cfg)
    p = plan(s, pol, now, state, zone)
    seg = p.segments
    assert seg[0][0] == now and p.end_s >= zone.next_day_start(now)
    for k in range(len(seg) - 1):
        assert seg[k][1] == seg[k + 1][0] and seg[k][0] < seg[k][1]
        assert seg[k][3]
    # anti-short-cycle: runs after the first switch respect min on/off
    runs = []
    for a, b, on, _r in seg:
        if runs and runs[-1][2] == on:
            runs[-1][1] = b
        else:
            runs.append([a, b, on])
    for k in range(1, len(runs) - 1):
        a, b, on = runs[k]
        assert b - a >= (min_on if on else min_off) * 60, (runs[k], min_on, min_off)
    if relay_on is not None and len(runs) > 1:
        held = runs[0][1] - (now - 600)
        assert held >= (min_on if relay_on else min_off) * 60
    # max switches per local day (no switches before now in this state)
    if max_sw:
        first = relay_on if relay_on is not None else runs[0][2]
        per_day = {}
        prev = first
        for a, _b, on in runs:
            if on != prev:
                d = zone.day_start(a)
                per_day[d] = per_day.get(d, 0) + 1
            prev = on
        assert max(per_day.values() or [0]) <= max_sw
    # the reproducibility of a pure function: the same inputs give the same plan
    state2 = State()
    state2.clock_valid = True
    state2.relay_on = relay_on
    state2.on_since_s, state2.off_since_s = state.on_since_s, state.off_since_s
    assert plan(s, pol, now, state2, zone).segments == seg
