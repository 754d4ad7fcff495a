"""The plug's own savings record against the simulator's independent calculation (CPython
drives; the plug runs on CPython and on the MicroPython unix port).

The plug counts on-time x load.kw x the price it holds, per local day, in integers; the
simulator recomputes the same days from the relay contact's on-intervals and its market
series (host_sim/optimum.py's 18:00 baseline). They must agree to the micro-unit."""

from host_sim import report
from host_sim.runner import Options, fault, simulate


def _check(s, days):
    sr = s["savings_record"]
    assert sr is not None, "the plug sent no savings record"
    assert sr["days"] >= days, sr
    assert sr["max_day_diff"] < 1e-6, sr
    assert sr["plug"]["kwh"] > 0 and abs(sr["plug"]["kwh"] - s["energy_kwh"]) < 1e-6, sr
    assert abs(sr["plug"]["cost"] - s["cost"]) < 1e-6, (sr, s["cost"])
    assert abs(sr["plug"]["baseline_cost"] - s["baseline_cost"]) < 1e-6, sr
    assert sr["plug"]["saving"] > 0
    text = report.summary_text(s)
    assert "plug's own record" in text and "simulator, same days" in text, text


def test_record_matches_the_simulator_cpython_over_a_dst_change_15min():
    # CAISO 2019-03-10 is the spring-forward day (a 23-hour local day)
    res = simulate(Options(days=4, start="2019-03-08", resolution="15min", kw=2.5,
                           hours_per_day=5, time_scale=0.001))
    _check(res.summary, 4)


def test_record_matches_the_simulator_micropython_block_policy():
    res = simulate(Options(days=3, runtime="micropython", block=True, kw=1.7,
                           series="dk1", time_scale=0.001))
    _check(res.summary, 3)


def test_a_power_cut_loses_at_most_an_hour_of_the_day_it_hits():
    cut_at = None
    res = simulate(Options(days=2, kw=1.0, time_scale=0.001))
    on = res.on
    # cut the power 50 min into the first ON stretch of the second day, for 10 min
    for a, b in on:
        if a >= res.t0 + 86400 and b - a > 3600:
            cut_at = a + 3000
            break
    assert cut_at is not None, on
    res = simulate(Options(days=2, kw=1.0, time_scale=0.001,
                           faults=[fault("powercut", cut_at, cut_at + 600)]))
    sr = res.summary["savings_record"]
    lost = [r["sim"][0] - r["plug"][0] for r in sr["per_day"]]
    assert all(x > -1e-9 for x in lost), sr  # never more than the load drew
    assert 0 < max(lost) <= 1.0 + 1e-9, lost  # the on-time since the last hourly write
