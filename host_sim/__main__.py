"""`python -m host_sim` (= `make sim`): simulate the plug on real prices; see --help."""

import argparse
import json
import os
import re
import sys

from . import prices
from .apis.rateplan import DEFAULT_BANDS
from .faults import FaultSpecError, parse_button, parse_override, parse_span, parse_window
from .runner import Options, SimError, check_settings, progress_bar, simulate

PROVIDERS = ("arcadia", "gridx", "openadr3", "rateplan", "energidataservice", "awattar",
             "octopus", "entsoe")

EPILOG = """\
bundled series (--series, or any CSV with --prices):
  caiso  CAISO NP15 day-ahead 2019-02..2020-01, USD/MWh, TZ PST8PDT,M3.2.0,M11.1.0
  dk1    Nord Pool DK1 day-ahead 2024, EUR/MWh, TZ CET-1CEST,M3.5.0,M10.5.0/3
  ercot  ERCOT LZ_HOUSTON day-ahead 2022, USD/MWh, TZ CST6CDT,M3.2.0,M11.1.0

providers (--provider; README.md "Providers"):
  arcadia   Arcadia Smart Price API (GET /rest/v1/prices/smart, HTTP Basic)
  gridx     GridX getPricing (PG&E), one curve per Pacific day, decimal-string prices
  openadr3  OpenADR 3 VTN: OAuth2 token, programs, paged PRICE events
  rateplan  static rate plan, no server: TOU periods + usage tiers per billing cycle from
            meterDate; billed on the plan (tiers included), not on the market series
  energidataservice  Energi Data Service (DK): Elspotprices (hourly) / DayAheadPrices (15 min)
  awattar   aWATTar (AT/DE) marketdata, EUR/MWh, epoch-ms times
  octopus   Octopus Agile (GB) unit rates, pence, paged newest first
  entsoe    ENTSO-E Transparency Platform A44, XML (curve A03)

the retail price (the plug ranks by it; the summary is then bill-level):
  retail = (spot x --multiplier + --adder + grid tariff(t)) x (1 + --vat/100)
  --grid-tariff FILE.json or a preset in host_sim/data/tariffs/: dk-n1-c-2024 (N1's C tariff
  and Danish taxes, DKK: converted to EUR at 7.46038), de-ewwanfried-14a-m3-2025 (§14a Modul 3)

fault windows are AT+DURATION[:ARG], AT relative to the start (3d, 2d12h) or an ISO time:
  --outage 3d+36h   --http-error 5d+6h:503   --slow 2d+2h:40   --truncate 4d+3h
  --power-cut 6d3h+2h   --wifi-down 8d+5h   --clock-loss 2h
a person's actions, at AT (same syntax):
  --button 3d18h (a press: a timed override, or the end of one)   --override 4d7h+2h:on

examples:
  python -m host_sim                                  # 30 days of CAISO, 4 cheapest h/day
  python -m host_sim --series dk1 --days 365 --json
  python -m host_sim --runtime both --days 3          # CPython vs MicroPython, decision by decision
  python -m host_sim --sweep hours_per_day=1..8
  python -m host_sim --provider gridx                 # GridX Pricing API on the same prices
  python -m host_sim --series dk1 --provider energidataservice --grid-tariff dk-n1-c-2024
  python -m host_sim --provider rateplan --kw 10      # static TOU + tiers plan, no server
  python -m tools.rateplan_import SCHEMA.json BILL.json -o plan.json
  python -m host_sim --provider rateplan --rateplan plan.json \\
      --tou-bands 'night 00:00-08:00; day 08:00-24:00'
"""

SWEEPABLE = {"hours_per_day": float, "kw": float, "deadline": str, "block": str}


def _hm(text):
    hh, _, mm = text.partition(":")
    if not (hh.isdigit() and (mm.isdigit() or mm == "")) or int(hh) > 23 or int(mm or 0) > 59:
        raise argparse.ArgumentTypeError("expected HH:MM, got %r" % text)
    return int(hh) * 60 + int(mm or 0)


