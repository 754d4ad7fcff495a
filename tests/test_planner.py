# runtimes: cpython micropython
"""firmware.plan.planner: every mode and rule, with expected answers written out by hand.

Test names say which mode/rule they prove (the lead's "mode/rule -> test" list is built from
them). Prices are integer micro-units; "on" lists are local HH:MM-HH:MM ON stretches.
"""

from firmware.clock.iso import format_hm, parse_iso
from firmware.clock.tz import Zone
from firmware.config import ConfigError
from firmware.plan import planner
from firmware.plan.planner import Policy, State, clock_trusted, plan
from firmware.prices.schedule import Schedule

from support import raises

UTC = Zone("UTC0")
PAC = Zone("PST8PDT,M3.2.0,M11.1.0")
CET = Zone("CET-1CEST,M3.5.0,M10.5.0/3")
H = 3600
DAY0 = parse_iso("2024-06-03T00:00:00Z")  # a Monday, UTC


def sched(start_s, step_s, prices, fetched_s=0):
    s = Schedule()
    t = start_s
    for p in prices:
        s.add(t, t + step_s, p)
        t += step_s
    s.fetched_s = fetched_s
    return s


def sched_irregular(start_s, pieces, fetched_s=0):
    """pieces: [(minutes, price_u)]"""
    s = Schedule()
    t = start_s
    for m, p in pieces:
        s.add(t, t + m * 60, p)
        t += m * 60
    s.fetched_s = fetched_s
    return s


def st(**kw):
    s = State()
    s.clock_valid = True
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def pol(**kw):
    cfg = {}
    for k, v in kw.items():
        cfg["safe_state" if k == "safe_state" else "policy." + k] = v
    return Policy.from_config(cfg)


def ons(p, zone=UTC, t0=None, t1=None):
    """ON stretches of a plan as local 'HH:MM-HH:MM' strings, optionally clipped."""
    out = []
    for s, e in p.on_intervals():
        if t0 is not None:
            s = max(s, t0)
        if t1 is not None:
            e = min(e, t1)
        if s < e:
            out.append("%s-%s" % (format_hm(s, zone.offset_at(s)), format_hm(e, zone.offset_at(e))))
    return out


def reason_at(p, t):
    return p.at(t)[1]


def check_contiguous(p, now):
    seg = p.segments
    assert seg[0][0] == now
    for k in range(len(seg) - 1):
        assert seg[k][1] == seg[k + 1][0] and seg[k][0] < seg[k][1]


# 24 hourly prices with a clear ordering: cheapest hours 04, 03, 13, 02, 14 ...
DAY_PRICES = [90, 80, 40, 20, 10, 70, 100, 120, 130, 110, 95, 85,
              60, 30, 50, 75, 115, 140, 150, 135, 125, 105, 99, 98]


# -- plan shape -------------------------------------------------------------------------------
def test_plan_segments_contiguous_at_and_next_change():
    s = sched(DAY0, H, DAY_PRICES)
    p = plan(s, pol(hours=3), DAY0, st(), UTC)
    check_contiguous(p, DAY0)
    assert p.end_s == DAY0 + 24 * H
    assert ons(p) == ["03:00-05:00", "13:00-14:00"]
    on, reason, until = p.at(DAY0 + 3 * H + 60)
    assert on is True and until == DAY0 + 4 * H
    assert reason == "in the cheapest 3 h today (2nd lowest price)"
    assert p.at(DAY0 + 4 * H)[1] == "in the cheapest 3 h today (1st lowest price)"
    assert p.at(DAY0)[0] is False and p.at(DAY0)[1] == "not among the cheapest 3 h today"
    assert p.next_change(DAY0) == DAY0 + 3 * H
    assert p.next_change(DAY0 + 3 * H) == DAY0 + 5 * H
    assert p.next_change(DAY0 + 20 * H) == p.end_s
    assert p.at(DAY0 + 24 * H)[2] is None and p.at(DAY0 + 24 * H)[0] is False


# -- mode: cheapest N per period ----------------------------------------------------------------
def test_mode_cheapest_day_plans_the_rest_of_the_need_over_the_rest_of_the_day():
    s = sched(DAY0, H, DAY_PRICES)
    # at 10:00, 2 h measured as run today (03-05): 1 h is left, the cheapest hour left is 13
    p = plan(s, pol(hours=3), DAY0 + 10 * H, st(ran_period_s=DAY0, ran_s=2 * H), UTC)
    assert ons(p) == ["13:00-14:00"]
    assert reason_at(p, DAY0 + 13 * H) == \
        "in the cheapest 1 h still needed today (1st lowest price)"
    assert reason_at(p, DAY0 + 10 * H) == "not among the cheapest 1 h still needed today"
    # nothing measured: the whole need over the rest of the day (13, 14, 12)
    assert ons(plan(s, pol(hours=3), DAY0 + 10 * H, st(), UTC)) == ["12:00-15:00"]
    # a count of another period (yesterday's) is not today's
    p = plan(s, pol(hours=3), DAY0 + 10 * H, st(ran_period_s=DAY0 - 24 * H, ran_s=3 * H), UTC)
    assert ons(p) == ["12:00-15:00"]
    # all of it ran: nothing more today, and the reason says so
    p = plan(s, pol(hours=3), DAY0 + 10 * H, st(ran_period_s=DAY0, ran_s=3 * H), UTC)
    assert ons(p) == [] and reason_at(p, DAY0 + 13 * H) == "3 h done today"
    # the running interval counts from now: 1.5 h left at 13:30 -> 13:30-14:00, 14:00-15:00
    p = plan(s, pol(hours=3), DAY0 + 13 * H + 1800, st(ran_period_s=DAY0, ran_s=5400), UTC)
    assert ons(p) == ["13:30-15:00"]


