# runtimes: cpython micropython
"""The retail price model (firmware/plan/retail.py) and the planner ranking by it: exact integer
arithmetic, grid-tariff edges in local time across DST, reasons that show both prices, and an
oracle on real DK1 2024 prices with a Danish time-of-use grid tariff."""

from firmware.clock.iso import parse_iso
from firmware.clock.tz import Zone
from firmware.config import ConfigError
from firmware.plan import planner, retail
from firmware.plan.planner import Policy, State, plan
from firmware.prices.schedule import NO_PRICE, Schedule

from support import raises

H = 3600
CET = Zone("CET-1CEST,M3.5.0,M10.5.0/3")
# N1's 2024 C tariff (n1.dk/priser2024; lav 00-06, hoj 06-17 and 21-24, spids 17-21; winter =
# October..March), in EUR at 7.46038 DKK/EUR, and Denmark's per-kWh taxes as the adder.
N1_TOU = ("lav 0.014758 * * 00:00-06:00; hojw 0.044274 10-3 * 06:00-17:00; "
          "spidsw 0.132835 10-3 * 17:00-21:00; hojw 0.044274 10-3 * 21:00-24:00; "
          "hojs 0.022143 4-9 * 06:00-17:00; spidss 0.057571 4-9 * 17:00-21:00; "
          "hojs 0.022143 4-9 * 21:00-24:00")
N1_CFG = {"price.vat_pct": 25, "price.adder": "0.118761", "price.grid_tou": N1_TOU}


def model(**kw):
    cfg = {}
    for k, v in kw.items():
        cfg["price." + k] = v
    return retail.from_config(cfg)