def _heap(text):
    """A `micropython -X heapsize=` value: digits, then an optional w (words), k or m."""
    t = text.strip().lower()
    m = re.fullmatch(r"([0-9]+)w?[km]?", t)
    if m is None or int(m.group(1)) == 0:
        raise argparse.ArgumentTypeError("expected a heap size like 256k, 4m or 110wk, got %r"
                                         % text)
    return t


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m host_sim", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the WattWindow firmware (firmware/app/control.py) on a simulated clock "
                    "against a local price server that replays real day-ahead prices, and "
                    "compare its cost with a fixed-time baseline, the period average and "
                    "the exact optimum.", epilog=EPILOG)
    d = Options()
    g = p.add_argument_group("prices")
    g.add_argument("--series", choices=sorted(prices.BUNDLED), default=d.series,
                   help="bundled price series (default: %(default)s)")
    g.add_argument("--prices", metavar="FILE.csv",
                   help="a price file: the shared CSV format (start_utc,end_utc,price,unit,"
                        "market) or an export with a start time and a price column (ENTSO-E, "
                        "Nord Pool, Energi Data Service; ',' ';' or tab, quotes, a BOM and "
                        "gaps are fine); hourly or finer")
    g.add_argument("--csv-tz", metavar="RULE",
                   help="POSIX TZ rule of the --prices file's times written without a UTC "
                        "offset, e.g. CET-1CEST,M3.5.0,M10.5.0/3 (default: the zone the "
                        "header names, such as UTC or CET/CEST; else such times are refused)")
    g.add_argument("--resolution", choices=("native", "15min"), default="native",
                   help="15min: derive quarter hours from hourly data by interpolation "
                        "(default: %(default)s)")
    g.add_argument("--days", type=int, default=d.days, help="days to simulate "
                   "(default: %(default)s)")
    g.add_argument("--start", metavar="YYYY-MM-DD",
                   help="first local day (default: the first full day of the series)")
    g.add_argument("--tz", metavar="RULE", help="POSIX TZ rule of the local days (default: "
                   "the series' own, UTC0 for --prices files)")
    g.add_argument("--publish", type=_hm, metavar="HH:MM",
                   help="local time the server publishes tomorrow's prices (default 13:00; "
                        "ERCOT 13:30)")
    g.add_argument("--provider", default=d.provider, choices=PROVIDERS,
                   help="price source of the plug and the API the local server speaks "
                        "(default: %(default)s); rateplan: a static rate plan, no server")
    g.add_argument("--rateplan", metavar="FILE.json",
                   help="rate-plan settings for --provider rateplan, as written by python -m "
                        "tools.rateplan_import (default: host_sim/data/"
                        "rateplan_eversource_a1.json)")
    g.add_argument("--tou-bands", metavar="BANDS",
                   help="made-up TOU periods for a rate plan without any, priced at the "
                        "series' mean over the run, e.g. '%s' (default: none: the plan's own "
                        "prices)" % DEFAULT_BANDS.replace("%", "%%"))
    g = p.add_argument_group("retail price (host_sim/retail.py; README.md)")
    g.add_argument("--grid-tariff", metavar="FILE|PRESET",
                   help="time-of-use grid tariff with taxes: a JSON file of price.* settings or "
                        "a preset of host_sim/data/tariffs/ (e.g. dk-n1-c-2024)")
    g.add_argument("--vat", type=float, metavar="PCT", help="VAT in percent on the whole price")
    g.add_argument("--adder", metavar="PRICE",
                   help="added per kWh before VAT (margin, taxes), in the series' currency")
    g.add_argument("--multiplier", type=float, help="factor on the spot price")
    g = p.add_argument_group("load and policy")
    g.add_argument("--kw", type=float, default=d.kw, help="load power (default: %(default)s)")
    g.add_argument("--hours-per-day", type=float, default=d.hours_per_day,
                   help="hours on per day / per deadline window (default: %(default)s)")
    g.add_argument("--kwh-per-day", type=float,
                   help="energy per day instead of hours (hours = kWh / kW)")
    g.add_argument("--block", action="store_true", help="one contiguous block per day")
    g.add_argument("--deadline", type=_hm, metavar="HH:MM",
                   help="energy is due by this local time (windows run deadline to deadline)")
    g.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any App setting, e.g. --set fetch.refresh_min=1440 (JSON value)")
    g = p.add_argument_group("faults")
    for opt, kind in (("--outage", "outage"), ("--http-error", "error"), ("--slow", "slow"),
                      ("--truncate", "truncate"), ("--power-cut", "powercut"),
                      ("--wifi-down", "wifi")):
        g.add_argument(opt, action="append", default=[], metavar="AT+DUR",
                       dest="f_" + kind, help="inject %s (repeatable)" % kind)
    g.add_argument("--clock-loss", metavar="DUR", help="NTP fails for DUR after every boot")
    g = p.add_argument_group("a person's actions")
    g.add_argument("--button", action="append", default=[], metavar="AT",
                   help="a press of the plug's button: the load is held in the opposite state "
                        "for override.minutes, or a running override ends (repeatable)")
    g.add_argument("--override", action="append", default=[], metavar="AT+DUR:on|off",
                   help="plug.override(on, DUR) from the REPL at AT (repeatable)")
    g = p.add_argument_group("run and output")
    g.add_argument("--runtime", choices=("cpython", "micropython", "both"), default=d.runtime,
                   help="interpreter of the plug (default: %(default)s); both = compare")
    g.add_argument("--mpy-heap", type=_heap, default="4m", metavar="SIZE",
                   help="heap of the MicroPython plug, as micropython -X heapsize takes it: "
                        "256k, 4m, or 110wk (110 K words: about an ESP32's free heap in "
                        "32-bit words) (default: %(default)s)")
    g.add_argument("--micropython", metavar="PATH",
                   help="the MicroPython binary for --runtime micropython (default: the venv's "
                        "unix port); e.g. a unix port built with firmware/ frozen")
    g.add_argument("--mpy", action="store_true",
                   help="with the MicroPython runtime: run the firmware precompiled by "
                        "mpy-cross, as plugctl deploy installs it (needs far less heap)")
    g.add_argument("--sweep", metavar="PARAM=A..B|v1,v2",
                   help="repeat over one parameter (%s)" % ", ".join(sorted(SWEEPABLE)))
    g.add_argument("--out", default="sim_out", help="output directory (default: %(default)s)")
    g.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    g.add_argument("--no-chart", action="store_true",
                   help="skip the pictures (overview, detail pages, sweep plot); report.html "
                        "keeps its tables")
    g.add_argument("--chart-scale", choices=("shared", "week"), default="shared",
                   help="price scale of the detail pages: one for the whole run, or each "
                        "week its own (default: %(default)s)")
    g.add_argument("--progress", action="store_true",
                   help="progress bar on stderr even when it is not a terminal")
    g.add_argument("--log", action="store_true", help="every firmware log line in the timeline")
    g.add_argument("--serve", type=int, nargs="?", const=8080, metavar="PORT",
                   help="serve the simulated plug's web page on 127.0.0.1:PORT (default 8080) "
                        "while the run goes by at --time-scale (e.g. 0.001: a day in 86 s)")
    g.add_argument("--mqtt", metavar="HOST[:PORT]",
                   help="the simulated plug joins this MQTT broker (Home Assistant discovery) "
                        "while the run goes by at --time-scale; login with --set mqtt.user=U "
                        "--set mqtt.password=P")
    g.add_argument("--time-scale", type=float, default=d.time_scale,
                   help="wall seconds per simulated second for socket time-outs and --slow "
                        "(default: %(default)s)")
    return p