def drive(sched_at, policy, t0, t1, zone, step_s=900, state=None):
    """The app's loop in small steps: measure, plan, switch. Returns (on seconds, state).
    sched_at(t) -> the schedule known at t (prices arrive over time)."""
    state = state or st()
    on_s = 0
    t = t0
    while t < t1:
        planner.count_run(state, policy, t, zone)
        on = plan(sched_at(t), policy, t, state, zone).at(t)[0]
        state.relay_on = on
        if on:
            on_s += step_s
        t += step_s
    return on_s, state


def test_deadline_prices_arriving_mid_period_do_not_buy_the_run_hours_again():
    # The simulator's finding: at 07:00 only today's prices are known, so 2 h run at 10-12;
    # tomorrow's prices arrive at 17:00 with cheaper night hours. Inferring the past from
    # the new plan (10-12 is no longer "the cheapest") ran 01-03 as well: 4 h for 2 h.
    today = [100000] * 24
    today[10], today[11] = 20000, 21000
    night = [100000] * 24
    night[1], night[2] = 5000, 6000
    s1 = sched(DAY0, H, today)
    s2 = s1.merge(sched(DAY0 + 24 * H, H, night))
    pp = pol(mode="deadline", hours=2, deadline="07:00")
    at = lambda t: s1 if t < DAY0 + 17 * H else s2  # noqa: E731
    on_s, state = drive(at, pp, DAY0 + 7 * H, DAY0 + 31 * H, UTC)
    assert on_s == 2 * H
    assert planner.count_run(state, pp, DAY0 + 31 * H - 1, UTC) == 2 * H  # measured alike
    assert state.ran_period_s == DAY0 + 7 * H
    # a re-plan keeps the choice when the prices did not change and the relay followed it
    on_s, _ = drive(lambda t: s2, pp, DAY0 + 7 * H, DAY0 + 31 * H, UTC)
    assert on_s == 2 * H
    # the load ran only 1 h of its 2 (say an override held it off): the rest at night
    on_s, state = drive(at, pp, DAY0 + 7 * H, DAY0 + 17 * H, UTC)
    state.ran_s = H
    p = plan(s2, pp, DAY0 + 17 * H, state, UTC)
    assert ons(p, t1=DAY0 + 31 * H) == ["01:00-02:00"]
    assert reason_at(p, DAY0 + 25 * H) == \
        "in the cheapest 1 h still needed before 07:00 (1st lowest price)"


def test_cheapest_per_day_prices_arriving_mid_day_keep_the_daily_need():
    # the same with cheapest-N per local day: corrected prices at 12:00 make 20-22 cheaper
    # than 03-05, which already ran
    s1 = sched(DAY0, H, DAY_PRICES)
    newer = list(DAY_PRICES)
    newer[20], newer[21] = 1, 2
    s2 = s1.merge(sched(DAY0, H, newer))
    pp = pol(hours=2)
    on_s, state = drive(lambda t: s1 if t < DAY0 + 12 * H else s2, pp, DAY0, DAY0 + 24 * H, UTC)
    assert on_s == 2 * H and planner.count_run(state, pp, DAY0 + 24 * H - 1, UTC) == 2 * H


def test_count_run_measures_on_time_per_period():
    pp = pol(mode="deadline", hours=2, deadline="07:00")
    s = st()
    assert planner.count_run(s, pp, DAY0 + 5 * H, UTC) == 0  # first call: only the mark
    assert s.ran_period_s == DAY0 - 17 * H and s.ran_mark_s == DAY0 + 5 * H
    s.relay_on = True
    assert planner.count_run(s, pp, DAY0 + 6 * H, UTC) == H
    # across the deadline: only the part after it counts for the new period
    assert planner.count_run(s, pp, DAY0 + 7 * H + 600, UTC) == 600
    assert s.ran_period_s == DAY0 + 7 * H
    s.relay_on = False
    assert planner.count_run(s, pp, DAY0 + 9 * H, UTC) == 600
    # an invalid clock stops the count, and the time up to the next valid reading is lost
    s.relay_on = True
    s.clock_valid = False
    assert planner.count_run(s, pp, DAY0 + 10 * H, UTC) == 600 and s.ran_mark_s is None
    s.clock_valid = True
    assert planner.count_run(s, pp, DAY0 + 11 * H, UTC) == 600
    assert planner.count_run(s, pp, DAY0 + 11 * H + 60, UTC) == 660
    # a clock stepped back counts nothing
    assert planner.count_run(s, pp, DAY0 + 10 * H, UTC) == 660
    # periods: a local day (DST-aware), a window (nothing outside it), none when rolling
    assert planner.period_at(pol(hours=1), DAY0 + 5 * H, UTC) == (DAY0, DAY0 + 24 * H)
    spring = parse_iso("2024-03-10T12:00:00-07:00")
    ps, pe = planner.period_at(pol(hours=1), spring, PAC)
    assert pe - ps == 23 * H
    w = pol(hours=1, period="window", window="22:00-07:00")
    assert planner.period_at(w, DAY0 + 23 * H, UTC) == (DAY0 + 22 * H, DAY0 + 31 * H)
    assert planner.period_at(w, DAY0 + 12 * H, UTC) is None
    assert planner.period_at(pol(hours=1, period="rolling"), DAY0, UTC) is None
    assert planner.period_at(pol(mode="block", hours=1), DAY0, UTC) is None


