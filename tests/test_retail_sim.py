"""The simulator at retail prices (CPython): the bill-level cost and the optimum against an
independent calculation (Decimal, zoneinfo, the tariff written out), and every new price source
end to end on the real DK1 2024 series, on both runtimes for the XML one."""

import json
import os
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from host_sim.runner import Options, simulate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPH = ZoneInfo("Europe/Copenhagen")
RATE = Decimal("7.46038")  # DKK per EUR
U = Decimal("0.000001")


def _eur(dkk):
    return (Decimal(dkk) / RATE).quantize(U, ROUND_HALF_UP)


def _n1_grid(t):
    """N1's 2024 C tariff at UTC second t, in EUR, by the published table."""
    loc = datetime.fromtimestamp(t, UTC).astimezone(CPH)
    winter = loc.month >= 10 or loc.month <= 3
    h = loc.hour
    if loc.month == 12:
        dkk = "0.0446" if h < 6 else "0.4018" if 17 <= h < 21 else "0.1339"
    elif h < 6:
        dkk = "0.1101"
    elif 17 <= h < 21:
        dkk = "0.9910" if winter else "0.4295"
    else:
        dkk = "0.3303" if winter else "0.1652"
    return _eur(dkk)


def _retail_hours():
    """{start_s: retail EUR/kWh} of DK1 2024, from the CSV by Decimal arithmetic."""
    out = {}
    adder = _eur("0.886")
    with open(os.path.join(ROOT, "host_sim", "data", "dk1_dayahead_2024.csv")) as f:
        f.readline()
        for line in f:
            c = line.strip().split(",")
            t = int(datetime.fromisoformat(c[0].replace("Z", "+00:00")).timestamp())
            spot = Decimal(c[2]) / 1000
            out[t] = ((spot + adder + _n1_grid(t)) * Decimal("1.25")).quantize(U, ROUND_HALF_UP)
    return out


def test_bill_level_cost_and_optimum_equal_an_independent_calculation():
    res = simulate(Options(series="dk1", provider="energidataservice", days=14,
                           start="2024-03-24", grid_tariff="dk-n1-c-2024", kw=2.0))
    s = res.summary
    assert s["billing"]["kind"] == "retail" and s["fetch_failures"] == 0
    price = _retail_hours()
    cost = Decimal(0)
    for a, b in res.on:
        for t in range(a, b, 60):  # whole minutes (the plug switches on the hour here)
            cost += price[t - t % 3600] * 2 / 60
    assert abs(Decimal(str(s["cost"])) - cost) < Decimal("0.000002"), (s["cost"], cost)
    # the optimum of each local day on the same retail prices: its 4 cheapest hours
    days = {}
    for t, p in price.items():
        if res.t0 <= t < res.t1:
            days.setdefault(datetime.fromtimestamp(t, UTC).astimezone(CPH).date(), []).append(p)
    assert len(days) == 14 and sorted({len(v) for v in days.values()}) == [23, 24]
    best = sum(sum(sorted(v)[:4]) for v in days.values()) * 2
    assert abs(Decimal(str(s["optimal_cost"])) - best) < Decimal("0.000002")
    assert s["gap_to_optimal"] == 0 and s["savings_vs_baseline"] > 0
    # the energy alone, as before: what the wholesale price says
    spot = Decimal(0)
    with open(os.path.join(ROOT, "host_sim", "data", "dk1_dayahead_2024.csv")) as f:
        rows = {int(datetime.fromisoformat(r.split(",")[0].replace("Z", "+00:00")).timestamp()):
                Decimal(r.split(",")[2]) / 1000 for r in list(f)[1:]}
    for a, b in res.on:
        for t in range(a, b, 3600):
            spot += rows[t] * 2
    assert abs(Decimal(str(s["energy_cost"])) - spot) < Decimal("0.000002")


def test_the_plug_ranks_by_retail_so_the_bill_is_lower_than_ranking_by_spot():
    common = dict(series="dk1", days=14, start="2024-01-08", provider="awattar")
    retail = simulate(Options(grid_tariff="dk-n1-c-2024", **common)).summary
    # the same plug told nothing of the grid tariff, billed on it afterwards
    blind = simulate(Options(**common))
    price = _retail_hours()
    blind_bill = sum(price[t - t % 3600] for a, b in blind.on for t in range(a, b, 3600))
    assert Decimal(str(retail["cost"])) < blind_bill - Decimal("0.2")  # 1 kW, 4 h a day, 14 days


def test_every_new_source_runs_the_plug_end_to_end():
    for provider in ("energidataservice", "awattar", "octopus", "entsoe"):
        s = simulate(Options(series="dk1", provider=provider, days=3, start="2024-10-26",
                             vat=25.0)).summary
        assert s["fetch_failures"] == 0 and s["fetches"] >= 3, provider
        assert s["gap_to_optimal"] == 0 and s["energy_kwh"] == 12.0, (provider, s)
        assert s["billing"]["vat_pct"] == 25.0


def test_xml_source_on_micropython_decides_as_on_cpython():
    opts = dict(series="dk1", provider="entsoe", days=2, start="2024-10-26",
                grid_tariff="de-ewwanfried-14a-m3-2025")
    a = simulate(Options(**opts))
    b = simulate(Options(runtime="micropython", **opts))
    assert a.decisions() == b.decisions() and len(a.decisions()) > 4
    assert json.dumps(a.summary["cost"]) == json.dumps(b.summary["cost"])


def test_the_plugs_savings_record_is_the_bill_at_retail_prices():
    # with price.* set the plug's own record counts retail prices, as the bill does: it
    # matches the simulator's independent record to the last digit
    o = Options(days=6)
    o.series, o.provider, o.grid_tariff = "dk1", "energidataservice", "dk-n1-c-2024"
    s = simulate(o).summary
    rec = s["savings_record"]
    assert rec["max_day_diff"] == 0 and rec["plug"] == rec["sim"]
    assert rec["plug"]["cost"] == s["cost"]