def options_from(args):
    o = Options()
    o.series = args.series
    o.prices = args.prices
    o.csv_tz = args.csv_tz
    if o.csv_tz:
        from firmware.clock.tz import Zone

        try:
            Zone(o.csv_tz)
        except ValueError as e:
            raise SimError("--csv-tz %r: %s" % (o.csv_tz, e))
    o.resolution = "15min" if args.resolution == "15min" else None
    o.days = args.days
    o.start = args.start
    o.tz = args.tz
    o.publish = args.publish
    o.provider = args.provider
    o.rateplan = args.rateplan
    o.tou_bands = args.tou_bands
    o.grid_tariff, o.vat, o.adder, o.multiplier = (args.grid_tariff, args.vat, args.adder,
                                                   args.multiplier)
    if (o.rateplan or o.tou_bands) and o.provider != "rateplan":
        raise SimError("--rateplan and --tou-bands need --provider rateplan")
    o.kw = args.kw
    if not o.kw > 0:
        raise SimError("--kw %g: the load must draw more than 0 kW" % o.kw)
    o.hours_per_day = args.hours_per_day
    origin = "--hours-per-day %g" % args.hours_per_day
    if args.kwh_per_day is not None:
        o.hours_per_day = args.kwh_per_day / args.kw
        origin = "--kwh-per-day %g (%g h at --kw %g)" % (args.kwh_per_day, o.hours_per_day,
                                                        args.kw)
    o.block = args.block
    o.deadline = args.deadline
    o.runtime = args.runtime
    o.time_scale = args.time_scale
    if args.mqtt:
        host, _, port = args.mqtt.partition(":")
        if not host or (port and not port.isdigit()):
            raise SimError("--mqtt %r: expected HOST or HOST:PORT" % args.mqtt)
        o.mqtt = args.mqtt
    o.mpy_heap = args.mpy_heap
    o.mpy = args.mpy
    if args.micropython:
        o.micropython = os.path.abspath(args.micropython)
    o.log = args.log
    for item in args.set:
        k, eq, v = item.partition("=")
        if not eq:
            raise SimError("--set %r: expected NAME=VALUE" % item)
        try:
            o.cfg[k] = json.loads(v)
        except ValueError:
            o.cfg[k] = v
    if "policy.hours" in o.cfg:
        origin = "--set policy.hours=%s" % o.cfg["policy.hours"]
    _fold_policy(o)
    check_as_the_plug(o, origin)
    if args.clock_loss:
        o.clock_loss_s = parse_span(args.clock_loss)
    return o


