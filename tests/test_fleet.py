"""The fleet simulation (host_sim.fleet) on real prices: spreading's bound per plug-day, the
grouping against one plan per plug, a lower fleet peak, fetch offsets over the whole window,
shard counts and Dask against the in-process run (CPython only)."""

import os
import sys

from firmware.plan import planner
from firmware.plan.cheapest import cheapest, cost_of
from host_sim.fleet import shards, traffic
from host_sim.fleet.market import market
from host_sim.fleet.plugs import Fleet, parse_loads, parse_mix
from host_sim.fleet.switching import day_on, policy_for, switching

MIX = parse_mix("cheapest:4=3,cheapest:2=1,block:3=1")
LOADS = parse_loads("1,2.5=2,3")


def _fleet(n, **kw):
    return Fleet(n, MIX, LOADS, **kw)


def test_spreading_never_costs_a_plug_more_than_its_tolerance_on_any_day():
    m = market("dk1", 28)
    tol = 6000  # 6 EUR/MWh in micro-EUR per kWh
    moved = 0
    for k, (_a, _b, i, j) in enumerate(m.days):
        pieces = list(zip(m.starts[i:j], m.ends[i:j], m.prices[i:j], strict=True))
        for hours in (2, 4):
            need = hours * 3600
            best = cost_of(pieces, cheapest(pieces, need))  # the exact optimum, any hours
            for cls in range(planner.SPREAD_CLASSES):
                on = day_on(m, k, policy_for(("cheapest", hours), tol, cls))
                assert sum(e - s for s, e in on) == need, (k, cls, on)
                cost = cost_of(pieces, on)
                assert cost <= best + tol * need, (k, hours, cls, cost, best)
                moved += cost != best
    assert moved > 100  # the tolerance is used, on many plug-days


def test_the_same_device_id_gives_the_same_plan():
    m = market("dk1", 5)
    f, g = _fleet(50), _fleet(50)
    for i in (0, 7, 49):
        p, q = f.plug(i), g.plug(i)
        assert (p.seed, p.cls, p.offset_s, p.policy, p.load_w) == \
            (q.seed, q.cls, q.offset_s, q.policy, q.load_w)
        for k in range(len(m.days)):
            assert day_on(m, k, policy_for(p.policy, 6000, p.cls)) == \
                day_on(m, k, policy_for(q.policy, 6000, q.cls))
    assert len({f.plug(i).cls for i in range(50)}) > 20  # ids spread over the classes


def test_grouping_equals_one_plan_per_plug():
    m = market("dk1", 4)
    plugs = list(_fleet(120).plugs())
    for spread in (0, 6000):
        grouped = switching(m, plugs, spread)
        alone = switching(m, plugs, spread, grouped=False)
        assert grouped == alone, spread
        assert grouped.groups < alone.groups == len(plugs)
        assert grouped.energy_ws > 0


def test_a_fleet_of_1000_with_spreading_has_a_lower_peak():
    m = market("dk1", 14)
    plugs = list(Fleet(1000, parse_mix("cheapest:4"), LOADS).plugs())
    base, spread = switching(m, plugs, 0), switching(m, plugs, 6000)
    assert spread.energy_ws == base.energy_ws  # the same energy, placed differently
    peaks = []
    for tot in (base, spread):
        kw = [w / (e - s) for w, s, e in zip(tot.load_ws, m.starts, m.ends, strict=True)]
        peaks.append([max(kw[i:j]) for _a, _b, i, j in m.days])
    assert sum(peaks[1]) < 0.9 * sum(peaks[0]), peaks
    assert all(a <= b for a, b in zip(peaks[1], peaks[0], strict=True))
    assert spread.cost <= base.cost * 1.03


def test_fetch_offsets_of_10000_devices_cover_the_whole_window():
    f = _fleet(10000)
    window = f.cfg["fetch.spread_s"]
    per_min = [0] * (window // 60)
    for i in range(f.n):
        per_min[f.plug(i).offset_s // 60] += 1
    share = 1 / len(per_min)
    assert min(per_min) >= 0.8 * share * f.n, per_min  # every minute used
    assert max(per_min) <= 1.2 * share * f.n, per_min  # none holds more than 8 %


def test_a_street_after_a_power_cut_does_not_ask_the_api_together():
    m = market("dk1", 3)
    plugs = list(_fleet(2000).plugs())
    cut = (m.days[1][0] + 10 * 3600, m.days[1][0] + 14 * 3600)
    steady = traffic.stats(traffic.requests(m, plugs, _fleet(1).cfg), m.t0, m.t1)
    after = traffic.stats(traffic.requests(m, plugs, _fleet(1).cfg, cut), m.t0, m.t1)
    at_once = traffic.stats(traffic.requests(m, plugs, _fleet(1).cfg, cut, False), m.t0, m.t1)
    assert at_once[0] == len(plugs)  # all in the minute the power comes back
    assert after[0] <= steady[0] * 1.5 < len(plugs) / 5, (steady, after)


def _jobs(n_shards):
    spec = shards.Spec(300, MIX, LOADS, 3)
    sc = [("s", 900, None, True), ("cut", 900, (1, 10, 4), True)]
    return shards.switching_jobs(spec, ["dk1", "ercot"], [0, 6000], n_shards) + \
        shards.traffic_jobs(spec, ["dk1"], sc, n_shards)


def test_results_are_the_same_whatever_the_shard_count():
    one = shards.combine(shards.run(_jobs(1), workers=0))
    four = shards.combine(shards.run(_jobs(4), workers=0))
    assert sorted(one) == sorted(four) and len(one) == 6
    for k in one:
        assert one[k] == four[k], k


def test_the_dask_run_equals_the_in_process_run():
    here = shards.combine(shards.run(_jobs(4), workers=0))
    # the workers are other processes: they must import host_sim from this checkout
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = root + (os.pathsep + old if old else "")
    try:
        there = shards.combine(shards.run(_jobs(4), workers=2))
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    assert sorted(here) == sorted(there)
    for k in here:
        assert here[k] == there[k], k
    assert "distributed" in sys.modules  # it really ran on Dask
