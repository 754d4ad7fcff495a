"""Simulator mode `--provider rateplan` (CPython only): the plug prices its hours from a static
rate plan (firmware/providers/rateplan.py, NEEDS_NETWORK False) and contacts no server.

The plan is a rate-plan config: `--rateplan FILE.json` in the output format of
`python -m tools.rateplan_import` (a JSON object of "rateplan.*" settings), by default
host_sim/data/rateplan_eversource_a1.json (the Enertalk A1 fixture imported: 0.012 per kWh for
the first 100 kWh of a cycle, then 0.20145; meterDate 2; no TOU periods). The plan's prices are
the plug's prices: in a rate plan the usage cost IS the price per kWh (the flat or TOU price
plus the tier's cost), nothing is made up from the market series. Only on request,
`--tou-bands BANDS` gives a plan without TOU periods made-up ones: one period per band, priced
at the series' time-weighted mean over the run's span for the local times in that band, in the
series' currency (DEFAULT_BANDS is an example). `rateplan.load_kw` is set to the simulated load
(the app counts energy from on-time).

Billing (what the plug is charged, `billing()`): the plan's TOU (or flat) price for every
second the load is on, plus the usage tiers of each billing cycle. A cycle starts at local
midnight on meterDate (clamped to the month's last day); the energy counter starts at 0 at the
run's start and at every cycle start, and counts W x s exactly (the app's counter: Wh plus a
W*s remainder); the part of an on-span between two tier bounds pays that tier's cost on top of
the TOU price, the last tier's cost goes on beyond its bound. All integer: price_u x W x s.

A tier's cost depends only on the energy used in the cycle, not on when it was used, so for
the same energy per policy window (a local day, inside one cycle) every placement pays the same
tier charges: the references (optimum, 18:00 baseline, period average) are the plan's TOU (or
flat) references plus the plug's own tier charges, i.e. the optimum on the same plan. With daily
windows it is exact; a window that straddles a cycle start keeps the plug's split.

Timeline notes: "cycle" (a billing cycle starts), "tier" (the billed energy crosses a tier
bound, at the exact second), and "counter" (the plug's own counter, from the provider state
the device reports: a new cycle or a new tier as the app counted it - at the relay's off
switch, since the app counts on-time when the load stops).
"""

import json
import os

from firmware.clock.iso import civil_from_days, days_from_civil, days_in_month, format_iso
from firmware.providers import rateplan as rp

from ..prices import Series, u_to_text

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
EXAMPLE = os.path.join(DATA_DIR, "rateplan_eversource_a1.json")
DEFAULT_BANDS = "offpeak 00:00-07:00,23:00-24:00; partpeak 07:00-16:00,21:00-23:00; " \
                "peak 16:00-21:00"
W_S_PER_WH = 3600


class RatePlanSimError(ValueError):
    """A rate-plan file or --tou-bands that cannot be used; one line naming the field."""