def check_as_the_plug(o, origin):
    """The run's settings through the plug's own schema (firmware/config.py and the limits
    that depend on other settings): what the plug refuses, the simulator refuses, naming the
    option that asked for it."""
    try:
        check_settings(o)
    except SimError as e:
        msg = str(e)
        if "policy.hours:" in msg:
            msg = "%s: %s" % (origin, msg)
        raise SimError(msg)


def _fold_policy(o):
    """--set policy.hours/mode/deadline become the run's policy options, so the summary's
    target and labels describe what the plug was told (and --set wins, as it does on the plug)."""
    cfg = o.cfg
    if "policy.hours" in cfg:
        try:
            o.hours_per_day = float(cfg.pop("policy.hours"))
        except (TypeError, ValueError):
            raise SimError("--set policy.hours: expected a number of hours")
    mode = cfg.get("policy.mode")
    if mode in ("cheapest", "block", "deadline"):
        del cfg["policy.mode"]
        o.block = mode == "block"
        if mode != "deadline":
            o.deadline = None
    if "policy.deadline" in cfg:
        try:
            o.deadline = _hm(str(cfg.pop("policy.deadline")))
        except argparse.ArgumentTypeError as e:
            raise SimError("--set policy.deadline: %s" % e)
    elif mode == "deadline" and o.deadline is None:
        raise SimError("--set policy.mode=deadline needs --deadline HH:MM")