def rnd(num, den):
    """num / den rounded half away from zero (the test's own rounding)."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


# -- the arithmetic -----------------------------------------------------------------------------
def test_identity_settings_give_no_model():
    assert retail.from_config({}) is None
    assert model(vat_pct=0, adder="", multiplier=1, grid_tou="") is None
    assert model(multiplier=1.0, adder="0") is None
    assert model(vat_pct=25) is not None and model(adder="-0.01") is not None
    assert model(multiplier=0) is not None  # a grid-only price is a price


def test_exact_integers_one_rounding_half_away_from_zero():
    m = model(vat_pct=25, adder="0.886", grid_tou="p 0.9910 * * 17:00-21:00")
    t17 = CET.to_utc(2024, 1, 15, 17)
    t12 = CET.to_utc(2024, 1, 15, 12)
    assert m.grid_u(t17, CET) == 991000 and m.grid_u(t12, CET) == 0
    assert m.retail_u(187000, t17, CET) == (187000 + 886000 + 991000) * 125 // 100 == 2580000
    assert m.retail_u(187000, t12, CET) == 1341250
    # a multiplier and VAT with decimals, rounded once at the end
    m = model(vat_pct=7.7, multiplier=1.05)
    for e in (1, 10, 11, 123457, -1, -10, -123457, 0, 99999999):
        assert m.retail_u(e, t12, CET) == rnd(e * 105 * 1077, 100 * 1000), e
    assert model(multiplier=1.05).retail_u(10, t12, CET) == 11  # 10.5 -> 11
    assert model(multiplier=1.05).retail_u(-10, t12, CET) == -11
    assert model(vat_pct="19").retail_u(50, t12, CET) == 60  # 59.5 -> 60
    # settings given as decimal text are read digit by digit
    assert model(vat_pct="12.5", multiplier="0.9").retail_u(1000000, t12, CET) == 1012500


def test_bad_settings_are_one_line_errors_naming_the_setting():
    e = raises(ConfigError, retail.from_config, {"price.grid_tou": "peak 0.45 6-9 wd"})
    assert str(e).startswith("price.grid_tou: ") and "\n" not in str(e)
    e = raises(ConfigError, retail.from_config, {"price.grid_holidays": "2025/12/25"})
    assert str(e).startswith("price.grid_holidays: ")
    e = raises(ConfigError, retail.from_config, {"price.adder": "cheap"})
    assert str(e).startswith("price.adder: ")
    fields = {f.name: f for f in planner.CONFIG}
    raises(ConfigError, fields["price.vat_pct"].check, 150)
    raises(ConfigError, fields["price.adder"].check, "0,5")
    assert fields["price.adder"].check("-0.02") == "-0.02"
    # the planner's schema carries them, so the REPL and config.json validate them
    assert "price.vat_pct" in [f.name for f in planner.CONFIG]
    raises(ConfigError, Policy.from_config, {"price.grid_tou": "x"})


def test_explain_shows_both_prices_and_the_parts():
    m = model(vat_pct=25, adder="0.052", grid_tou="spids 0.173 * * 17:00-21:00")
    t = CET.to_utc(2024, 7, 1, 18)
    assert m.explain(187000, t, CET) == \
        "0.5150 retail = 0.1870 spot + 0.0520 adder + 0.1730 grid + 25% VAT"
    assert m.explain(187000, t - 6 * H, CET) == \
        "0.2988 retail = 0.1870 spot + 0.0520 adder + 0.0000 grid + 25% VAT"
    assert model(multiplier=1.05, vat_pct=19).explain(100000, t, CET) == \
        "0.1250 retail = 1.05 x 0.1000 spot + 19% VAT"


# -- retail schedules -------------------------------------------------------------------------
def _sched(t0, step, prices):
    s = Schedule("test", "EUR", "kWh")
    s.fetched_s = t0 - 7200
    for i, p in enumerate(prices):
        s.add(t0 + i * step, t0 + (i + 1) * step, p, "x%d" % (i % 2))
    return s


def test_apply_cuts_at_tariff_edges_and_keeps_gaps_and_metadata():
    m = model(vat_pct=25, grid_tou="peak 0.1 * * 17:00-21:00")
    t0 = CET.to_utc(2024, 7, 1, 16) - 30 * 60  # 15:30 local, two 90-minute intervals
    s = _sched(t0, 90 * 60, [100000, 200000])
    s.add(t0 + 5 * H, t0 + 6 * H, 300000)  # after a gap, 20:30-21:30 local
    r = m.apply(s, CET)
    want = [(t0, t0 + 90 * 60, 125000),  # 15:30-17:00 local
            (t0 + 90 * 60, t0 + 3 * H, 375000),  # 17:00-18:30: (0.2 + 0.1) x 1.25
            (t0 + 3 * H, t0 + 5 * H, NO_PRICE),
            (t0 + 5 * H, t0 + 5 * H + 1800, 500000),  # 20:30-21:00 peak
            (t0 + 5 * H + 1800, t0 + 6 * H, 375000)]
    got = [(r.start_of(i), r.end_of(i), r.prices[i]) for i in range(len(r))]
    assert got == want
    assert (r.source, r.currency, r.fetched_s) == ("test", "EUR", s.fetched_s)
    assert r.name_of(0) == "x0" and r.name_of(1) == "x1"
    assert len(s) == 4 and s.prices[0] == 100000  # the energy schedule is left alone


def _dst_offset(t):
    """CET/CEST in 2024 by the EU rule, written out (the test's own, not firmware.clock.tz)."""
    return 2 * H if parse_iso("2024-03-31T01:00:00Z") <= t < parse_iso("2024-10-27T01:00:00Z") \
        else H


def test_grid_edges_follow_the_wall_clock_across_both_dst_changes():
    # a period in the hour that does not exist in spring and exists twice in autumn
    m = model(grid_tou="a 1 * * 02:30-03:00; b 2 * * 06:00-17:00")
    for day in ("2024-03-30T22:00:00Z", "2024-10-26T21:00:00Z", "2024-07-01T21:00:00Z"):
        t0 = parse_iso(day)
        s = _sched(t0, 900, [0] * (26 * 4))  # 26 h of quarter hours, energy price 0
        r = m.apply(s, CET)
        for t in range(t0, t0 + 26 * H, 60):  # every minute against the wall clock
            loc = (t + _dst_offset(t)) % 86400 // 60
            want = 1000000 if 150 <= loc < 180 else 2000000 if 360 <= loc < 1020 else 0
            assert r.price_at(t) == want, (day, t)
        edges = [r.start_of(i) for i in range(len(r))]
        assert edges == sorted(edges)
    # autumn: 02:30-03:00 local happens twice (CEST, then CET), spring: not at all
    autumn = m.apply(_sched(parse_iso("2024-10-26T22:00:00Z"), H, [0] * 6), CET)
    assert [(autumn.start_of(i), autumn.prices[i]) for i in range(len(autumn))
            if autumn.prices[i]] == [(parse_iso("2024-10-27T00:30:00Z"), 1000000),
                                     (parse_iso("2024-10-27T01:30:00Z"), 1000000)]
    spring = m.apply(_sched(parse_iso("2024-03-30T23:00:00Z"), H, [0] * 5), CET)
    assert all(spring.prices[i] != 1000000 for i in range(len(spring)))


# -- the planner -------------------------------------------------------------------------------
def _state():
    st = State()
    st.clock_valid = True
    return st


def test_planner_ranks_by_retail_price_and_says_both():
    d0 = CET.to_utc(2024, 1, 15)
    spot = [50000] * 24
    spot[18] = 10000  # the cheapest spot hour is in the grid peak
    spot[3] = 40000
    s = _sched(d0, H, spot)
    cfg = {"policy.hours": 1, "price.vat_pct": 25, "price.grid_tou": "spids 0.1 * * 17:00-21:00"}
    p = plan(s, Policy.from_config(cfg), d0, _state(), CET)
    assert p.on_intervals() == [(d0 + 3 * H, d0 + 4 * H)]
    assert p.at(d0 + 3 * H)[1] == ("in the cheapest 1 h today (1st lowest price): "
                                   "0.0500 retail = 0.0400 spot + 0.0000 grid + 25% VAT")
    # on the energy price alone the plug would run in the grid peak
    p = plan(s, Policy.from_config({"policy.hours": 1}), d0, _state(), CET)
    assert p.on_intervals() == [(d0 + 18 * H, d0 + 19 * H)]
    assert p.at(d0 + 18 * H)[1] == "in the cheapest 1 h today (1st lowest price)"


def test_price_limits_are_retail_prices():
    d0 = CET.to_utc(2024, 1, 15)
    s = _sched(d0, H, [100000] * 24)
    cfg = {"policy.mode": "limits", "policy.on_below": "0.13", "price.vat_pct": 25,
           "price.grid_tou": "spids 0.1 * * 17:00-21:00"}
    p = plan(s, Policy.from_config(cfg), d0, _state(), CET)
    assert p.on_intervals() == [(d0, d0 + 17 * H), (d0 + 21 * H, d0 + 24 * H)]  # 0.125 vs 0.25
    assert p.at(d0)[1] == "retail price at or below limit 0.1300"
    cfg = {"policy.mode": "limits", "policy.off_above": "0.2", "policy.on_below": "1",
           "price.vat_pct": 25, "price.grid_tou": "spids 0.1 * * 17:00-21:00"}
    p = plan(s, Policy.from_config(cfg), d0, _state(), CET)
    assert p.at(d0 + 18 * H)[:2] == (False, "retail price above limit 0.2000")


def _dk1_days():
    """Yield (day_start_s, [(s, e, spot_u)]) for the whole local days in
    tests/data/dk1_2024_dst.csv, one day at a time (EUR/MWh -> micro-EUR/kWh by the test's own
    decimal shift)."""
    day, hours = None, []
    with open("tests/data/dk1_2024_dst.csv") as f:
        f.readline()
        for line in f:
            c = line.strip().split(",")
            if len(c) < 3:
                continue
            whole, _, frac = c[2].lstrip("-").partition(".")
            u = int(whole) * 1000 + int((frac + "000")[:3])
            s, e = parse_iso(c[0]), parse_iso(c[1])
            d = CET.day_start(s)
            if d != day:
                if _whole(day, hours):
                    yield day, hours
                day, hours = d, []
            hours.append((s, e, -u if c[2][0] == "-" else u))
    if _whole(day, hours):
        yield day, hours


def _whole(d, hours):
    return d is not None and hours[0][0] == d and hours[-1][1] == CET.next_day_start(d) and \
        all(hours[i][1] == hours[i + 1][0] for i in range(len(hours) - 1))


def _n1_grid_u(t):
    """The N1 tariff at t, written out with ifs on the local hour (independent of tou.py)."""
    loc = t + _dst_offset(t)
    hour = loc % 86400 // 3600
    month = int(_month(loc // 86400))
    winter = month >= 10 or month <= 3
    if hour < 6:
        return 14758
    if 17 <= hour < 21:
        return 132835 if winter else 57571
    return 44274 if winter else 22143


def _month(days):
    from firmware.clock.iso import civil_from_days

    return civil_from_days(days)[1]


def test_oracle_real_dk1_prices_with_a_danish_grid_tariff():
    pol = Policy.from_config(dict(N1_CFG, **{"policy.hours": 4}))
    spot_pol = Policy.from_config({"policy.hours": 4})
    differs = 0
    saved = 0
    n, lengths = 0, []
    for d, hours in _dk1_days():
        n += 1
        if len(hours) not in lengths:
            lengths.append(len(hours))
        s = Schedule("dk1", "EUR", "kWh")
        for a, b, p in hours:
            s.add(a, b, p)
        s.fetched_s = d - 12 * H
        retail_h = [(a, rnd((p + 118761 + _n1_grid_u(a)) * 125, 100)) for a, b, p in hours]
        best = sorted(retail_h, key=lambda x: (x[1], x[0]))[:4]  # the exact optimum
        want = sorted(a for a, _ in best)
        got = plan(s, pol, d, _state(), CET).on_intervals()
        on = []
        for a, b in got:
            on.extend(range(a, b, H))
        assert on == want, d
        spot_on = []
        for a, b in plan(s, spot_pol, d, _state(), CET).on_intervals():
            spot_on.extend(range(a, b, H))
        if spot_on != want:
            differs += 1
            cost = dict(retail_h)
            assert sum(cost[t] for t in want) < sum(cost[t] for t in spot_on)
            saved += sum(cost[t] for t in spot_on) - sum(cost[t] for t in want)
    assert n >= 24 and sorted(lengths) == [23, 24, 25]  # two 14-day stretches, DST days too
    assert differs >= 3 and saved > 0  # the grid tariff changes the choice on real days
