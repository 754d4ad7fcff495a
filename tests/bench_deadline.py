"""Deadlines past the published prices (issue 18), per shipped market, in one run: a whole year,
deadline 07:00, 3 h a day, 1 kW, prices published at the series' time (CAISO/DK1 13:00,
ERCOT 13:30), the plug told that time (fetch.publish).

- deadline_gap_to_foresight_pct_<market>: the plug (estimates on, the default) above the
  perfect-foresight optimum; _unknowable / _plan: the split (host_sim/foresight.py);
- deadline_greedy_gap_to_foresight_pct_<market>: the same plug choosing among the known prices
  only (policy.estimate=false), the baseline.
Goal: <= 2 % above foresight on each market, never a missed deadline (tests/test_deadline_sim.py).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from host_sim.runner import Options, simulate  # noqa: E402


def _run(series, estimate):
    o = Options(days=365, deadline=7 * 60, hours_per_day=3.0)
    o.series = series
    o.cfg = {"policy.estimate": estimate}
    return simulate(o).summary


def run():
    for market in ("caiso", "dk1", "ercot"):
        s = _run(market, True)
        g = _run(market, False)
        for name, value in (("deadline_gap_to_foresight_pct_" + market, s["gap_to_foresight_pct"]),
                            ("deadline_gap_unknowable_pct_" + market, s["gap_unknowable_pct"]),
                            ("deadline_gap_plan_pct_" + market, s["gap_plan_pct"]),
                            ("deadline_greedy_gap_to_foresight_pct_" + market,
                             g["gap_to_foresight_pct"])):
            yield {"name": name, "value": value, "unit": "%", "runtime": "cpython"}