def add_faults(o, args, t0, t1, zone):
    """Fault windows and a person's actions, whose times are relative to the run's start t0;
    one that starts outside the run [t0, t1) is refused (it would silently never happen)."""
    from .runner import _iso_local

    for kind, opt in (("outage", "--outage"), ("error", "--http-error"), ("slow", "--slow"),
                      ("truncate", "--truncate"), ("powercut", "--power-cut"),
                      ("wifi", "--wifi-down")):
        for spec in getattr(args, "f_" + kind):
            f = parse_window(kind, spec, t0)
            if not t0 <= f.t0 < t1:
                raise SimError("%s %s: starts at %s, outside the run (%s .. %s)" % (
                    opt, spec, _iso_local(f.t0, zone), _iso_local(t0, zone),
                    _iso_local(t1, zone)))
            o.faults.append(f)
    o.actions += [parse_button(spec, t0) for spec in args.button]
    o.actions += [parse_override(spec, t0) for spec in args.override]
    o.actions.sort(key=lambda a: a.t0)


def check_days(o, series, zone, t0, t1):
    """--days local days from the start must be in the price data: a run that ends early
    would answer another question than the one asked."""
    from .runner import _iso_local

    n, t = 0, t0
    while t < t1 and n < o.days:
        t = zone.next_day_start(t)
        if t <= t1:
            n += 1
    if n < o.days:
        raise SimError("--days %d%s: the prices end at %s, %d full day%s after the start %s" % (
            o.days, (" from --start %s" % o.start) if o.start else "",
            _iso_local(series.end_s, zone), n, "" if n == 1 else "s", _iso_local(t0, zone)))


def _sweep_values(spec):
    name, eq, rng = spec.partition("=")
    name = name.replace("-", "_")
    if not eq or name not in SWEEPABLE:
        raise SimError("--sweep %r: expected PARAM=A..B or PARAM=v1,v2 with PARAM one of %s"
                       % (spec, ", ".join(sorted(SWEEPABLE))))
    try:
        if ".." in rng:
            a, _, b = rng.partition("..")
            vals = [float(x) for x in range(int(a), int(b) + 1)]
        else:
            vals = [SWEEPABLE[name](x) for x in rng.split(",")]
    except ValueError:
        raise SimError("--sweep %s: expected integers A..B or a list of %s values" % (
            spec, "number" if SWEEPABLE[name] is float else "text"))
    if not vals:
        raise SimError("--sweep %s: no values (A..B needs A <= B)" % spec)
    return name, vals


def _sweep_apply(o, name, v):
    if name == "deadline":
        try:
            o.deadline = _hm(v) if v not in ("", "none") else None
        except argparse.ArgumentTypeError as e:
            raise SimError("--sweep deadline=%s: %s" % (v, e))
    elif name == "block":
        o.block = v.lower() in ("1", "true", "yes")
    elif name == "kw" and not v > 0:
        raise SimError("--sweep kw=%g: the load must draw more than 0 kW" % v)
    else:
        setattr(o, name, v)


