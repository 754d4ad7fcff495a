# runtimes: cpython micropython
"""Static rate plans: TOU periods, tiers per billing cycle, the usage counter."""

from firmware.clock.iso import parse_iso
from firmware.config import ConfigError
from firmware.prices.schedule import price_u
from firmware.providers import rateplan

from support import raises

PST = rateplan.FixedZone(-8 * 3600)


class PacificZone:
    """US Pacific with the 2025 DST dates (enough for these tests)."""

    def offset_at(self, t):
        if parse_iso("2025-03-09T10:00:00Z") <= t < parse_iso("2025-11-02T09:00:00Z"):
            return -7 * 3600
        return -8 * 3600


def _cfg(**kw):
    cfg = {f.name: f.default for f in rateplan.CONFIG}
    for k, v in kw.items():
        cfg["rateplan." + k] = v
    return cfg


def _records(s):
    return [(s.start_of(i), s.end_of(i), s.prices[i], s.name_of(i)) for i in range(len(s))]


def test_parse_tiers_and_errors():
    assert rateplan.parse_tiers("100:0.012,0:0.20145") == [(100000, 12000), (0, 201450)]
    assert rateplan.parse_tiers("200:120.0,400:214.6,0:307.3")[2] == (0, 307300000)
    assert rateplan.parse_tiers("12.5:1") == [(12500, 1000000)]
    for bad in ("100-0.1", "0:0.1,100:0.2", "200:1,100:2", "x:1"):
        e = raises(ConfigError, rateplan.parse_tiers, bad)
        assert "rateplan.tiers" in str(e)


def test_tou_grammar_errors_name_the_field():
    e = raises(ConfigError, rateplan.parse_tou, "peak 0.45 6-9 wd")
    assert "rateplan.tou" in str(e) and "peak 0.45 6-9 wd" in str(e)
    raises(ConfigError, rateplan.parse_tou, "peak 0.45 13 wd 16:00-21:00")
    raises(ConfigError, rateplan.parse_tou, "peak 0.45 * xyz 16:00-21:00")
    raises(ConfigError, rateplan.parse_tou, "peak 0.45 * wd 16:00-16:00")
    raises(ConfigError, rateplan.parse_holidays, "2025/12/25")


def test_tou_periods_seasons_weekdays_holidays():
    cfg = _cfg(price="0.20", tou="peak 0.45 6-9 wd 16:00-21:00; night 0.10 * * 22:00-06:00;"
               " wkend 0.15 * we 10:00-14:00", holidays="07-04,2025-09-01")
    plan = rateplan.Plan(cfg)
    d = parse_iso("2025-07-15") // 86400  # a Tuesday in summer
    assert plan.tou_at(d, 16 * 60) == (450000, "peak")
    assert plan.tou_at(d, 21 * 60) == (200000, None)
    assert plan.tou_at(d, 23 * 60)[1] == "night" and plan.tou_at(d, 5 * 60)[1] == "night"
    assert plan.tou_at(d, 6 * 60)[1] is None
    winter = parse_iso("2025-01-14") // 86400
    assert plan.tou_at(winter, 17 * 60) == (200000, None)
    sat = parse_iso("2025-07-19") // 86400
    assert plan.tou_at(sat, 17 * 60)[1] is None and plan.tou_at(sat, 11 * 60)[1] == "wkend"
    july4 = parse_iso("2025-07-04") // 86400  # Friday, a holiday every year
    assert plan.tou_at(july4, 17 * 60)[1] is None and plan.tou_at(july4, 11 * 60)[1] == "wkend"
    labor = parse_iso("2025-09-01") // 86400  # Monday, a holiday in 2025 only
    assert plan.tou_at(labor, 17 * 60)[1] is None
    assert plan.tou_at(labor + 364, 17 * 60)[1] == "peak"  # 2026-08-31 is a Monday


def test_generate_tou_in_local_time_with_hourly_slots():
    cfg = _cfg(price="0.20", tou="peak 0.45 * * 16:00-21:00; part 0.30 * * 15:30-16:00")
    t0 = parse_iso("2025-01-14T00:00:00-08:00")
    s = rateplan.generate(cfg, t0, t0 + 86400, 0, PST)
    recs = _records(s)
    assert recs[0][:3] == (t0, t0 + 3600, 200000)
    assert s.end_s == t0 + 86400 and s.coverage() == (t0, t0 + 86400)
    assert s.price_at(parse_iso("2025-01-14T15:29:59-08:00")) == 200000
    assert s.price_at(parse_iso("2025-01-14T15:30:00-08:00")) == 300000
    assert s.price_at(parse_iso("2025-01-14T20:59:59-08:00")) == 450000
    assert s.price_at(parse_iso("2025-01-14T21:00:00-08:00")) == 200000
    assert parse_iso("2025-01-14T15:30:00-08:00") in [r[0] for r in recs]
    assert max(r[1] - r[0] for r in recs) == 3600
    for i in range(1, len(recs)):
        assert recs[i - 1][1] == recs[i][0]