def test_ties_break_on_the_earlier_slot():
    # several equal cheapest prices: the earliest ones win, also for the cut last slot
    s = sched(DAY0, H, [9, 3, 3, 7, 3, 3, 3, 8] + [50] * 16)
    p = plan(s, pol(hours=3), DAY0, st(), UTC)
    assert ons(p) == ["01:00-03:00", "04:00-05:00"]
    p = plan(s, pol(hours=2.5), DAY0, st(), UTC)
    assert ons(p) == ["01:00-03:00", "04:00-04:30"]
    # equal prices all day: the first hours
    p = plan(sched(DAY0, H, [42] * 24), pol(hours=2), DAY0, st(), UTC)
    assert ons(p) == ["00:00-02:00"]
    # block ties: two equally cheap 2 h blocks -> the earlier
    p = plan(sched(DAY0, H, [5, 1, 1, 5, 1, 1, 5] + [9] * 17), pol(mode="block", hours=2),
             DAY0, st(), UTC)
    assert ons(p) == ["01:00-03:00"]


def test_partial_interval_weighted_by_duration():
    s = sched(DAY0, H, DAY_PRICES)
    p = plan(s, pol(hours=1.5), DAY0, st(), UTC)
    assert ons(p) == ["03:00-03:30", "04:00-05:00"]


def test_15_minute_prices():
    prices = [1000 + (k * 37) % 500 for k in range(96)]
    for k, p in ((10, 5), (11, 6), (50, 4), (95, 7), (30, 6)):
        prices[k] = p
    s = sched(DAY0, 900, prices)
    p = plan(s, pol(hours=1), DAY0, st(), UTC)
    # cheapest quarters: 50 (4), 10 (5), 11 (6), 30 (6, later than 11)
    assert ons(p) == ["02:30-03:00", "07:30-07:45", "12:30-12:45"]
    assert reason_at(p, DAY0 + 50 * 900) == "in the cheapest 1 h today (1st lowest price)"


def test_5_minute_prices():
    prices = [500] * (24 * 12)
    prices[100], prices[101], prices[7], prices[200] = 3, 2, 2, 1
    s = sched(DAY0, 300, prices)
    p = plan(s, pol(hours=20 / 60), DAY0, st(), UTC)
    assert ons(p) == ["00:35-00:40", "08:20-08:30", "16:40-16:45"]


def test_horizon_reaches_the_last_price():
    s = sched(DAY0, H, DAY_PRICES + DAY_PRICES + DAY_PRICES[:6])
    p = plan(s, pol(hours=1), DAY0 + 5 * H, st(ran_period_s=DAY0, ran_s=H), UTC)
    assert p.end_s == DAY0 + 54 * H
    # today's cheapest hour (04:00) has passed; tomorrow's; the partly known day after
    assert p.on_intervals() == [(DAY0 + 28 * H, DAY0 + 29 * H), (DAY0 + 52 * H, DAY0 + 53 * H)]
    assert reason_at(p, DAY0 + 28 * H) == "in the cheapest 1 h tomorrow (1st lowest price)"
    assert reason_at(p, DAY0 + 52 * H) == \
        "in the cheapest 1 h on 2024-06-05 (1st lowest price; prices until 06:00)"
    assert reason_at(p, DAY0 + 6 * H) == "1 h done today"


def test_irregular_intervals_smart_price_style():
    s = sched_irregular(DAY0, [(7, 10), (186, 50), (7, 5), (600, 80), (640, 60)])
    p = plan(s, pol(hours=20 / 60), DAY0, st(), UTC)
    # 03:13-03:20 (5), 00:00-00:07 (10), then 6 min of the 50-stretch right after 00:07
    assert ons(p) == ["00:00-00:13", "03:13-03:20"]


def test_window_crossing_midnight_compares_slots_across_midnight():
    start = DAY0 - 24 * H
    prices = [100] * 48
    prices[23] = 10  # 23:00 day 1
    prices[24 + 1] = 12  # 01:00 day 2
    prices[20] = 1  # 20:00 day 1 is cheap but outside the window
    s = sched(start, H, prices)
    p = plan(s, pol(hours=2, period="window", window="22:00-07:00"), start + 12 * H, st(), UTC)
    assert ons(p, t1=start + 31 * H) == ["23:00-00:00", "01:00-02:00"]
    assert reason_at(p, start + 20 * H) == "outside window 22:00-07:00"
    assert reason_at(p, start + 23 * H) == "in the cheapest 2 h in 22:00-07:00 (1st lowest price)"


