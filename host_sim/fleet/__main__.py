"""`python -m host_sim.fleet` (or `python -m host_sim --fleet N`): a fleet of plugs on the
shipped price series; prints the table, writes OUT/fleet.png and OUT/fleet.json."""

import argparse
import json
import sys

from .market import MarketError
from .plugs import MixError, parse_loads, parse_mix
from .run import RECOMMENDED_SPREAD, Options, out_path, run, write_chart


def _ints(text):
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("expected numbers like 0,2,4,6, got %r" % text)


def _cut(text):
    from ..faults import FaultSpecError, parse_span

    at, plus, dur = text.partition("+")
    try:
        a, hours = parse_span(at), parse_span(dur) // 3600
    except FaultSpecError as e:
        raise argparse.ArgumentTypeError(str(e))
    if not plus or a % 3600 or hours <= 0:
        raise argparse.ArgumentTypeError("expected DAYdHOURh+HOURSh like 1d10h+4h, got %r"
                                         % text)
    return (a // 86400, a % 86400 // 3600, hours)


def build_parser():
    d = Options()
    p = argparse.ArgumentParser(prog="python -m host_sim.fleet", description=(
        "A fleet of WattWindow plugs on real day-ahead prices: fetch times from the firmware's "
        "Cadence, relay decisions from its planner, grouped where plugs decide alike, sharded "
        "on Dask. Reports price-API requests per minute and the fleet's load, peak and cost "
        "over a sweep of policy.spread."))
    p.add_argument("plugs_pos", nargs="?", type=int, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--plugs", "--fleet", type=int, default=d.plugs, metavar="N",
                   help="plugs in the fleet (default: %(default)s)")
    p.add_argument("--days", type=int, default=d.days, help="local days (default: %(default)s)")
    p.add_argument("--start", metavar="YYYY-MM-DD", help="first local day (default: the "
                   "series' first full day)")
    p.add_argument("--series", default=",".join(d.series), help="markets, comma separated "
                   "(default: %(default)s)")
    p.add_argument("--mix", default="cheapest:4", help="policies MODE:HOURS[=WEIGHT],... with "
                   "MODE cheapest or block (default: %(default)s)")
    p.add_argument("--kw", default="1,2,3", help="loads in kW, VALUE[=WEIGHT],... "
                   "(default: %(default)s)")
    p.add_argument("--spreads", type=_ints, default=d.spreads, metavar="S,S,...",
                   help="policy.spread values per MWh to sweep; 0 is the reference "
                        "(default: %s)" % ",".join("%g" % v for v in d.spreads))
    p.add_argument("--recommend", type=float, default=RECOMMENDED_SPREAD, metavar="S",
                   help="the spread to mark and to draw (default: %(default)s)")
    p.add_argument("--fetch-spread-s", type=int, default=d.fetch_spread_s,
                   help="fetch.spread_s of the spread scenarios (default: %(default)s)")
    p.add_argument("--cut", type=_cut, default=d.cut, metavar="DdHh+Hh",
                   help="the street's power cut in the traffic run (default: 1d10h+4h)")
    p.add_argument("--traffic-days", type=int, default=d.traffic_days,
                   help="days of the traffic run (default: %(default)s)")
    p.add_argument("--workers", type=int, default=d.workers,
                   help="LocalCluster worker processes; 0 = in this process (default: "
                        "%(default)s)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="a running Dask scheduler")
    p.add_argument("--shards", type=int, help="shards per run (default: 4 per worker)")
    p.add_argument("--out", default="sim_out", help="output folder (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-chart", action="store_true", help="skip the PNG")
    return p


def options_from(a):
    if a.plugs_pos is not None:
        a.plugs = a.plugs_pos
    if a.plugs <= 0 or a.days <= 0 or a.traffic_days <= 0:
        raise MixError("--plugs, --days and --traffic-days must be more than 0")
    if a.cut is not None and a.cut[0] >= a.traffic_days:
        raise MixError("--cut on day %d: the traffic run has %d days (--traffic-days)" % (
            a.cut[0], a.traffic_days))
    if any(v < 0 or v > 1000 for v in a.spreads) or 0 not in a.spreads:
        raise MixError("--spreads: values in 0..1000 per MWh (policy.spread), 0 included")
    if a.shards is not None and a.shards <= 0:
        raise MixError("--shards must be more than 0")
    series = tuple(x.strip() for x in a.series.split(",") if x.strip())
    return Options(plugs=a.plugs, days=a.days, start=a.start, series=series,
                   mix=parse_mix(a.mix), loads=parse_loads(a.kw), spreads=a.spreads,
                   recommended=a.recommend, fetch_spread_s=a.fetch_spread_s, cut=a.cut,
                   traffic_days=a.traffic_days, workers=a.workers, scheduler=a.scheduler,
                   shards=a.shards)


def main(argv=None):
    a = build_parser().parse_args(argv)
    try:
        o = options_from(a)
        s = run(o)
    except (MixError, MarketError) as e:
        print("host_sim.fleet: error: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:  # a scheduler that does not answer
        print("host_sim.fleet: error: %s" % e, file=sys.stderr)
        return 2
    from .report import tables

    chart = None
    if not a.no_chart:
        chart = write_chart(s, out_path(a.out, "fleet.png"), o)
    s.pop("_chart")
    with open(out_path(a.out, "fleet.json"), "w") as f:
        json.dump(s, f, indent=1)
    if a.json:
        print(json.dumps(s))
    else:
        print(tables(s))
        print("wrote %s%s" % (out_path(a.out, "fleet.json"), (", " + chart) if chart else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
