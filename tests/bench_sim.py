"""Simulator speed: a simulated year on CPython, hourly and 15-minute prices (`make bench`).

Both runs use the bundled CAISO year (2019-02-01 .. 2020-01-31, 365 days), 4 cheapest hours a
day, fetches once a day after publication (fetch.refresh_min=1440) plus the app's own retries.
The 15-minute series is DERIVED from the hourly one by interpolation (host_sim.prices.to_15min):
four times as many intervals to fetch, parse, cache and plan, but not real quarter-hour data.
Target (issue 5): each year <= 30 s wall on CPython.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from host_sim.runner import Options, simulate  # noqa: E402


def _year(resolution):
    o = Options(days=365, resolution=resolution, cfg={"fetch.refresh_min": 1440})
    return simulate(o).summary


def run():
    for name, res in (("hourly", None), ("15min", "15min")):
        s = _year(res)
        yield {"name": "sim_year_%s_wall_s" % name, "value": s["wall_s"], "unit": "s",
               "runtime": "cpython"}
        yield {"name": "sim_year_%s_cpu_s" % name, "value": s["cpu_s"], "unit": "s",
               "runtime": "cpython"}
        yield {"name": "sim_year_%s_sim_s_per_wall_s" % name, "value": s["sim_s_per_wall_s"],
               "unit": "sim s/s", "runtime": "cpython"}
        yield {"name": "sim_year_%s_fetches" % name, "value": s["fetches"], "unit": "",
               "runtime": "cpython"}
        yield {"name": "sim_year_%s_gap_to_optimal_pct" % name,
               "value": s["gap_to_optimal_pct"], "unit": "%", "runtime": "cpython"}


if __name__ == "__main__":
    import json

    for fig in run():
        print(json.dumps(fig))