def _run_one(o, args):
    from .report import summary_text, write_reports

    if o.runtime == "both":
        res = {}
        for rt in ("cpython", "micropython"):
            o.runtime = rt
            res[rt] = simulate(o)
        o.runtime = "both"
        a, b = res["cpython"].decisions(), res["micropython"].decisions()
        same = a == b
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
        r = res["micropython"]
        r.summary["runtimes_agree"] = same
        r.summary["cpython_cost"] = res["cpython"].summary["cost"]
        if not same:
            r.summary["first_difference"] = {"index": first,
                                             "cpython": a[first] if first < len(a) else None,
                                             "micropython": b[first] if first < len(b) else None}
        main_res = res["cpython"]
        main_res.summary["runtimes_agree"] = same
    else:
        main_res = r = simulate(o)
    os.makedirs(args.out, exist_ok=True)
    runtimes = None
    if o.runtime == "both":
        runtimes = {"agree": same, "first": r.summary.get("first_difference"),
                    "cpython": main_res.summary, "micropython": r.summary}
    files = write_reports(main_res, args.out, not args.no_chart, args.chart_scale, runtimes)
    if args.json:
        out = dict(main_res.summary)
        if o.runtime == "both":
            out["runtime"] = "both"
            out["micropython"] = {k: r.summary[k] for k in (
                "cost", "energy_kwh", "switches", "fetches", "fetch_failures",
                "flash_writes", "wall_s")}
            if "first_difference" in r.summary:
                out["first_difference"] = r.summary["first_difference"]
        out["report_s"] = files["timings"]
        print(json.dumps(out))
    else:
        print(summary_text(main_res.summary))
        if o.runtime == "both":
            print("  micropython: cost %.4f, %d decisions, wall %.2f s -> runtimes %s" % (
                r.summary["cost"], r.summary["decisions"], r.summary["wall_s"],
                "agree decision for decision" if r.summary["runtimes_agree"]
                else "DIFFER at %s" % (r.summary.get("first_difference"),)))
        print("  wrote %s" % ", ".join(
            [files["html"], os.path.join(args.out, "timeline.csv/.json")] +
            ([files["overview"], "%d detail pages (%s)" % (
                len(files["detail"]), os.path.join(args.out, "detail_NN.png"))]
             if "overview" in files else [])))
        tm = dict(files["timings"])
        cpu = tm.pop("cpu_s")
        print("  report written in %.2f s, CPU %.2f s (%s)" % (sum(tm.values()), cpu, ", ".join(
            "%s %.2f" % (k[:-2], v) for k, v in tm.items())))
    return main_res


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if any(a == "--fleet" or a.startswith("--fleet=") for a in argv):
        from .fleet.__main__ import main as fleet_main  # a fleet of plugs: host_sim/fleet/

        return fleet_main(argv)
    args = build_parser().parse_args(argv)
    try:
        o = options_from(args)
        show = args.progress or (sys.stderr.isatty() and not args.json)
        # fault windows are relative to the run's start: find it first
        from .runner import load_series, run_span, zone_for

        path, series = load_series(o)
        if o.tz is None and getattr(series, "tz_rule", None):
            o.tz = series.tz_rule  # local days where the file's own times are local
        _rule, zone, _pub = zone_for(o, path)
        t0, t1 = run_span(o, series, zone)
        check_days(o, series, zone, t0, t1)
        add_faults(o, args, t0, t1, zone)
        if args.serve is not None:
            from .serve import serve

            return serve(o, args.serve)
        if args.sweep:
            from .report import sweep_table

            name, vals = _sweep_values(args.sweep)
            for v in vals:  # every value through the plug's rules before the first run
                _sweep_apply(o, name, v)
                check_as_the_plug(o, "--sweep %s=%s" % (
                    name, ("%g" % v) if isinstance(v, float) else v))
            rows = []
            for v in vals:
                _sweep_apply(o, name, v)
                if show:
                    sys.stderr.write("%s=%s\n" % (name, v))
                o.progress = progress_bar() if show else None
                rows.append((v, simulate(o).summary))
            plot = None
            if not args.no_chart:
                from .sweep_plot import write as write_sweep_plot

                os.makedirs(args.out, exist_ok=True)
                plot = write_sweep_plot(name, rows, os.path.join(args.out, "sweep.png"))
            if args.json:
                print(json.dumps({"sweep": name, "runs": [dict(s, value=v) for v, s in rows]}))
            else:
                print(sweep_table(name, rows))
                if plot:
                    print("wrote %s" % plot)
            return 0
        o.progress = progress_bar() if show else None
        _run_one(o, args)
        return 0
    except (SimError, FaultSpecError, prices.PriceError) as e:
        print("host_sim: error: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