def test_day_period_does_not_mix_days():
    start = DAY0 - 24 * H
    prices = [100] * 48
    prices[23], prices[25] = 10, 12
    p = plan(sched(start, H, prices), pol(hours=1), start, st(), UTC)
    assert ons(p) == ["23:00-00:00", "01:00-02:00"]  # one per local day


def test_rolling_window_crosses_midnight():
    start = DAY0 - 24 * H
    prices = [100] * 48
    prices[21], prices[26], prices[27] = 50, 10, 20  # 21:00, 02:00, 03:00
    s = sched(start, H, prices)
    p = plan(s, pol(hours=2, period="rolling", rolling_hours=12), start + 20 * H, st(), UTC)
    on = ons(p, t1=start + 32 * H)
    assert on == ["02:00-04:00"]
    assert reason_at(p, start + 26 * H) == \
        "in the cheapest 2 h in the 12 h from 20:00 (1st lowest price)"


# -- mode: cheapest contiguous block ------------------------------------------------------------
def test_mode_block_cheapest_contiguous():
    s = sched(DAY0, H, DAY_PRICES)
    p = plan(s, pol(mode="block", hours=3), DAY0, st(), UTC)
    # 02-05 = 40+20+10 = 70 is the cheapest 3 h run (12-15 = 60+30+50 = 140)
    assert ons(p) == ["02:00-05:00"]
    assert reason_at(p, DAY0 + 2 * H) == "cheapest 3 h block 02:00-05:00"
    assert reason_at(p, DAY0) == "waiting for 3 h block 02:00-05:00"


def test_mode_block_may_start_inside_an_interval():
    # 30 min block: the best start ends at a price boundary (the cheap minutes straddle it)
    s = sched_irregular(DAY0, [(60, 100), (20, 10), (20, 50), (60, 12), (1280, 200)])
    p = plan(s, pol(mode="block", hours=0.5), DAY0, st(), UTC)
    # candidates: 01:00-01:30 = 20*10+10*50 = 700; 01:10-01:40 = 10*10+20*50 = 1100;
    # 01:40-02:10 = 0*50.. = 20*50... ; 01:40-02:10 = 30*12 = 360 -> 01:40-02:10
    assert ons(p) == ["01:40-02:10"]


def test_mode_block_in_window_crossing_midnight():
    start = DAY0 - 24 * H
    prices = [100] * 48
    prices[23], prices[24], prices[25] = 20, 10, 30  # 23:00, 00:00, 01:00
    prices[12], prices[13] = 1, 1  # cheap noon, outside the window
    s = sched(start, H, prices)
    p = plan(s, pol(mode="block", hours=2, period="window", window="22:00-07:00"),
             start + 12 * H, st(), UTC)
    assert ons(p, t1=start + 31 * H) == ["23:00-01:00"]
    assert reason_at(p, start + 24 * H) == "cheapest 2 h block 23:00-01:00"


def test_mode_block_zero_length_and_no_room():
    s = sched(DAY0, H, DAY_PRICES[:2])
    p = plan(s, pol(mode="block", hours=3), DAY0, st(), UTC)
    assert ons(p) == [] and reason_at(p, DAY0).startswith("no room for a 3 h block")
    p = plan(s, pol(mode="block", hours=0), DAY0, st(), UTC)
    assert ons(p) == [] and reason_at(p, DAY0) == "block length 0: nothing to run"


def test_started_block_not_cut_by_replan():
    s = sched(DAY0, H, DAY_PRICES)
    state = st()
    p1 = plan(s, pol(mode="block", hours=3), DAY0 + H, state, UTC)
    assert ons(p1) == ["02:00-05:00"]
    # at 03:00 corrected prices arrive: 05-08 is now far cheaper, but the started block runs on
    newer = sched(DAY0, H, [90, 80, 40, 20, 10, 1, 1, 1] + DAY_PRICES[8:])
    s2 = s.merge(newer)
    state.relay_on, state.on_since_s = True, DAY0 + 2 * H
    p2 = plan(s2, pol(mode="block", hours=3), DAY0 + 3 * H, state, UTC)
    assert ons(p2) == ["03:00-05:00"]
    assert reason_at(p2, DAY0 + 3 * H) == "finishing 3 h block 02:00-05:00"
    # after the block: not repeated the same day
    p3 = plan(s2, pol(mode="block", hours=3), DAY0 + 6 * H, state, UTC)
    assert ons(p3) == []
    assert reason_at(p3, DAY0 + 6 * H) == "3 h block 02:00-05:00 done"
    # a fresh state (no started block) would pick the new cheap block
    assert ons(plan(s2, pol(mode="block", hours=3), DAY0 + 3 * H, st(), UTC)) == ["05:00-08:00"]


# -- mode: deadline -----------------------------------------------------------------------------
def test_mode_deadline_before_local_time():
    start = DAY0 - 24 * H
    prices = [100] * 48
    prices[22], prices[30], prices[31] = 5, 8, 1  # 22:00, 06:00 and 07:00 (after the deadline)
    prices[40] = 2  # 16:00 next day, after the deadline too
    s = sched(start, H, prices)
    p = plan(s, pol(mode="deadline", hours=2, deadline="07:00"), start + 12 * H, st(), UTC)
    assert ons(p, t1=start + 31 * H) == ["22:00-23:00", "06:00-07:00"]
    assert reason_at(p, start + 22 * H) == "in the cheapest 2 h before 07:00 (1st lowest price)"


