"""Simulator speed: a simulated year on CPython, hourly and 15-minute prices (`make bench`).

Both runs use the bundled CAISO year (2019-02-01 .. 2020-01-31, 365 days), 4 cheapest hours a
day, fetches once a day after publication (fetch.refresh_min=1440) plus the app's own retries.
The 15-minute series is DERIVED from the hourly one by interpolation (host_sim.prices.to_15min):
four times as many intervals to fetch, parse, cache and plan, but not real quarter-hour data.
Target (issue 5): each year <= 30 s wall on CPython.

`sim_year_hourly_with_report_*` (issue 21) is the default command line for a year of DK1, as a
user types it: `python -m host_sim --series dk1 --days 365` (fetches as the plug does them,
several a day), process start, timeline, overview, detail pages and report.html included;
`_report_s` is the part spent writing the files, `_sim_wall_s` the simulation itself.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from host_sim.runner import Options, simulate  # noqa: E402


def _year(resolution):
    o = Options(days=365, resolution=resolution, cfg={"fetch.refresh_min": 1440})
    return simulate(o).summary


def _year_with_report():
    ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="ww_bench_report_") as out:
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "host_sim", "--series", "dk1", "--days",
                            "365", "--out", out, "--json"], cwd=ROOT, capture_output=True,
                           text=True, timeout=600)
        wall = time.monotonic() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            raise RuntimeError(p.stderr.strip()[-300:])
        s = json.loads(p.stdout)
        pages = len([n for n in os.listdir(out) if n.startswith("detail_")])
    cpu = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
    return wall, cpu, s, pages


def run():
    wall, cpu, s, pages = _year_with_report()
    base = "sim_year_hourly_with_report_"
    yield {"name": base + "wall_s", "value": round(wall, 2), "unit": "s", "runtime": "cpython"}
    yield {"name": base + "cpu_s", "value": round(cpu, 2), "unit": "s", "runtime": "cpython"}
    yield {"name": base + "sim_wall_s", "value": s["wall_s"], "unit": "s",
           "runtime": "cpython"}
    parts = dict(s["report_s"])
    cpu_report = parts.pop("cpu_s")
    yield {"name": base + "report_s", "value": round(sum(parts.values()), 2), "unit": "s",
           "runtime": "cpython", "parts": parts, "detail_pages": pages}
    yield {"name": base + "report_cpu_s", "value": cpu_report, "unit": "s",
           "runtime": "cpython"}
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