# -- the plan ------------------------------------------------------------------------------
def load_settings(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise RatePlanSimError("--rateplan %s: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise RatePlanSimError("--rateplan %s: not JSON (%s)" % (path, e))
    if not isinstance(doc, dict):
        raise RatePlanSimError("--rateplan %s: expected a JSON object of rateplan.* settings"
                               % path)
    out = {k: v for k, v in doc.items() if k.startswith("rateplan.")}
    if not out:
        raise RatePlanSimError("--rateplan %s: no rateplan.* settings (make one with "
                               "python -m tools.rateplan_import)" % path)
    return out


def _hm(text):
    hh, sep, mm = text.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or int(mm) > 59:
        raise ValueError(text)
    m = int(hh) * 60 + int(mm)
    if m > 1440:
        raise ValueError(text)
    return m


def parse_bands(text):
    """'offpeak 00:00-07:00,23:00-24:00; peak 16:00-21:00; ...' -> [(name, [(s, e) min])].
    The bands must cover the day exactly once."""
    bands, used = [], [None] * 1440
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        name, _, ranges = entry.partition(" ")
        spans = []
        try:
            if not name or not ranges.strip():
                raise ValueError(entry)
            for r in ranges.replace(" ", "").split(","):
                a, sep, b = r.partition("-")
                s, e = _hm(a), _hm(b)
                if not sep or e <= s:
                    raise ValueError(r)
                spans.append((s, e))
        except ValueError:
            raise RatePlanSimError("--tou-bands: %r is not allowed; expected 'name "
                                   "HH:MM-HH:MM[,HH:MM-HH:MM]; ...'" % entry)
        for s, e in spans:
            for m in range(s, e):
                if used[m] is not None:
                    raise RatePlanSimError("--tou-bands: %s overlaps %s at %02d:%02d"
                                           % (name, used[m], m // 60, m % 60))
                used[m] = name
        bands.append((name, spans))
    if None in used:
        m = used.index(None)
        raise RatePlanSimError("--tou-bands: %02d:%02d is in no band; the bands must cover "
                               "00:00-24:00" % (m // 60, m % 60))
    return bands


def band_means(series, zone, t0, t1, bands):
    """{name: time-weighted mean price_u of the series over [t0, t1) in that local band}."""
    edges = sorted({m for _, spans in bands for s, e in spans for m in (s, e)} | {1440})
    of_minute = {}
    for name, spans in bands:
        for s, _e in spans:
            of_minute[s] = name
    sums = {name: [0, 0] for name, _ in bands}
    for s, e, p in series.window(t0, t1):
        t = s
        while t < e:
            local = t + zone.offset_at(t)
            sec = local % 86400
            minute = sec // 60
            start = max(m for m in edges if m <= minute) if minute >= edges[0] else 0
            nxt = min(m for m in edges if m > minute)
            cut = min(e, t - sec + nxt * 60, t - local % 3600 + 3600)  # re-read DST hourly
            acc = sums[of_minute[start]]
            acc[0] += (cut - t) * p
            acc[1] += cut - t
            t = cut
    out = {}
    for name, (num, den) in sums.items():
        if not den:
            raise RatePlanSimError("--tou-bands: band %s has no prices in the run" % name)
        out[name] = (2 * num + den) // (2 * den)  # half up
    return out


def derive_tou(series, zone, t0, t1, bands_text=None):
    """The rateplan.tou setting: the bands at the series' means, every month and day."""
    bands = parse_bands(bands_text or DEFAULT_BANDS)
    means = band_means(series, zone, t0, t1, bands)
    parts = []
    for name, spans in bands:
        for s, e in spans:
            parts.append("%s %s * * %02d:%02d-%02d:%02d" % (
                name, u_to_text(means[name]), s // 60, s % 60, e // 60, e % 60))
    return "; ".join(parts)


def settings_for(series, zone, t0, t1, kw, path=None, bands_text=None):
    """(settings, derived_tou): the plug's rate-plan settings for a run."""
    cfg = load_settings(path or EXAMPLE)
    derived = bool(bands_text)  # made-up TOU only when asked for
    if derived and (cfg.get("rateplan.tou") or "").strip():
        raise RatePlanSimError("--tou-bands: the rate plan has its own TOU periods")
    if derived:
        cfg["rateplan.tou"] = derive_tou(series, zone, t0, t1, bands_text)
        cfg["rateplan.currency"] = series.currency
    cfg["rateplan.load_kw"] = kw
    try:
        rp.Plan(cfg)
    except ValueError as e:
        raise RatePlanSimError("--rateplan: %s" % e)
    return cfg, derived


# -- the API object ------------------------------------------------------------------------
class RatePlanApi:
    """No server answers for this provider (HOSTS is empty); the object carries the plug's
    settings, the billing and the timeline notes."""

    HOSTS = ()
    WATCH_STATE = ("rateplan.cycle_s", "rateplan.wh")  # device_main reports their changes

    def __init__(self, settings, zone, derived_tou=False, path=None):
        self.DEVICE_CONFIG = settings
        self.zone = zone
        self.plan = rp.Plan(settings)
        self.derived_tou = derived_tou
        self.path = path or EXAMPLE

    def handle(self, req):
        return 404, {"Content-Type": "text/plain"}, b"a static rate plan has no server"

    def billing(self, series, t0, t1, watts):
        return Billing(self, series, t0, t1, watts)


class Billing:
    """What the plug is charged under the rate plan over [t0, t1) for a load of `watts`."""

    def __init__(self, api, series, t0, t1, watts):
        self.api = api
        self.zone = api.zone
        self.plan = api.plan
        self.t0, self.t1, self.watts = t0, t1, watts
        self.market = series
        self.series = self._tou_series(t0, t1, series.currency, series.market)

    def describe(self):
        g = self.api.DEVICE_CONFIG.get
        root = os.path.dirname(os.path.dirname(DATA_DIR))
        path = os.path.abspath(self.api.path)
        return {"kind": "rateplan", "id": g("rateplan.id") or "", "name": g("rateplan.name") or "",
                "file": os.path.relpath(path, root) if path.startswith(root) else path,
                "tou": g("rateplan.tou") or "none (flat %s)" % (g("rateplan.price") or "0"),
                "tou_derived_from_series": self.api.derived_tou,
                "tiers": g("rateplan.tiers") or "", "meterDate": self.plan.meter_date}

    def _tou_series(self, t0, t1, currency, market):
        starts, ends, prices = [], [], []
        z, plan = self.zone, self.plan
        t = t0
        while t < t1:
            local = t + z.offset_at(t)
            days, sec = local // 86400, local % 86400
            p, _name = plan.tou_at(days, sec // 60)
            end = min(t1, t - local % 3600 + 3600)
            for c in plan.cuts:
                if c * 60 > sec:
                    end = min(end, t - sec + c * 60)
                    break
            if prices and prices[-1] == p and ends[-1] == t:
                ends[-1] = end
            else:
                starts.append(t)
                ends.append(end)
                prices.append(p)
            t = end
        return Series(starts, ends, prices, currency, market + " rate plan TOU")

    # -- billing cycles (computed here, not with the firmware's functions) -------------------
    def _midnight(self, days):
        z = self.zone
        noon = days * 86400 + 43200
        return z.day_start(noon - z.offset_at(noon))

    def _cycle_day(self, y, m):
        return days_from_civil(y, m, min(self.plan.meter_date, days_in_month(y, m)))

    def cycle_start(self, t):
        days = (t + self.zone.offset_at(t)) // 86400
        y, m, _d = civil_from_days(days)
        start = self._cycle_day(y, m)
        if days < start:
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
            start = self._cycle_day(y, m)
        return self._midnight(start)

    def next_cycle_start(self, t):
        y, m, _d = civil_from_days((self.cycle_start(t) + 43200 +
                                    self.zone.offset_at(t)) // 86400)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return self._midnight(self._cycle_day(y, m))

    def _tier_at(self, used_ws):
        """(index, cost_u, upper bound in W*s or None) of the tier the next W*s falls in."""
        tiers = self.plan.tiers
        for i, (upto, cost) in enumerate(tiers):
            if i == len(tiers) - 1:
                return i, cost, None
            if upto == 0 or used_ws < upto * W_S_PER_WH:
                return i, cost, (upto * W_S_PER_WH if upto else None)
        return -1, 0, None

    def charges(self, on):
        """(total price_u*W*s of the tiers, [(t, price_u*W*s)] per piece, timeline notes)."""
        notes, pieces = [], []
        w = self.watts
        cyc = self.cycle_start(self.t0)
        nxt = self.next_cycle_start(self.t0)
        used = 0
        t = self.t0
        while nxt <= self.t1:  # the cycle starts inside the run, on or off
            notes.append((nxt, "cycle", "billing cycle starts (meterDate %d): counter 0 kWh, "
                          "tier 1" % self.plan.meter_date))
            nxt = self.next_cycle_start(nxt)
        nxt = self.next_cycle_start(self.t0)
        total = 0
        for s, e in on:
            t = s
            while t < e:
                while t >= nxt:
                    cyc, nxt, used = nxt, self.next_cycle_start(nxt), 0
                end = min(e, nxt)
                while t < end:
                    i, cost, bound = self._tier_at(used)
                    if i < 0:
                        t = end
                        break
                    stop = end
                    if bound is not None and w > 0:
                        cross = t + -(-(bound - used) // w)  # first second at/over the bound
                        if cross < stop:
                            stop = cross
                    ws = w * (stop - t)
                    c = ws * cost
                    total += c
                    pieces.append((t, c))
                    used += ws
                    if bound is not None and used >= bound:
                        j, cost2, _b = self._tier_at(used)
                        notes.append((stop, "tier", "billed energy %s kWh in the cycle from %s: "
                                      "tier %d, +%s/kWh" % (
                                          _kwh(used), self._date(cyc), j + 1,
                                          u_to_text(cost2))))
                    t = stop
        notes.sort(key=lambda n: n[0])
        return total, pieces, [["note", t, kind, text] for t, kind, text in notes]

    def _date(self, t):
        return format_iso(t, self.zone.offset_at(t), z=False)[:10]

    def device_notes(self, events):
        """Notes for the plug's own counter from the device's ["state", t, {...}] events."""
        out = []
        last_cycle = last_tier = None
        for ev in events:
            if ev[0] != "state":
                continue
            st = ev[2]
            cyc, wh = st.get("rateplan.cycle_s"), st.get("rateplan.wh")
            if cyc is None or wh is None:
                continue
            i = self._tier_at(wh * W_S_PER_WH)[0]
            if cyc != last_cycle:
                if last_cycle is not None:
                    out.append(["note", ev[1], "counter", "plug counter reset: cycle from %s"
                                % self._date(cyc)])
                last_cycle, last_tier = cyc, i
            elif i != last_tier:
                out.append(["note", ev[1], "counter", "plug counter %s kWh: tier %d, +%s/kWh"
                            % (_kwh(wh * W_S_PER_WH), i + 1,
                               u_to_text(self.plan.tiers[i][1]))])
                last_tier = i
        return out


def _kwh(ws):
    return "%.3f" % (ws / 3600000.0)


def make(series, zone, feed, run=None):
    """The simulator's rate-plan "API": settings for the run's span, no server."""
    run = run or {}
    t0 = run.get("t0", series.start_s)
    t1 = run.get("t1", series.end_s)
    settings, derived = settings_for(series, zone, t0, t1, run.get("kw", 1.0),
                                     run.get("rateplan"), run.get("tou_bands"))
    return RatePlanApi(settings, zone, derived, run.get("rateplan"))