def test_deadline_beyond_last_price_plans_with_known_prices_and_says_so():
    start = DAY0
    prices = [100] * 24
    prices[20], prices[23] = 7, 9
    s = sched(start, H, prices)  # prices end at 00:00; the deadline is 07:00 next day
    p = plan(s, pol(mode="deadline", hours=2, deadline="07:00"), start + 12 * H, st(), UTC)
    assert ons(p) == ["20:00-21:00", "23:00-00:00"]
    assert reason_at(p, start + 20 * H) == \
        "in the cheapest 2 h before 07:00 (1st lowest price; prices until 00:00)"
    # need more than is known: all known time is used, and the reason says so
    p = plan(s, pol(mode="deadline", hours=20, deadline="07:00"), start + 12 * H, st(), UTC)
    assert ons(p) == ["12:00-00:00"]
    assert reason_at(p, start + 13 * H) == \
        "all known prices: fewer than the 20 h before 07:00 wanted (prices until 00:00)"


def test_deadline_replanned_as_prices_arrive():
    start = DAY0
    prices = [100] * 24
    prices[20], prices[23] = 7, 9
    s = sched(start, H, prices)
    state = st()
    pp = pol(mode="deadline", hours=2, deadline="07:00")
    assert ons(plan(s, pp, start + 12 * H, state, UTC)) == ["20:00-21:00", "23:00-00:00"]
    tomorrow = sched(start + 24 * H, H, [50, 1, 50, 50, 50, 50, 50, 50])
    p = plan(s.merge(tomorrow), pp, start + 12 * H, state, UTC)
    assert ons(p, t1=start + 31 * H) == ["20:00-21:00", "01:00-02:00"]


def test_deadline_energy_from_kwh_and_load():
    p = pol(mode="deadline", energy_kwh=3, load_kw=2)
    assert p.need_s == 5400
    assert pol(mode="deadline", hours=2).need_s == 7200
    assert pol(mode="deadline", energy_kwh=1, load_kw=3).need_s == 1200


# -- price limits ---------------------------------------------------------------------------------
def test_price_limit_always_on_at_or_below():
    s = sched(DAY0, H, [60000, 50000, 50001, 49999] + [90000] * 20)
    p = plan(s, pol(mode="limits", on_below="0.05"), DAY0, st(), UTC)
    assert ons(p) == ["01:00-02:00", "03:00-04:00"]
    assert reason_at(p, DAY0 + H) == "price at or below limit 0.0500"
    assert reason_at(p, DAY0) == "no price limit met"


def test_price_limit_never_on_above_beats_cheapest_and_on_below():
    s = sched(DAY0, H, DAY_PRICES)
    # cheapest 3 h are 03, 04, 13 (20, 10, 30); never above 25 removes 13:00
    p = plan(s, pol(hours=3, off_above="0.000025"), DAY0, st(), UTC)
    assert ons(p) == ["03:00-05:00"]
    assert reason_at(p, DAY0 + 13 * H) == "price above limit 0.0000"
    # on_below adds hours outside the cheapest set
    p = plan(s, pol(hours=1, on_below="0.00003"), DAY0, st(), UTC)
    assert ons(p) == ["03:00-05:00", "13:00-14:00"]


def test_relative_limit_below_period_mean():
    prices = [10] * 6 + [100] * 18
    prices[6] = 70
    prices[7] = 76  # mean = (60 + 70 + 76 + 1600) / 24 = 75.25
    p = plan(sched(DAY0, H, prices), pol(mode="limits", relative="below_mean"), DAY0, st(), UTC)
    assert ons(p) == ["00:00-07:00"]
    assert reason_at(p, DAY0) == "price below period mean 0.0001"


def test_relative_limit_percentile():
    prices = list(range(100, 124))  # 24 distinct prices rising through the day
    p = plan(sched(DAY0, H, prices), pol(mode="limits", relative="percentile", percentile=25),
             DAY0, st(), UTC)
    assert ons(p) == ["00:00-06:00"]  # 25 % of 24 h = the 6 cheapest hours
    assert "25th percentile" in reason_at(p, DAY0)


# -- anti-short-cycle -----------------------------------------------------------------------------
def test_min_on_time_extends_a_short_run():
    s = sched(DAY0, 900, [1] + [100] * 95)
    p = plan(s, pol(hours=0.25, min_on_min=60), DAY0, st(relay_on=False, off_since_s=0), UTC)
    assert ons(p) == ["00:00-01:00"]
    assert reason_at(p, DAY0 + 1800) == "min on 60 min: staying on"


def test_min_on_time_counts_from_on_since():
    s = sched(DAY0, H, DAY_PRICES)
    # the relay has been on since 23:50 yesterday; the plan wants off now; min on 30 min
    state = st(relay_on=True, on_since_s=DAY0 - 600)
    p = plan(s, pol(hours=3, min_on_min=30), DAY0, state, UTC)
    assert ons(p)[0] == "00:00-00:20"