def test_generate_over_dst_change_keeps_local_times():
    cfg = _cfg(price="0.20", tou="peak 0.45 * * 16:00-21:00", load_kw=0)
    z = PacificZone()
    t0 = parse_iso("2025-11-01T00:00:00-07:00")
    s = rateplan.generate(cfg, t0, parse_iso("2025-11-03T00:00:00-08:00"), 0, z)
    assert s.end_s - s.base_s == 49 * 3600
    assert s.price_at(parse_iso("2025-11-01T16:00:00-07:00")) == 450000
    assert s.price_at(parse_iso("2025-11-02T15:59:00-08:00")) == 200000
    assert s.price_at(parse_iso("2025-11-02T16:00:00-08:00")) == 450000
    assert s.price_at(parse_iso("2025-11-02T21:00:00-08:00")) == 200000


def test_marginal_price_by_tier():
    tiers = rateplan.parse_tiers("200:120.0,400:214.6,0:307.3")
    assert rateplan.marginal_u(tiers, 0) == price_u("120")
    assert rateplan.marginal_u(tiers, 199999) == price_u("120")
    assert rateplan.marginal_u(tiers, 200000) == price_u("214.6")
    assert rateplan.marginal_u(tiers, 10 ** 7) == price_u("307.3")
    assert rateplan.marginal_u([], 5) == 0
    cfg = _cfg(tiers="100:0.012,0:0.20145", price="0")
    assert rateplan.marginal_price_u(cfg, 99.9) == 12000
    assert rateplan.marginal_price_u(cfg, 100) == 201450
    cfg["rateplan.base"] = "200:910,400:1600,0:7300"
    assert rateplan.base_charge_u(cfg, 250) == 1600 * 1000000  # a charge, not a kWh price


def test_tier_boundary_crossed_mid_interval_is_split():
    # 99 kWh used, 2 kW load: the 100 kWh bound is crossed after 30 min of the first hour
    cfg = _cfg(tiers="100:0.012,0:0.20145", load_kw=2, price="0.05", projection="continuous")
    t0 = parse_iso("2025-01-14T10:00:00-08:00")
    s = rateplan.generate(cfg, t0, t0 + 3 * 3600, 99, PST)
    recs = _records(s)
    assert recs[0] == (t0, t0 + 1800, 62000, "")
    assert recs[1] == (t0 + 1800, t0 + 3600, 251450, "")
    assert recs[2][:3] == (t0 + 3600, t0 + 7200, 251450)
    # a fractional load: 1.5 kW needs 2400 s for 1 kWh
    cfg["rateplan.load_kw"] = 1.5
    s = rateplan.generate(cfg, t0, t0 + 3600, 0, PST, used_wh=99000)
    assert _records(s)[0][:2] == (t0, t0 + 2400)
    # without a load the tier never changes inside the window
    cfg["rateplan.load_kw"] = 0
    s = rateplan.generate(cfg, t0, t0 + 5 * 3600, 99, PST)
    assert all(p == 62000 for p in s.prices)


def test_default_projection_holds_the_tier_until_the_cycle_ends():
    # Within a cycle the tier charge depends on how much, not when: projecting a continuous
    # load would make later hours look dearer and push the load into dearer TOU hours.
    cfg = _cfg(tiers="100:0.012,0:0.20145", load_kw=2, price="0.05", meterDate=15)
    t0 = parse_iso("2025-01-14T10:00:00-08:00")  # the cycle ends at local midnight
    s = rateplan.generate(cfg, t0, t0 + 24 * 3600, 99, PST)
    midnight = parse_iso("2025-01-15T00:00:00-08:00")
    assert all(p == 62000 for st, e, p, _i in s.window(t0, midnight))
    assert s.price_at(midnight) == 62000  # a new cycle starts in tier 1 again (99 kWh was old)
    s = rateplan.generate(cfg, t0, t0 + 24 * 3600, 100, PST)
    assert s.price_at(t0) == 251450 and s.price_at(midnight - 1) == 251450
    assert s.price_at(midnight) == 62000


def test_meter_date_29_in_a_short_february():
    cfg = _cfg(meterDate=29)
    jan29 = parse_iso("2019-01-29T00:00:00-08:00")
    feb28 = parse_iso("2019-02-28T00:00:00-08:00")
    mar29 = parse_iso("2019-03-29T00:00:00-08:00")  # PST is a fixed zone here
    assert rateplan.next_cycle_start(jan29 + 3600, 29, PST) == feb28
    assert rateplan.cycle_start(feb28 + 3600, 29, PST) == feb28
    assert rateplan.next_cycle_start(feb28 + 3600, 29, PST) == mar29
    assert cfg["rateplan.meterDate"] == 29


