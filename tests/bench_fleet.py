"""Fleet figures (`make bench`, `python tests/bench.py fleet`), CPython with Dask.

- fleet_10k_30d_wall_s: 10,000 plugs, 30 days of DK1 hourly prices, spread 0 and the
  recommended spread, on a LocalCluster of 2 worker processes (cluster start not counted);
  fleet_plug_days_per_s (per worker) and the 1 -> 2 worker speed-up on the year below.
- DK1 2024, 4 cheapest hours a day, 10,000 plugs of 1/2/3 kW, a year, at the recommended
  spread against none: fleet_peak_reduction_pct (mean over days of the daily peak), the
  run's peak reduction (the year's highest interval) and fleet_extra_cost_pct (yearly total).
Goal (issue 17): >= 15 % lower peak for <= 2 % more cost.
"""

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ["PYTHONPATH"] = ROOT + (os.pathsep + os.environ["PYTHONPATH"]
                                   if os.environ.get("PYTHONPATH") else "")

from host_sim.fleet import shards  # noqa: E402
from host_sim.fleet.run import RECOMMENDED_SPREAD, Options  # noqa: E402
from host_sim.fleet.run import run as fleet_run  # noqa: E402


def _fig(name, value, unit):
    return {"name": name, "value": value, "unit": unit, "runtime": "cpython"}


def _run(o, workers):
    client = shards.client_for(workers)
    try:
        return fleet_run(o, client=client)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


def run():
    o = Options(plugs=10000, days=30, series=("dk1",), spreads=(0, RECOMMENDED_SPREAD),
                cut=None, traffic_days=1)
    yield _fig("fleet_10k_30d_wall_s", _run(o, 2)["speed"]["wall_s"], "s")
    y = Options(plugs=10000, days=365, series=("dk1",), spreads=(0, RECOMMENDED_SPREAD),
                cut=None, traffic_days=1)
    s = _run(y, 2)
    one = _run(y, 1)["speed"]
    two = s["speed"]
    yield _fig("fleet_plug_days_per_s", round(two["plug_days_per_s_per_worker"]),
               "plug-days/s per worker (DK1 year, 2 workers)")
    yield _fig("fleet_plug_days_per_s_1_worker", round(one["plug_days_per_s_per_worker"]),
               "plug-days/s (DK1 year)")
    yield _fig("fleet_speedup_1_to_2_workers", round(one["wall_s"] / two["wall_s"], 2), "x")
    row = [r for r in s["switching"] if r["spread_per_mwh"] == RECOMMENDED_SPREAD][0]
    yield _fig("fleet_spread_per_mwh", RECOMMENDED_SPREAD, "EUR/MWh (policy.spread)")
    yield _fig("fleet_peak_reduction_pct", row["peak_reduction_pct"], "% (mean daily peak)")
    yield _fig("fleet_peak_reduction_year_max_pct", row["run_peak_reduction_pct"],
               "% (the year's highest interval)")
    yield _fig("fleet_days_peak_lower", row["days_peak_lower"], "of %d days" % y.days)
    yield _fig("fleet_extra_cost_pct", row["extra_cost_pct"], "% (yearly total)")
    yield _fig("fleet_extra_cost_per_mwh", round(row["extra_cost_per_mwh"], 3), "EUR/MWh")


if __name__ == "__main__":
    import json

    t = time.monotonic()
    for fig in run():
        print(json.dumps(fig), flush=True)
    print("# %.1f s" % (time.monotonic() - t), file=sys.stderr)