def test_min_off_time_delays_a_restart():
    s = sched(DAY0, H, DAY_PRICES)
    state = st(relay_on=False, off_since_s=DAY0 + 3 * H - 600)
    p = plan(s, pol(hours=3, min_off_min=45), DAY0 + 3 * H, state, UTC)
    assert ons(p) == ["03:35-05:00", "13:00-14:00"]
    assert reason_at(p, DAY0 + 3 * H) == "min off 45 min: staying off"


def test_max_switches_per_day():
    prices = [100] * 24
    for h in (1, 3, 5, 7):
        prices[h] = 1
    s = sched(DAY0, H, prices + [100] * 24)
    state = st(relay_on=False, off_since_s=0, switches_today=0)
    p = plan(s, pol(hours=4, max_switches=4), DAY0, state, UTC)
    # four switches today: on 01, off 02, on 03, off 04; then held off until midnight
    assert ons(p, t1=DAY0 + 24 * H) == ["01:00-02:00", "03:00-04:00"]
    assert reason_at(p, DAY0 + 5 * H) == "max 4 switches/day: staying off"
    # switches already made today count
    state = st(relay_on=False, off_since_s=0, switches_today=3)
    p = plan(s, pol(hours=4, max_switches=4), DAY0, state, UTC)
    assert ons(p, t1=DAY0 + 24 * H) == ["01:00-00:00"]


# -- forced hours, override ---------------------------------------------------------------------
def test_forced_on_and_forced_off_hours():
    s = sched(DAY0, H, DAY_PRICES)
    p = plan(s, pol(hours=3, forced_on="06:00-07:00,22:00-01:00", forced_off="04:00-04:30"),
             DAY0, st(), UTC)
    assert ons(p) == ["00:00-01:00", "03:00-04:00", "04:30-05:00", "06:00-07:00",
                      "13:00-14:00", "22:00-00:00"]
    assert reason_at(p, DAY0 + 6 * H) == "forced on 06:00-07:00,22:00-01:00"
    assert reason_at(p, DAY0 + 4 * H) == "forced off 04:00-04:30"
    # off wins where both
    p = plan(s, pol(hours=0, forced_on="06:00-08:00", forced_off="07:00-09:00"), DAY0, st(), UTC)
    assert ons(p) == ["06:00-07:00"]


def test_forced_hours_beat_anti_short_cycle():
    s = sched(DAY0, H, DAY_PRICES)
    state = st(relay_on=True, on_since_s=DAY0 - 60)
    p = plan(s, pol(hours=3, min_on_min=120, forced_off="00:00-00:30"), DAY0, state, UTC)
    assert not p.at(DAY0)[0] and p.at(DAY0)[1] == "forced off 00:00-00:30"


def test_override_until_expiry():
    s = sched(DAY0, H, DAY_PRICES)
    until = DAY0 + 14 * H + 1800
    state = st(override_on=True, override_until_s=until)
    p = plan(s, pol(hours=3, forced_off="14:00-15:00"), DAY0 + 12 * H, state, UTC)
    assert p.at(DAY0 + 12 * H) == (True, "override on until 14:30", until)
    assert p.at(until)[0] is False  # forced off again after expiry
    assert ons(p) == ["12:00-14:30"]
    # after expiry the override no longer applies (today's 3 h have run)
    state.ran_period_s, state.ran_s = DAY0, 3 * H
    p = plan(s, pol(hours=3), until + 60, state, UTC)
    assert not p.at(until + 60)[0]
    off = st(override_on=False, override_until_s=DAY0 + 5 * H)
    p = plan(s, pol(hours=3), DAY0 + 3 * H, off, UTC)
    assert ons(p) == ["13:00-14:00"] and reason_at(p, DAY0 + 3 * H) == "override off until 05:00"


# -- fallback ladder, clock -----------------------------------------------------------------------
def test_fallback_backup_hours_when_no_prices():
    s = sched(DAY0, H, DAY_PRICES[:6])  # prices only 00-06
    p = plan(s, pol(hours=1, backup_hours="01:00-05:00,22:00-23:00"), DAY0 + 8 * H, st(), UTC)
    assert ons(p) == ["22:00-23:00"]
    assert reason_at(p, DAY0 + 22 * H) == "backup hours 01:00-05:00,22:00-23:00: no prices"
    # no schedule at all: backup hours from now to the end of the day
    p = plan(Schedule(), pol(backup_hours="01:00-05:00"), DAY0, st(), UTC)
    assert ons(p) == ["01:00-05:00"] and p.end_s == DAY0 + 24 * H


def test_fallback_rate_plan_when_no_backup_hours():
    real = sched(DAY0, H, [50] * 6)  # real prices 00-06
    rate = sched(DAY0, H, [1] * 6 + [100] * 8 + [5] * 4 + [100] * 6)  # TOU plan all day
    p = plan(real, pol(hours=4), DAY0, st(), UTC, rate_plan=rate)
    # real 50s are dearer than the rate plan's 5s at 14-18: the plan compares them
    assert ons(p) == ["14:00-18:00"]
    assert reason_at(p, DAY0 + 14 * H) == "rate plan: in the cheapest 4 h today (1st lowest price)"
    assert reason_at(p, DAY0) == "not among the cheapest 4 h today"
    # backup hours come first on the ladder: the rate plan is then ignored
    p = plan(real, pol(hours=4, backup_hours="20:00-21:00"), DAY0, st(), UTC, rate_plan=rate)
    assert ons(p) == ["00:00-04:00", "20:00-21:00"]


