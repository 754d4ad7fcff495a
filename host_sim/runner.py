"""One simulation run: price server + the plug (in-process on CPython, or a MicroPython
subprocess) + the reference costs (CPython only).

    res = simulate(Options(days=7))
    res.summary  -> dict (the --json output)
    res.events   -> the device's timeline events (see device_main.py)
"""

import gc
import heapq
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from firmware.clock import tz

from . import device_main, foresight, optimum, prices, retail
from .faults import Fault
from .price_server import PriceServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
U_SECONDS_PER_UNIT_KWH = 3600 * 1000000  # price_u x seconds x kW -> currency


class SimError(Exception):
    """A run could not be set up or the device process failed; main() prints it in one line."""


class Options:
    """Everything a run needs; the CLI fills it from its arguments (defaults = `make sim`)."""

    def __init__(self, **kw):
        self.prices = None  # CSV path; None = the bundled `series`
        self.csv_tz = None  # zone of a CSV's times written without an offset (--csv-tz)
        self.series = prices.DEFAULT_SERIES
        self.days = 30
        self.start = None  # "YYYY-MM-DD" (local day); None = the series' first full day
        self.provider = "arcadia"
        self.rateplan = None  # --rateplan FILE.json (host_sim/apis/rateplan.py)
        self.tou_bands = None  # --tou-bands for a plan without TOU periods
        self.tz = None  # None = the bundled series' zone (UTC0 for a user's file)
        self.publish = None  # server publication, local minute; None = the series' default
        self.hours_per_day = 4.0
        self.block = False
        self.deadline = None  # local minute of the deadline, or None (local days)
        self.kw = 1.0
        self.runtime = "cpython"
        self.faults = []  # Fault objects
        self.actions = []  # a person's: Fault objects of kind "button" or "override"
        self.clock_loss_s = 0
        self.time_scale = 0.1
        self.mqtt = None  # "HOST[:PORT]": the simulated plug joins this MQTT broker, paced
        self.resolution = None  # None = as in the file; "15min" = derived quarter hours
        self.cfg = {}  # extra App settings
        # the retail price (host_sim/retail.py): the plug ranks by it and is billed at it
        self.grid_tariff = None  # --grid-tariff FILE.json or a preset name
        self.vat = self.adder = self.multiplier = None  # --vat, --adder, --multiplier
        self.retail_cfg = {}  # the price.* settings they make (simulate() sets it)
        self.log = False
        self.progress = None  # callable(fraction, text) or None
        self.keep_flash = False
        # the MicroPython unix port of --runtime micropython: $WW_MICROPYTHON (as in the
        # tests), else the venv's
        self.micropython = os.getenv("WW_MICROPYTHON") or os.path.join(ROOT, ".venv", "bin",
                                                                        "micropython")
        self.mpy_heap = "4m"
        self.mpy = False  # micropython runtime: run the firmware from .mpy, as deployed
        # the device side's module in host_sim/ under MicroPython (host_sim/soak.py runs its
        # soak_device, which wraps device_main.run with heap and flash figures)
        self.device_module = "device_main"
        for k, v in kw.items():
            if not hasattr(self, k):
                raise TypeError("unknown option %s" % k)
            setattr(self, k, v)


class Result:
    def __init__(self, summary, events, series, zone, t0, t1, requests, on, per_window=()):
        self.summary = summary
        self.events = events
        self.series = series
        self.zone = zone
        self.t0 = t0
        self.t1 = t1
        self.requests = requests
        self.on = on  # [(s, e)] relay-on intervals
        self.per_window = per_window  # optimum.references()["per_window"]

    def decisions(self):
        """[(true_t, on, reason)]: what the tests compare between runtimes."""
        return [(e[1], e[3], e[4]) for e in self.events if e[0] == "d"]


_SERIES_CACHE = {}


def load_series(opts):
    path = opts.prices or prices.bundled_path(opts.series)
    key = (os.path.abspath(path), opts.resolution, opts.csv_tz)
    s = _SERIES_CACHE.get(key)
    if s is None:
        try:
            s = prices.load_csv(path, opts.csv_tz)
        except OSError as e:
            raise SimError("--prices %s: %s" % (path, e.strerror or e))
        if opts.resolution == "15min":
            s = prices.to_15min(s)
        _SERIES_CACHE[key] = s
    return path, s