def test_three_tiers_crossed_in_sequence():
    cfg = _cfg(tiers="1:1,2:2,0:3", load_kw=0.6, price="0", currency="KRW",
               projection="continuous")
    t0 = parse_iso("2025-01-14T00:00:00Z")
    s = rateplan.generate(cfg, t0, t0 + 4 * 3600, 0, rateplan.FixedZone(0))
    assert s.currency == "KRW"
    cuts = [(s.start_of(i), s.prices[i]) for i in range(len(s))]
    assert (t0 + 6000, 2000000) in cuts  # 1 kWh at 600 W = 6000 s
    assert (t0 + 12000, 3000000) in cuts
    assert s.price_at(t0 + 5999) == 1000000 and s.price_at(t0 + 11999) == 2000000


def test_cycle_start_and_rollover():
    z = PST
    t = parse_iso("2025-03-01T12:00:00-08:00")
    assert rateplan.cycle_start(t, 15, z) == parse_iso("2025-02-15T00:00:00-08:00")
    assert rateplan.next_cycle_start(t, 15, z) == parse_iso("2025-03-15T00:00:00-08:00")
    assert rateplan.cycle_start(t, 1, z) == parse_iso("2025-03-01T00:00:00-08:00")
    jan = parse_iso("2025-01-10T00:00:00-08:00")
    assert rateplan.cycle_start(jan, 29, z) == parse_iso("2024-12-29T00:00:00-08:00")
    assert rateplan.next_cycle_start(jan, 29, z) == parse_iso("2025-01-29T00:00:00-08:00")
    # the 29th in a short February: the cycle starts on the last day of the month
    mar = parse_iso("2025-03-05T00:00:00-08:00")
    assert rateplan.cycle_start(mar, 29, z) == parse_iso("2025-02-28T00:00:00-08:00")
    # local midnight, not UTC midnight: 23:30 local on the 14th is still the old cycle
    late = parse_iso("2025-03-14T23:30:00-08:00")
    assert rateplan.cycle_start(late, 15, z) == parse_iso("2025-02-15T00:00:00-08:00")


def test_generate_resets_tiers_at_cycle_start():
    cfg = _cfg(tiers="100:0.012,0:0.20145", load_kw=0, price="0", meterDate=15)
    t0 = parse_iso("2025-03-14T20:00:00-08:00")
    s = rateplan.generate(cfg, t0, t0 + 8 * 3600, 150, PST)
    new_cycle = parse_iso("2025-03-15T00:00:00-08:00")
    assert s.price_at(new_cycle - 1) == 201450
    assert s.price_at(new_cycle) == 12000
    assert new_cycle in [s.start_of(i) for i in range(len(s))]


def test_counter_accumulates_and_resets_per_cycle():
    cfg = _cfg(meterDate=2, load_kw=1.2)
    st = {}
    t = parse_iso("2025-05-10T12:00:00-08:00")
    assert rateplan.counter(st, cfg, t, PST) == 0
    assert rateplan.add_energy(st, cfg, t, 1500, PST) == 1500
    assert rateplan.add_on_time(st, cfg, t + 60, 1800, PST) == 2100  # 1.2 kW x 30 min
    assert rateplan.add_on_time(st, cfg, t + 120, 1, PST) == 2100  # 1200 W*s kept
    assert rateplan.add_on_time(st, cfg, t + 180, 2, PST) == 2101
    assert rateplan.counter(st, cfg, t + 86400, PST) == 2101
    nxt = parse_iso("2025-06-02T00:00:00-08:00")
    assert rateplan.counter(st, cfg, nxt - 1, PST) == 2101
    assert rateplan.counter(st, cfg, nxt, PST) == 0
    assert st["rateplan.cycle_s"] == nxt


def test_meter_readings_count_deltas():
    cfg = _cfg(meterDate=1)
    st = {}
    t = parse_iso("2025-05-10T12:00:00Z")
    z = rateplan.FixedZone(0)
    assert rateplan.add_meter_reading(st, cfg, t, 1234.5, z) == 0  # reference only
    assert rateplan.add_meter_reading(st, cfg, t + 60, 1236.0, z) == 1500
    assert rateplan.add_meter_reading(st, cfg, t + 120, 3.0, z) == 1500  # meter reset
    assert rateplan.add_meter_reading(st, cfg, t + 180, 3.25, z) == 1750
    assert rateplan.add_meter_reading(st, cfg, parse_iso("2025-06-01T00:00:00Z"), 4.25, z) == 1000
    assert set(st) <= set(rateplan.PERSIST)


def test_fetch_uses_counter_and_window():
    cfg = _cfg(tiers="100:0.012,0:0.20145", load_kw=0, price="0.01", hours=24)
    cfg["tz"] = "UTC0"
    now = parse_iso("2025-05-10T12:34:56Z")
    st = {"zone": rateplan.FixedZone(0)}
    s = rateplan.fetch(None, cfg, now, st)
    assert s.base_s == parse_iso("2025-05-10T12:00:00Z") and s.end_s == s.base_s + 86400
    assert s.price_at(now) == 22000 and s.fetched_s == now
    rateplan.add_energy(st, cfg, now, 100000, st["zone"])
    s = rateplan.fetch(None, cfg, now, st)
    assert s.price_at(now) == 211450
    assert not rateplan.NEEDS_NETWORK