def test_fallback_safe_state_when_nothing_else():
    p = plan(Schedule(), pol(), DAY0, st(), UTC)
    assert ons(p) == [] and reason_at(p, DAY0) == "no prices: safe state off"
    p = plan(Schedule(), pol(safe_state="on"), DAY0, st(), UTC)
    assert ons(p) == ["00:00-00:00"] and reason_at(p, DAY0) == "no prices: safe state on"


def test_clock_not_valid_gives_safe_state():
    s = sched(DAY0, H, DAY_PRICES)
    state = st()
    state.clock_valid = False
    p = plan(s, pol(hours=24, safe_state="off"), DAY0 + 4 * H, state, UTC)
    assert p.segments == [(DAY0 + 4 * H, DAY0 + 5 * H, False, "clock not valid: safe state off")]
    p = plan(s, pol(hours=0, safe_state="on"), DAY0, state, UTC)
    assert p.at(DAY0)[0] is True


def test_clock_before_build_or_fetch_time_not_trusted():
    assert clock_trusted(1000, 900, 950)
    assert not clock_trusted(899, 900, 0)
    assert not clock_trusted(5000, 900, 5301)  # more than FETCH_SKEW_S before the fetch
    assert clock_trusted(5000, 900, 5300)  # an NTP step of up to 5 min is tolerated
    assert not clock_trusted(5000, 900, 5100, skew_s=0)
    assert clock_trusted(5, 0, 0)
    s = sched(DAY0, H, DAY_PRICES, fetched_s=DAY0 + 10 * H)
    p = plan(s, pol(hours=24), DAY0 + 4 * H, st(), UTC)  # clock reads before the fetch
    assert p.at(DAY0 + 4 * H)[:2] == (False, "clock not trusted: safe state off")
    p = plan(s, pol(hours=24), DAY0 + 4 * H, st(build_s=DAY0 + 5 * H), UTC)
    assert p.at(DAY0 + 4 * H)[0] is False
    assert plan(s, pol(hours=24), DAY0 + 11 * H, st(), UTC).at(DAY0 + 11 * H)[0] is True


def test_refetched_prices_replace_earlier_ones():
    s = sched(DAY0, H, DAY_PRICES)
    corrected = sched(DAY0 + 20 * H, H, [1, 2])
    p = plan(s.merge(corrected), pol(hours=3), DAY0, st(), UTC)
    assert ons(p) == ["04:00-05:00", "20:00-22:00"]


# -- DST days -----------------------------------------------------------------------------------
def test_dst_spring_day_pacific_has_23_hours():
    z = PAC
    d0 = z.to_utc(2025, 3, 9)
    prices = [100 + k for k in range(23)]
    prices[1] = 5  # 01:00 PST
    prices[2] = 6  # 03:00 PDT (02:00 does not exist)
    s = sched(d0, H, prices + [1] * 24)  # next day is dirt cheap but another day
    p = plan(s, pol(hours=2), d0, st(), z)
    assert p.on_intervals()[0] == (d0 + H, d0 + 3 * H)  # 01:00 PST + 03:00 PDT, adjacent
    assert ons(p, z, t1=d0 + 23 * H) == ["01:00-04:00"]
    assert z.next_day_start(d0) == d0 + 23 * H
    assert reason_at(p, d0 + H) == "in the cheapest 2 h today (1st lowest price)"
    # forced 02:00-03:00 does not exist on that day: nothing is forced
    p = plan(s, pol(hours=0, forced_on="02:00-03:00"), d0, st(), z)
    assert ons(p, z, t1=d0 + 23 * H) == []


def test_dst_fall_day_pacific_has_25_hours():
    z = PAC
    d0 = z.to_utc(2025, 11, 2)
    prices = [100] * 25
    prices[1], prices[2] = 7, 8  # 01:00 PDT and 01:00 PST
    s = sched(d0, H, prices + [1] * 24)
    p = plan(s, pol(hours=2), d0, st(), z)
    assert p.on_intervals()[0] == (d0 + H, d0 + 3 * H)
    assert ons(p, z, t1=d0 + 25 * H) == ["01:00-02:00"]  # 01:00 PDT to 02:00 PST: 2 h
    assert z.next_day_start(d0) == d0 + 25 * H


def test_dst_spring_and_fall_days_cet():
    z = CET
    d0 = z.to_utc(2024, 3, 31)
    prices = [100] * 23
    prices[22] = 3  # 23:00 CEST, the last hour of the 23-hour day
    s = sched(d0, H, prices + [1] * 24)
    p = plan(s, pol(hours=1), d0, st(), z)
    assert ons(p, z, t1=d0 + 23 * H) == ["23:00-00:00"]
    f0 = z.to_utc(2024, 10, 27)
    prices = [100] * 25
    prices[2], prices[3] = 4, 5  # 02:00 CEST, 02:00 CET
    s = sched(f0, H, prices)
    p = plan(s, pol(hours=2), f0, st(), z)
    assert p.on_intervals() == [(f0 + 2 * H, f0 + 4 * H)]
    # a forced window over the repeated hour covers both occurrences (02:00 CEST to 03:00 CET)
    p = plan(s, pol(hours=0, forced_on="02:00-03:00"), f0, st(), z)
    assert p.on_intervals() == [(f0 + 2 * H, f0 + 4 * H)]
    assert reason_at(p, f0 + 2 * H) == "forced on 02:00-03:00"