def zone_for(opts, path):
    name = prices.bundled_for(path)
    rule = opts.tz or (prices.BUNDLED[name][1] if name else "UTC0")
    publish = opts.publish
    if publish is None:
        publish = prices.BUNDLED[name][2] if name else 13 * 60
    try:
        return rule, tz.Zone(rule), publish
    except ValueError as e:
        raise SimError("--tz %r: %s" % (rule, e))


def run_span(opts, series, zone):
    first = zone.day_start(series.start_s)
    if first < series.start_s:
        first = zone.next_day_start(first)
    if opts.start:
        from firmware.clock.iso import parse_iso

        try:
            noon = parse_iso(opts.start + "T12:00:00Z")
        except ValueError:
            raise SimError("--start %r: expected YYYY-MM-DD" % opts.start)
        first = zone.day_start(noon)
    if first < series.start_s or first >= series.end_s:
        raise SimError("--start: the series covers %s to %s only" % (
            _iso_local(series.start_s, zone), _iso_local(series.end_s, zone)))
    t1 = first
    for _ in range(int(opts.days)):
        t1 = zone.next_day_start(t1)
    if t1 > series.end_s:
        t1 = series.end_s
    return first, t1


def _iso_local(t, zone):
    from firmware.clock.iso import format_iso

    return format_iso(t, zone.offset_at(t), z=False)


def policy_cfg(opts):
    """The planner's settings for the CLI's policy options (firmware/plan/planner.py CONFIG)."""
    cfg = {"policy.mode": "cheapest", "policy.hours": opts.hours_per_day}
    if opts.block and opts.deadline is not None:
        raise SimError("--block and --deadline: the planner has no block-by-deadline mode")
    if opts.block:
        cfg["policy.mode"] = "block"
    if opts.deadline is not None:
        cfg["policy.mode"] = "deadline"
        cfg["policy.deadline"] = "%02d:%02d" % divmod(opts.deadline, 60)
    return cfg


def check_settings(opts):
    """Reject what the plug would silently replace by a default: a bad --set value or policy
    option would make the run answer a question nobody asked."""
    from firmware import config

    cfg = policy_cfg(opts)
    cfg.update(opts.cfg)
    fields = config.schema()
    bad = []
    for name in sorted(cfg):
        f = fields.get(name)
        if f is None:
            bad.append("%s: no such setting" % name)
            continue
        try:
            f.check(cfg[name])
        except config.ConfigError as e:
            bad.append(str(e))
    if not bad:  # limits that depend on other settings, as the plug checks them
        try:
            config.check_combined(fields, cfg)
        except config.ConfigError as e:
            bad.append(str(e))
    if bad:
        raise SimError("plug setting rejected: " + "; ".join(bad))


def device_cfg(opts, rule, api, publish=None):
    """The plug's settings: source, zone, the market's publication time (as an installer sets
    fetch.publish for a day-ahead market), policy, the API object's DEVICE_CONFIG (URLs on its
    HOSTS, credentials, a rate plan: host_sim/apis/ knows provider field names, this module
    does not), then --set."""
    cfg = {"source": opts.provider, "tz": rule, "fetch.seed": 12345, "load.kw": opts.kw}
    if publish is not None and opts.provider != "rateplan":
        cfg["fetch.publish"] = "%02d:%02d" % divmod(publish, 60)
    cfg.update(getattr(api, "DEVICE_CONFIG", None) or {})
    cfg.update(opts.retail_cfg)
    cfg.update(policy_cfg(opts))
    cfg.update(opts.cfg)
    return cfg


