"""One fleet run: the sweep of policy.spread and the fetch scenarios on each market (CPython).

    s = run(Options(plugs=10000, days=30, series=("dk1",), spreads=(0, 6)), out="sim_out")
    s["switching"], s["traffic"], s["speed"]     # rows as report.tables prints them

Switching shards and traffic shards go to one Dask client (a LocalCluster of `workers`
processes, or `scheduler`), or run in this process with workers=0. Traffic scenarios: the
fleet in its steady cadence with fetch.spread_s 0 and at its default, then a power cut of the
whole street (every plug restarts in the same second) with the firmware's catch-up, and the
same cut with the first fetch at once (as before issue 17), for contrast.
"""

import os
import time

from . import report, shards
from .market import market
from .plugs import fetch_cfg

SERIES = ("dk1", "caiso", "ercot")
RECOMMENDED_SPREAD = 6  # per MWh: DK1 2024, 4 h/day: -17% mean daily peak for +1.4% cost


class Options:
    def __init__(self, **kw):
        self.plugs = 10000
        self.days = 30
        self.start = None
        self.series = SERIES
        self.mix = ((("cheapest", 4.0), 1),)
        self.loads = ((1000, 1), (2000, 1), (3000, 1))
        self.spreads = (0, 2, 4, 6, 8, 12)  # per MWh
        self.recommended = RECOMMENDED_SPREAD
        self.fetch_spread_s = fetch_cfg()["fetch.spread_s"]
        self.cut = (1, 10, 4)  # (day, local hour, hours): the second day, 10:00-14:00
        self.traffic_days = 3
        self.workers = 2
        self.scheduler = None
        self.shards = None  # default: 4 per worker (1 in this process)
        for k, v in kw.items():
            if not hasattr(self, k):
                raise TypeError("no fleet option %r" % k)
            setattr(self, k, v)

    def scenarios(self):
        sp = self.fetch_spread_s
        out = [("steady, fetch.spread_s 0", 0, None, True),
               ("steady, fetch.spread_s %d" % sp, sp, None, True)]
        if self.cut is not None:
            out.append(("power cut, fetch.spread_s %d (catch_up)" % sp, sp, self.cut, True))
            out.append(("power cut, first fetch at once (before)", sp, self.cut, False))
        return out


def spread_u(per_mwh):
    return int(round(per_mwh * 1000))


def run(o, client=None):
    """The summary (see report.tables); traffic per minute and loads ride along for the chart
    under "_chart"."""
    names = list(o.series)
    for name in names:  # bad days/start: a one-line error before any worker starts
        market(name, o.days, o.start)
        market(name, o.traffic_days, o.start)
    n_shards = o.shards or (4 * o.workers if (o.workers or o.scheduler or client) else 1)
    spec = shards.Spec(o.plugs, o.mix, o.loads, o.days, o.start)
    tspec = shards.Spec(o.plugs, o.mix, o.loads, o.traffic_days, o.start)
    sw_jobs = shards.switching_jobs(spec, names, [spread_u(v) for v in o.spreads], n_shards)
    tr_jobs = shards.traffic_jobs(tspec, names, o.scenarios(), n_shards)
    own = client is None and (o.workers or o.scheduler)
    if own:
        client = shards.client_for(o.workers, o.scheduler)
    try:
        workers = len(client.scheduler_info()["workers"]) if client is not None else 1
        t = time.monotonic()
        sw = shards.combine(shards.run(sw_jobs, 0, None, client))
        wall = time.monotonic() - t
        tr = shards.combine(shards.run(tr_jobs, 0, None, client))
    finally:
        if own:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()
    s = {"plugs": o.plugs, "days": o.days, "mix": _mix_text(o.mix),
         "loads": ",".join("%g kW=%d" % (w / 1000, n) for w, n in o.loads),
         "where": ("%d Dask workers" % workers) if client is not None else "this process",
         "workers": workers, "recommended": o.recommended, "traffic_days": o.traffic_days,
         "cut": ("day %d %02d:00 +%d h local" % o.cut) if o.cut else "none",
         "traffic": [], "switching": [], "_chart": {"traffic": {}, "loads": {}, "sweep": {}}}
    plans = groups = 0
    for name in names:
        m = market(name, o.days, o.start)
        s.setdefault("start", _ymd(m))
        base = sw[("switching", name, 0)] if 0 in o.spreads else None
        pts = []
        for v in o.spreads:
            tot = sw[("switching", name, spread_u(v))]
            row = report.switching_row(m, tot, base if base is not None else tot, spread_u(v))
            s["switching"].append(row)
            pts.append((v, row["peak_reduction_pct"], row["extra_cost_pct"]))
            plans += tot.groups * len(m.days)
            groups += tot.groups
            if v in (0, o.recommended):
                s["_chart"]["loads"].setdefault(name, []).append(
                    ("spread %g" % v, m.starts, report.kw_per_interval(m, tot)))
        s["_chart"]["sweep"][name] = pts
        tm = market(name, o.traffic_days, o.start)
        for label, *_rest in o.scenarios():
            per_min = tr[("traffic", name, label)]
            s["traffic"].append(report.traffic_row(tm, label, per_min, o.plugs,
                                                   o.traffic_days))
            if name == names[0]:
                s["_chart"]["traffic"][label] = (tm.t0, per_min)
    pd = o.plugs * o.days * len(o.spreads) * len(names)
    s["speed"] = {"plug_days": pd, "wall_s": round(wall, 3), "plans": plans, "groups": groups,
                  "plug_days_per_s_per_worker": pd / wall / workers if wall else 0.0}
    return s


def write_chart(s, path, o):
    from . import chart

    c = s["_chart"]
    name = o.series[0]
    m = market(name, o.days, o.start)
    week = min(len(m.days), 7)
    end = m.days[week - 1][3]
    series = [(label, starts[:end], kw[:end]) for label, starts, kw in c["loads"].get(name, [])]
    return chart.write(path, c["traffic"], (
        "%s: fleet load per interval, first %d days, spread 0 vs %g per MWh" % (
            name, week, o.recommended), m.t0, series), c["sweep"], o.recommended)


def _mix_text(mix):
    return ",".join("%s:%g=%d" % (mode, h, w) for (mode, h), w in mix)


def _ymd(m):
    from firmware.clock.iso import format_ymd

    return format_ymd(m.t0, m.zone.offset_at(m.t0), "-")


def out_path(out, name):
    os.makedirs(out, exist_ok=True)
    return os.path.join(out, name)