def test_reasons_use_local_time():
    z = CET
    d0 = z.to_utc(2024, 7, 1)
    s = sched(d0, H, DAY_PRICES)
    p = plan(s, pol(mode="block", hours=3), d0, st(), z)
    assert reason_at(p, d0 + 2 * H) == "cheapest 3 h block 02:00-05:00"


# -- config ---------------------------------------------------------------------------------------
def test_policy_from_config_defaults_and_errors():
    p = Policy.from_config({})
    assert (p.mode, p.need_s, p.period, p.safe_on) == ("cheapest", 4 * H, "day", False)
    names = [f.name for f in planner.CONFIG]
    assert all(n.startswith(("policy.", "price.")) for n in names)  # price.*: plan/retail.py
    assert "policy.hours" in names and "policy.mode" in names
    raises(ConfigError, Policy.from_config, {"policy.mode": "magic"})
    raises(ConfigError, Policy.from_config, {"policy.forced_on": "25:00-26:00"})
    raises(ConfigError, Policy.from_config, {"policy.window": "22-07"})
    raises(ConfigError, Policy.from_config, {"policy.on_below": "cheap"})
    raises(ConfigError, Policy.from_config, {"policy.hours": 500})
    assert Policy.from_config({"policy.off_above": "0.30"}).off_above_u == 300000
    assert Policy.from_config({"safe_state": "on"}).safe_on is True


# -- a deadline window that runs past the published prices (estimates) ----------------------------
def _two_days_then_today(night, day_afternoon):
    """Yesterday and the day before (history: cheap or dear nights), and today until 24:00."""
    prices = []
    for _d in range(3):  # the day before yesterday, yesterday, today (published yesterday)
        prices += [night] * 7 + [80000] * 6 + [day_afternoon] * 11
    return sched(DAY0 - 2 * 24 * H, H, prices)


def test_deadline_waits_for_a_night_that_is_likely_cheaper_and_reserves_the_latest_hours():
    s = _two_days_then_today(night=20000, day_afternoon=60000)  # nights have been cheap
    now = DAY0 + 7 * H  # the window 07:00 -> 07:00 opens; tonight's prices come at 13:00
    p = plan(s, pol(mode="deadline", hours=2, deadline="07:00"), now, st(), UTC)
    # nothing runs in the afternoon; the need is reserved at the end of the known time and
    # runs there only if tonight's prices have not come by then
    assert ons(p) == ["22:00-00:00"]
    assert reason_at(p, now + 7 * H) == "waiting: after 00:00 is likely cheaper (est. 0.0200)" \
        " than 13:00 (0.0600)"
    assert reason_at(p, DAY0 + 23 * H).startswith(
        "reserved: runs only if the prices after 00:00 do not come in time (2 h before 07:00")
    # tonight's prices arrive (cheap as estimated): the night is chosen, the reserve goes
    tonight = sched(DAY0 + 24 * H, H, [20000] * 7 + [80000] * 17)
    p = plan(s.merge(tonight), pol(mode="deadline", hours=2, deadline="07:00"), DAY0 + 13 * H,
             st(), UTC)
    assert ons(p, t1=DAY0 + 31 * H) == ["00:00-02:00"]


def test_deadline_runs_known_hours_that_beat_the_estimate():
    s = _two_days_then_today(night=90000, day_afternoon=60000)  # nights have been dear
    now = DAY0 + 7 * H
    p = plan(s, pol(mode="deadline", hours=2, deadline="07:00"), now, st(), UTC)
    assert ons(p) == ["13:00-15:00"]
    assert reason_at(p, DAY0 + 13 * H).startswith("in the cheapest 2 h before 07:00")


def test_deadline_without_history_plans_on_known_prices_as_before():
    # no estimate possible (no history): exactly the plan on known prices
    s = sched(DAY0, H, [100] * 20 + [7, 100, 100, 9])
    p = plan(s, pol(mode="deadline", hours=2, deadline="07:00"), DAY0 + 12 * H, st(), UTC)
    assert ons(p) == ["20:00-21:00", "23:00-00:00"]


def test_estimate_reserve_meets_the_deadline_when_prices_never_come():
    s = _two_days_then_today(night=20000, day_afternoon=60000)
    pp = pol(mode="deadline", hours=2, deadline="07:00")
    state = st()
    # replanned every hour with no new prices: the reserve still delivers 2 h by 00:00
    ran = 0
    for h in range(7, 24):
        t = DAY0 + h * H
        planner.count_run(state, pp, t, UTC)
        on = plan(s, pp, t, state, UTC).at(t)[0]
        state.relay_on = on
        if on:
            ran += H
    assert ran == 2 * H