def simulate(opts):
    if opts.days is not None and opts.days < 1:
        raise SimError("--days %s: at least 1 day" % opts.days)
    if not opts.kw > 0:
        raise SimError("--kw %s: the load must draw more than 0 kW" % opts.kw)
    check_settings(opts)
    path, series = load_series(opts)
    rule, zone, publish = zone_for(opts, path)
    t0, t1 = run_span(opts, series, zone)
    try:
        opts.retail_cfg = retail.settings(opts, series.currency)
    except retail.RetailError as e:
        raise SimError(str(e))
    if opts.retail_cfg and opts.provider == "rateplan":
        raise SimError("--vat/--adder/--grid-tariff: a rate plan's prices are retail already")
    for a in opts.actions:
        if not t0 <= a.t0 < t1:
            raise SimError("--%s at %s: outside the run (%s .. %s)" % (
                a.kind, _iso_local(a.t0, zone), _iso_local(t0, zone), _iso_local(t1, zone)))
    server_faults = [f for f in opts.faults if f.server_side]
    run = {"t0": t0, "t1": t1, "kw": opts.kw, "rateplan": opts.rateplan,
           "tou_bands": opts.tou_bands}
    try:
        server = PriceServer(series, zone, publish, opts.provider, server_faults,
                             opts.time_scale, run=run)
    except ValueError as e:
        raise SimError(str(e))
    root = tempfile.mkdtemp(prefix="ww_flash_", dir=flash_base())
    dev = {
        "start_s": t0, "end_s": t1, "root": root, "hosts": list(server.hosts),
        "port": server.port, "cfg": device_cfg(opts, rule, server.api, publish),
        "power_cuts": [[f.t0, f.t1] for f in opts.faults if f.kind == "powercut"],
        "wifi_down": [[f.t0, f.t1] for f in opts.faults if f.kind == "wifi"],
        "clock_loss_s": opts.clock_loss_s, "time_scale": opts.time_scale, "log": opts.log,
        "watch_state": list(getattr(server.api, "WATCH_STATE", ())),
        "actions": [[a.t0, "button", None] if a.kind == "button" else
                    [a.t0, "override", [a.arg, (a.t1 - a.t0) // 60]]
                    for a in opts.actions],
    }
    if opts.mqtt:  # watchable in Home Assistant: paced by --time-scale (device_main.Paced)
        host, _, port = opts.mqtt.partition(":")
        dev["services"] = True
        dev["cfg"].update({"mqtt.enabled": True, "mqtt.host": host, "mqtt.port": int(port or 0)})
    events = []
    span = float(t1 - t0)

    def emit(ev):
        events.append(ev)
        if ev[0] == "tick" and opts.progress is not None:
            opts.progress((ev[1] - t0) / span, _iso_local(ev[1], zone)[:10])

    wall0 = time.monotonic()
    cpu0 = _cpu_s()
    # The firmware calls gc.collect() after every fetch; on CPython a full collection walks
    # every container object, including the simulator's own (price series, modules, chart
    # libraries). Freezing them keeps those walks as short as on the device.
    gc.collect()
    gc.freeze()
    if server.hosts:  # a source without network (rateplan) needs no server
        server.start()
    try:
        if opts.runtime == "cpython":
            try:
                device_main.run(dev, emit)
            except OSError as e:
                raise SimError("device: %s" % e)
        elif opts.runtime == "micropython":
            _run_micropython(opts, dev, emit)
        else:
            raise SimError("--runtime must be cpython or micropython")
    finally:
        gc.unfreeze()
        server.stop()  # or just closes the socket when it never started
        if not opts.keep_flash:
            shutil.rmtree(root, ignore_errors=True)
    wall = time.monotonic() - wall0
    cpu = _cpu_s() - cpu0
    if opts.progress is not None:
        opts.progress(1.0, "done")
    summary, on, ref, billing, notes = summarize(opts, events, series, zone, t0, t1, path,
                                                 rule, server, wall)
    summary["cpu_s"] = round(cpu, 3)
    if opts.deadline is not None or dev["cfg"].get("policy.period") == "rolling":
        summary.update(foresight_split(summary, series, zone, t0, t1, dev["cfg"], publish,
                                       opts))
    if notes:
        events = list(heapq.merge(events, sorted(notes, key=_t), key=_t))
    return Result(summary, events, billing.series if billing else series, zone, t0, t1,
                  list(server.requests), on, ref["per_window"])


def foresight_split(summary, series, zone, t0, t1, cfg, publish, opts):
    """The gap to perfect foresight, split into what no plug could know (an ideal plug with the
    same policy that has every price the second it is published: host_sim/foresight.py) and
    what this plug lost on top (fetch timing, failures, re-plans)."""
    ideal = foresight.ideal_on(series, zone, t0, t1, cfg, publish)
    ref = optimum.references(series, zone, t0, t1, ideal, opts.block, opts.deadline)
    unknowable = _pct(optimum.cost_of(series, ideal) - ref["optimal_us"], ref["optimal_us"])
    total = summary["gap_to_optimal_pct"]
    return {"gap_to_foresight_pct": total, "gap_unknowable_pct": unknowable,
            "gap_plan_pct": None if total is None or unknowable is None
            else round(total - unknowable, 2)}


def _t(ev):
    return ev[1]


def flash_base():
    """Where the simulated flash lives: RAM (/dev/shm) when there is one. A rename on a disk
    file system costs milliseconds (journal), and the firmware renames on every cache and
    status write, which would otherwise dominate a simulated year."""
    d = "/dev/shm"
    if os.path.isdir(d) and os.access(d, os.W_OK):
        return d
    return None


def _cpu_s():
    """CPU seconds of this process and its finished children (the MicroPython device)."""
    import resource

    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _run_micropython(opts, dev, emit):
    exe = opts.micropython
    if not os.path.exists(exe):
        raise SimError("MicroPython unix port not found at %s%s" % (
            exe, " (make venv)" if exe == Options().micropython else ""))
    fd, opt_path = tempfile.mkstemp(suffix=".json", prefix="ww_sim_")
    with os.fdopen(fd, "w") as f:
        json.dump(dev, f)
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:" + ROOT
    main = [os.path.join(ROOT, "host_sim", opts.device_module + ".py")]
    cwd = ROOT
    mpy_dir = None
    if opts.mpy:
        # Everything the simulated board runs, precompiled (mpy-cross -O1) so that its heap
        # holds what a plug's would: firmware/ as `plugctl deploy` installs it (after .frozen
        # on the path: a binary with firmware/ frozen keeps using it), and the board's own
        # device_main and simhal. `-m` puts the cwd first on the path: it holds only those.
        mpy_dir = tempfile.mkdtemp(prefix="ww_sim_mpy_")
        try:
            _compile(["firmware", "plug.py"], os.path.join(mpy_dir, "fw"))
            _compile(["host_sim/__init__.py", "host_sim/simhal.py", "host_sim/device_main.py"]
                     + ["host_sim/%s.py" % opts.device_module] * (opts.device_module
                                                                 != "device_main"),
                     os.path.join(mpy_dir, "board"))
        except (OSError, ValueError) as e:
            shutil.rmtree(mpy_dir, ignore_errors=True)
            raise SimError("cannot precompile the firmware: %s" % e)
        env["MICROPYPATH"] = ".frozen:%s:%s" % (os.path.join(mpy_dir, "fw"), ROOT)
        main = ["-m", "host_sim." + opts.device_module]
        cwd = os.path.join(mpy_dir, "board")
    cmd = [exe, "-X", "heapsize=" + opts.mpy_heap] + main + [opt_path]
    try:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        other = []  # MicroPython prints an uncaught exception's traceback on stdout
        for line in p.stdout:
            line = line.strip()
            if line.startswith("["):
                emit(json.loads(line))
            elif line:
                other = (other + [line])[-8:]
        err = p.stderr.read()
        rc = p.wait()
    finally:
        os.remove(opt_path)
        if mpy_dir:
            shutil.rmtree(mpy_dir, ignore_errors=True)
    if rc != 0:
        tail = (other + err.strip().splitlines())[-8:]
        raise SimError("micropython device exited with %d: %s%s" % (
            rc, tail[-1] if tail else "no output", "".join("\n  " + t for t in tail[:-1])))


def _mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else (shutil.which("mpy-cross") or "mpy-cross")


def _compile(paths, out_dir):
    """mpy-cross -O1 every .py under `paths` (files or folders of ROOT) into out_dir, as
    `plugctl deploy` puts them on a plug (the simulator does not depend on the field tools)."""
    rels = []
    for p in paths:
        if p.endswith(".py"):
            rels.append(p)
            continue
        for dirpath, dirnames, names in os.walk(os.path.join(ROOT, p)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            rel = os.path.relpath(dirpath, ROOT).replace(os.sep, "/")
            rels += [rel + "/" + n for n in names if n.endswith(".py")]
    for rel in rels:
        dst = os.path.join(out_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        p = subprocess.run([_mpy_cross(), "-O1", "-s", rel, "-o", dst, os.path.join(ROOT, rel)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise ValueError("mpy-cross %s: %s" % (rel, (p.stderr or p.stdout).strip()[-300:]))


def money(cost_us, watts):
    """Micro-unit seconds x watts -> currency (float, for display and JSON)."""
    return cost_us * watts / (U_SECONDS_PER_UNIT_KWH * 1000.0)


def summarize(opts, events, series, zone, t0, t1, path, rule, server, wall):
    """(summary, on-intervals, references, billing or None, timeline notes). The plug is billed
    on the market series, or on what its API object's billing() says (a rate plan: its TOU
    prices as the series, plus consumption charges that depend on the energy used so far)."""
    relay = [(e[1], e[2]) for e in events if e[0] == "r"]
    on = optimum.on_intervals(relay, t0, t1)
    watts = int(round(opts.kw * 1000))
    bill_fn = getattr(server.api, "billing", None)
    billing = bill_fn(series, t0, t1, watts) if bill_fn is not None else None
    if billing is None and opts.retail_cfg:  # bill-level: at retail prices
        billing = retail.Billing(series, zone, opts.retail_cfg, opts.grid_tariff)
    market = series
    extra_uws, notes, describe = 0, [], {"kind": "market", "prices": series.market}
    if billing is not None:
        series = billing.series
        extra_uws, pieces, notes = billing.charges(on)
        notes = notes + billing.device_notes(events)
        describe = billing.describe()
    ref = optimum.references(series, zone, t0, t1, on, opts.block, opts.deadline)
    if extra_uws:
        ref = optimum.with_charges(ref, pieces, watts)
    cost_us = optimum.cost_of(series, on)
    end = [e for e in events if e[0] == "end"]
    counters = end[-1][2] if end else {}
    on_s = ref["on_s"]
    energy = on_s * watts / 3600000.0
    extra = extra_uws / (U_SECONDS_PER_UNIT_KWH * 1000.0)
    extra_us = extra_uws // watts if watts else 0
    cost = money(cost_us, watts) + extra
    r6 = lambda x: round(x, 6)  # noqa: E731
    s = {
        "runtime": opts.runtime,
        "provider": opts.provider,
        "market": market.market,
        "prices_file": os.path.relpath(path, ROOT) if path.startswith(ROOT) else path,
        "resolution_s": market.slot_s(),
        # intervals the file has no price for (the plug saw none published: fallback), and
        # the load's hours in them (not in the cost: their price is unknown)
        "missing_intervals": market.missing(t0, t1)[0],
        "on_hours_without_price": round(sum(max(0, e - s) for s, e in on) / 3600.0 - sum(
            ps_e - ps_s for a, b in on for ps_s, ps_e, _p in market.window(a, b)) / 3600.0, 4),
        "tz": rule,
        "start": _iso_local(t0, zone),
        "end": _iso_local(t1, zone),
        "days": round((t1 - t0) / 86400.0, 3),
        "load_kw": opts.kw,
        "policy": {"hours_per_day": opts.hours_per_day, "block": bool(opts.block),
                   "deadline": None if opts.deadline is None else
                   "%02d:%02d" % divmod(opts.deadline, 60)},
        "currency": series.currency,
        "billing": describe,
        "consumption_charges": r6(extra),
        "on_hours": round(on_s / 3600.0, 4),
        "energy_kwh": r6(energy),
        "target_energy_kwh": r6(opts.hours_per_day * opts.kw * ref["windows"]),
        "cost": r6(cost),
        "average_price_paid": r6(cost / energy) if energy else None,
        "period_average_price": r6(ref["mean_price_u"] / 1e6),
        "optimal_cost": r6(money(ref["optimal_us"], watts) + extra),
        "baseline_cost": r6(money(ref["baseline_us"], watts) + extra),
        "average_price_cost": r6(money(ref["average_us"], watts) + extra),
        "savings_vs_baseline": r6(money(ref["baseline_us"] - cost_us, watts)),
        "savings_vs_average": r6(money(ref["average_us"] - cost_us, watts)),
        "gap_to_optimal": r6(money(cost_us - ref["optimal_us"], watts)),
        "savings_vs_baseline_pct": _pct(ref["baseline_us"] - cost_us,
                                        ref["baseline_us"] + extra_us),
        "savings_vs_average_pct": _pct(ref["average_us"] - cost_us,
                                       ref["average_us"] + extra_us),
        "gap_to_optimal_pct": _pct(cost_us - ref["optimal_us"],
                                   ref["optimal_us"] + extra_us),
        "switches": len(relay),
        "app_switches": counters.get("switches", 0),
        "decisions": sum(1 for e in events if e[0] == "d"),
        "fetches": counters.get("fetches", 0),
        "fetch_failures": counters.get("fetch_failures", 0),
        "flash_writes": counters.get("flash_writes", 0),
        "boots": counters.get("boots", 0),
        "steps": counters.get("steps", 0),
        "server_requests": len(server.requests),
        "actions": [a.to_list() for a in opts.actions],
        "faults": [f.to_list() for f in opts.faults] +
                  ([["clock_loss", t0, t0 + opts.clock_loss_s, None]]
                   if opts.clock_loss_s else []),
        "wall_s": round(wall, 3),
        "sim_s_per_wall_s": round((t1 - t0) / wall) if wall > 0 else None,
        "savings_record": savings_record(events, series, zone, on, watts),
    }
    if isinstance(billing, retail.Billing):  # what the energy alone cost
        s["energy_cost"] = r6(money(optimum.cost_of(billing.market, on), watts))
    return s, on, ref, billing, notes


def savings_record(events, series, zone, on, watts, baseline_min=18 * 60):
    """The plug's own savings record (its last "savings" event: app.savings.days) next to the
    simulator's independent calculation of the same local days from the relay's on-intervals
    and the market series (optimum.py's 18:00 baseline); None if the plug sent none."""
    from firmware.clock.iso import parse_iso

    rec = [e for e in events if e[0] == "savings"]
    if not rec:
        return None
    rows = []
    for r in rec[-1][2]:
        a = zone.day_start(parse_iso(r["day"] + "T12:00:00Z"))
        b = zone.next_day_start(a)
        d = optimum.overlap_s(on, a, b)
        dev = optimum.cost_of(series, [(max(x, a), min(y, b)) for x, y in on if y > a and x < b])
        bs = optimum.local_time_on(zone, a, baseline_min)
        base = series.cost_us(bs, bs + d) if d else 0
        rows.append({"day": r["day"], "plug": [r["kwh"], r["cost"], r["baseline_cost"]],
                     "sim": [d * watts / 3600000.0, money(dev, watts), money(base, watts)]})
    tot = lambda k, i: round(sum(x[k][i] for x in rows), 6)  # noqa: E731
    diff = max([abs(x["plug"][i] - x["sim"][i]) for x in rows for i in range(3)] or [0])
    return {"days": len(rows), "first": rows[0]["day"] if rows else None,
            "plug": {"kwh": tot("plug", 0), "cost": tot("plug", 1), "baseline_cost":
                     tot("plug", 2), "saving": round(tot("plug", 2) - tot("plug", 1), 6)},
            "sim": {"kwh": tot("sim", 0), "cost": tot("sim", 1), "baseline_cost":
                    tot("sim", 2), "saving": round(tot("sim", 2) - tot("sim", 1), 6)},
            "max_day_diff": round(diff, 9), "per_day": rows}


def _pct(num, den):
    return round(100.0 * num / den, 2) if den else None


def fault(kind, t0, t1, arg=None):
    return Fault(kind, t0, t1, arg)


def progress_bar(stream=sys.stderr, width=30):
    """A progress callback that draws `[#####.....]  45% 2019-02-14` on stream."""
    def cb(frac, text):
        n = int(frac * width + 0.5)
        stream.write("\r[%s%s] %3d%% %s " % ("#" * n, "." * (width - n), int(frac * 100),
                                             text))
        if frac >= 1.0:
            stream.write("\n")
        stream.flush()
    return cb
