"""Static rate plan: time-of-use periods and consumption tiers, no network (issue 6 §3).

The plan lives in flat settings (editable from the REPL, produced from a supplier's rate-plan
schema by `python -m tools.rateplan_import`):

    rateplan.price     flat price (decimal string) where no TOU period matches
    rateplan.tou       TOU periods, ';'-separated, each five tokens `name price months days times`
                       e.g. "peak 0.45 6-9 wd 16:00-21:00; part 0.30 * wd 15:00-16:00"
                       months: * | 6-9 | 10-5 (wraps) | 1,2,12 ; days: * | wd (Mon-Fri, not a
                       holiday) | we (Sat, Sun and holidays) | hol | mon,tue,... ; times: local
                       HH:MM-HH:MM (end 24:00 allowed; end < start wraps past midnight).
                       The first period that matches wins.
    rateplan.holidays  MM-DD (every year) or YYYY-MM-DD, comma-separated
    rateplan.tiers     usage tiers `upto:cost,...` (the schema's tiers.usage[]): `upto` is the
                       cumulative kWh bound of the tier within a billing cycle, 0 = unbounded
                       (last tier). The tier cost is added to the TOU/flat price.
    rateplan.base      base-charge tiers, same shape (tiers.base[]): a charge per cycle by the
                       tier reached; informational (base_charge_u), not part of the kWh price.
    rateplan.meterDate day of month (1-29) on which each billing cycle starts, local midnight.

Tiers make the marginal price depend on the energy used so far in the cycle. The counter lives
in the provider `state` dict (which the app persists with the cache as store extras):
    state["rateplan.wh"]       integer Wh the plug itself counted in the current cycle
    state["rateplan.cycle_s"]  UTC second the counted cycle started (a new cycle resets wh)
The app feeds it with add_meter_reading(state, cfg, now_s, hal.meter.kwh(), zone) when the HAL
has a meter (or add_energy(..., wh, ...) with a delta), else add_on_time(state, cfg, now_s,
on_s, zone) with the relay's on-time (estimated with rateplan.load_kw). The utility's figure
for the whole household is better: with rateplan.usage = gridx, fetch() asks GridX Customer
Usage (gridx_customer.refresh, every gridx.usageMin) and set_usage() keeps it; cycle_wh() is
then that usage plus what the plug counted after the usage data ends (hourly marks of its own
count, state["rateplan.marks"]), else the plug's own count. PERSIST lists the state keys.

generate() prices a window: records end at every TOU boundary, local slot boundary (so the
planner gets hourly slots as from any other source), cycle start (the counter resets) and tier
crossing. Tier crossings are projected assuming the load runs at rateplan.load_kw from t0 on (the
most it could use), and the interval where a bound is crossed is split at that second.
All arithmetic is integer: prices in micro-units, energy in Wh plus a remainder in W*s.
"""

from ..clock.iso import civil_from_days, days_from_civil, days_in_month
from ..config import Field, parse_price
from ..prices import tou
from ..prices.schedule import Schedule, price_u
from . import ProviderError

NEEDS_NETWORK = False
PUBLISH_LOCAL_MIN = None
PERSIST = ("rateplan.wh", "rateplan.ws", "rateplan.cycle_s", "rateplan.meter_wh",
           "rateplan.marks", "rateplan.usage_wh", "rateplan.usage_end_s",
           "rateplan.usage_cycle_s", "rateplan.usage_next_s", "rateplan.usage_err")
USAGE_SOURCES = ("", "gridx")
MARKS = 48  # hourly marks of the plug's own count kept (covers a usage data lag of 2 days)

CONFIG = (
    Field("rateplan.id", "text", "", hi=64, help="supplier/rate plan id (from the import)"),
    Field("rateplan.name", "text", "", hi=80, help="rate plan name, for display"),
    Field("rateplan.currency", "text", "USD", hi=8, help="currency of every price"),
    Field("rateplan.price", "text", "0", hi=16, help="price per kWh where no TOU period applies",
          parse=parse_price, expect="a price per kWh like 0.25"),
    Field("rateplan.tou", "text", "", hi=600,
          help="TOU periods 'name price months days HH:MM-HH:MM; ...' (first match wins)",
          parse=lambda v: parse_tou(v)),
    Field("rateplan.holidays", "text", "", hi=400, help="holidays MM-DD or YYYY-MM-DD, comma",
          parse=lambda v: parse_holidays(v)),
    Field("rateplan.tiers", "text", "", hi=200,
          help="usage tiers 'upto_kWh:price,...' per billing cycle; upto 0 = unbounded",
          parse=lambda v: parse_tiers(v)),
    Field("rateplan.base", "text", "", hi=200, help="base-charge tiers 'upto_kWh:charge,...'",
          parse=lambda v: parse_tiers(v, "rateplan.base")),
    Field("rateplan.meterDate", "number", 1, lo=1, hi=29, integer=True,
          help="day of the month each billing cycle starts"),
    Field("rateplan.usage", "dropdown", "", choices=USAGE_SOURCES,
          help="the cycle's consumption for the tiers: the plug's own count (empty) or the "
               "utility's, from GridX Customer Usage (gridx): needs the gridx.* Customer API "
               "settings"),
    Field("rateplan.load_kw", "number", 1.0, lo=0, hi=50, unit="kW",
          help="the switched load, to estimate energy from on-time and project tiers"),
    Field("rateplan.projection", "dropdown", "hold", choices=("hold", "continuous"),
          help="tier price ahead: hold the current tier until the cycle ends (best for "
               "choosing hours: within a cycle the tier charge does not depend on when), or "
               "project the load running continuously (shows when a tier would be crossed)"),
    Field("rateplan.hours", "number", 48, lo=1, hi=168, unit="h", integer=True,
          help="hours of prices to generate"),
    Field("rateplan.slot_min", "number", 60, lo=5, hi=1440, unit="min", integer=True,
          help="longest generated record"),
    Field("rateplan.billSettings", "text", "", hi=400,
          help="supplier bill settings (JSON, informational, from the import)"),
)



class FixedZone:
    """A fixed UTC offset with the tz.Zone methods used here (tests; fallback)."""

    def __init__(self, offset_s=0):
        self.offset_s = offset_s

    def offset_at(self, utc_s):
        return self.offset_s


def _err(field, value, expected):
    from ..config import ConfigError

    return ConfigError("%s: %r is not allowed; expected %s" % (field, value, expected))


# -- parsing the settings ------------------------------------------------------------------
def parse_tiers(text, field="rateplan.tiers"):
    """'100:0.012,0:0.20145' -> [(upto_wh or 0, cost_u), ...] (ascending, unbounded last)."""
    out = []
    text = (text or "").strip()
    if not text:
        return out
    last = 0
    for part in text.split(","):
        upto, sep, cost = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            wh = _kwh_to_wh(upto.strip())
            # a base charge is per cycle, not per kWh: the kWh price limit is not its limit
            # (a KEPCO base charge is 7300 KRW)
            c = price_u(cost.strip()) if field != "rateplan.base" else _charge_u(cost.strip())
        except ValueError:
            raise _err(field, part.strip(), "upto_kWh:price pairs such as 100:0.012,0:0.20")
        if out and out[-1][0] == 0:
            raise _err(field, text, "the unbounded tier (upto 0) last")
        if wh and wh <= last:
            raise _err(field, text, "ascending tier bounds")
        last = wh or last
        out.append((wh, c))
    return out


def _charge_u(s):
    """'7300' / '12.5' -> micro-units, exactly, without the price range (a charge per cycle)."""
    whole, _, frac = s.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(s)
    return int(whole) * 1000000 + int((frac + "000000")[:6])


def _kwh_to_wh(s):
    """'100' / '12.5' -> Wh as an integer, exactly (no float)."""
    whole, _, frac = s.partition(".")
    if not (whole + frac).isdigit():
        raise ValueError(s)
    return int(whole or "0") * 1000 + int((frac + "000")[:3])


def parse_tou(text):
    """-> [(name, price_u, month_mask, day_mask, start_min, end_min), ...] (prices/tou.py)"""
    return tou.parse_tou(text, "rateplan.tou")


def parse_holidays(text):
    return tou.parse_holidays(text, "rateplan.holidays")


class Plan:
    """The parsed settings (parse once per fetch)."""

    def __init__(self, cfg):
        g = cfg.get
        try:
            self.flat_u = price_u(g("rateplan.price") or "0")
        except ValueError:
            raise _err("rateplan.price", g("rateplan.price"), "a decimal price such as 0.2")
        self.tou = parse_tou(g("rateplan.tou"))
        self.holidays = parse_holidays(g("rateplan.holidays"))
        self.tiers = parse_tiers(g("rateplan.tiers"))
        self.base = parse_tiers(g("rateplan.base"), "rateplan.base")
        self.meter_date = int(g("rateplan.meterDate") or 1)
        self.load_w = int(float(g("rateplan.load_kw") or 0) * 1000 + 0.5)
        self.slot_s = int(g("rateplan.slot_min") or 60) * 60
        self.continuous = g("rateplan.projection") == "continuous"
        self.currency = g("rateplan.currency") or "USD"
        self.cuts = tou.cuts(self.tou)  # local minutes at which a TOU period may change

    def is_holiday(self, y, m, d):
        return tou.is_holiday(self.holidays, y, m, d)

    def tou_at(self, days, minute):
        """(price_u, name) for local day number `days` and local minute of day."""
        k = tou.period_at(self.tou, self.holidays, days, minute)
        return (self.tou[k][1], self.tou[k][0]) if k >= 0 else (self.flat_u, None)


# -- billing cycle --------------------------------------------------------------------------
def _local_midnight_utc(days, zone):
    local = days * 86400
    guess = local - zone.offset_at(local)
    return local - zone.offset_at(guess)


def _cycle_day(t_s, meter_date, zone):
    """Local day number on which the cycle containing t_s started."""
    days = (t_s + zone.offset_at(t_s)) // 86400
    y, m, d = civil_from_days(days)
    if d < min(meter_date, days_in_month(y, m)):  # the 29th is the 28th in a short February
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return days_from_civil(y, m, min(meter_date, days_in_month(y, m)))


def cycle_start(t_s, meter_date, zone):
    """UTC second of the local midnight that started the billing cycle containing t_s."""
    return _local_midnight_utc(_cycle_day(t_s, meter_date, zone), zone)


def next_cycle_start(t_s, meter_date, zone):
    y, m, _ = civil_from_days(_cycle_day(t_s, meter_date, zone))
    m += 1
    if m == 13:
        y, m = y + 1, 1
    return _local_midnight_utc(days_from_civil(y, m, min(meter_date, days_in_month(y, m))), zone)


# -- tiers ------------------------------------------------------------------------------------
def tier_index(tiers, used_wh):
    """Index of the tier the next Wh falls in after `used_wh` this cycle (-1 without tiers)."""
    for i, (upto, _) in enumerate(tiers):
        if upto == 0 or used_wh < upto:
            return i
    return len(tiers) - 1  # bounded last tier: its price goes on


def marginal_u(tiers, used_wh):
    """Tier price (micro-units/kWh) of the next kWh after `used_wh` Wh this cycle (0 if none)."""
    i = tier_index(tiers, used_wh)
    return tiers[i][1] if i >= 0 else 0


def marginal_price_u(cfg, kwh_so_far, t_s=0, zone=None):
    """Marginal price of the next kWh at t_s given kWh used so far this cycle (TOU + tier)."""
    plan = Plan(cfg)
    zone = zone or FixedZone(0)
    local = t_s + zone.offset_at(t_s)
    p, _ = plan.tou_at(local // 86400, local % 86400 // 60)
    return p + marginal_u(plan.tiers, _wh(kwh_so_far))


def base_charge_u(cfg, kwh_in_cycle):
    """Base charge for a cycle that used `kwh_in_cycle` (the tier reached), micro-units."""
    return marginal_u(parse_tiers(cfg.get("rateplan.base"), "rateplan.base"), _wh(kwh_in_cycle))


def _wh(kwh):
    if isinstance(kwh, int):
        return kwh * 1000
    return int(kwh * 1000 + 0.5)


# -- generating records -------------------------------------------------------------------------
def generate(cfg, t0_s, t1_s, kwh_so_far, zone, plan=None, used_wh=None):
    """Schedule of [t0_s, t1_s) from the plan, `kwh_so_far` (or `used_wh`) used in the
    billing cycle at t0_s. `zone` has offset_at(utc_s) (a tz.Zone)."""
    plan = plan or Plan(cfg)
    s = Schedule("rateplan", plan.currency, "kWh")
    s.tariff_id = cfg.get("rateplan.id") or ""
    s.tariff_desc = cfg.get("rateplan.name") or ""
    used = _wh(kwh_so_far) if used_wh is None else used_wh
    rem = 0  # W*s not yet a whole Wh
    load = plan.load_w
    tiers = plan.tiers
    cyc_end = next_cycle_start(t0_s, plan.meter_date, zone)
    slot = plan.slot_s
    t = t0_s
    while t < t1_s:
        off = zone.offset_at(t)
        local = t + off
        days, sec = local // 86400, local % 86400
        minute = sec // 60
        price, name = plan.tou_at(days, minute)
        end = t1_s
        for c in plan.cuts:  # next TOU boundary (1440 = next midnight)
            if c * 60 > sec:
                end = min(end, t - sec + c * 60)
                break
        end = min(end, t - local % slot + slot, cyc_end)
        ti = tier_index(tiers, used)
        if ti >= 0:
            price += tiers[ti][1]
            bound = tiers[ti][0]
            if plan.continuous and load > 0 and bound and bound > used:
                need_ws = (bound - used) * 3600 - rem
                cross = t + (need_ws + load - 1) // load
                if cross < end:
                    end = cross
        s.add(t, end, price, name)
        if end == cyc_end:
            used, rem = 0, 0
            cyc_end = next_cycle_start(end, plan.meter_date, zone)
        elif load and plan.continuous:  # "hold": the counter moves only with measured energy
            e = load * (end - t) + rem
            used += e // 3600
            rem = e % 3600
        t = end
    return s


# -- the usage counter (kept in the provider state, persisted by the app) ------------------------
def counter(state, cfg, now_s, zone):
    """Wh the plug counted in the billing cycle of now_s; a new cycle resets the counter."""
    cs = cycle_start(now_s, int(cfg.get("rateplan.meterDate") or 1), zone)
    if state.get("rateplan.cycle_s") != cs:
        state["rateplan.cycle_s"] = cs
        state["rateplan.wh"] = 0
        state["rateplan.ws"] = 0
        state["rateplan.marks"] = []
    return state.get("rateplan.wh", 0)


def _mark(state, now_s):
    """Note the plug's own count as of now_s: one mark per clock hour (the latest in it), the
    last MARKS hours kept; _own_at() reads the count as of a whole hour from them."""
    marks = state.get("rateplan.marks") or []
    wh = state.get("rateplan.wh", 0)
    if marks and marks[-1][0] // 3600 == now_s // 3600:
        marks[-1] = [now_s, wh]
    else:
        marks.append([now_s, wh])
        if len(marks) > MARKS:
            marks.pop(0)
    state["rateplan.marks"] = marks


def add_energy(state, cfg, now_s, wh, zone):
    """Count `wh` Wh (a metering chip's reading since the last call) into the cycle of now_s."""
    counter(state, cfg, now_s, zone)
    state["rateplan.wh"] = state.get("rateplan.wh", 0) + int(wh)
    _mark(state, now_s)  # this energy was used by now_s
    return state["rateplan.wh"]


def add_meter_reading(state, cfg, now_s, kwh_total, zone):
    """Count the energy since the previous reading of a cumulative meter (hal.meter.kwh()).
    The first reading, and a meter that went backwards (reset), only set the reference."""
    wh_total = _wh(kwh_total)
    last = state.get("rateplan.meter_wh")
    state["rateplan.meter_wh"] = wh_total
    if last is None or wh_total < last:
        return counter(state, cfg, now_s, zone)
    return add_energy(state, cfg, now_s, wh_total - last, zone)


def add_on_time(state, cfg, now_s, on_s, zone):
    """Count `on_s` seconds of relay on-time at rateplan.load_kw (no metering chip)."""
    counter(state, cfg, now_s, zone)
    load_w = int(float(cfg.get("rateplan.load_kw") or 0) * 1000 + 0.5)
    e = load_w * int(on_s) + state.get("rateplan.ws", 0)
    state["rateplan.wh"] = state.get("rateplan.wh", 0) + e // 3600
    state["rateplan.ws"] = e % 3600
    _mark(state, now_s)  # the whole run counts as used at its end (an estimate anyway)
    return state["rateplan.wh"]


def set_usage(state, cfg, now_s, zone, wh, end_s):
    """The utility's consumption: `wh` Wh from the start of the cycle of now_s to end_s."""
    counter(state, cfg, now_s, zone)
    state["rateplan.usage_cycle_s"] = state["rateplan.cycle_s"]
    state["rateplan.usage_wh"] = int(wh)
    state["rateplan.usage_end_s"] = int(end_s)


def _own_at(state, t_s):
    """The plug's own count as of t_s (the last mark at or before it; 0 before the first)."""
    wh = 0
    for t, w in state.get("rateplan.marks") or ():
        if t > t_s:
            break
        wh = w
    return wh


def cycle_wh(state, cfg, now_s, zone):
    """Wh used in the billing cycle of now_s for the tiers: the utility's usage (when it is
    for this cycle) plus the plug's own count after its data ends, else the plug's count."""
    own = counter(state, cfg, now_s, zone)
    if state.get("rateplan.usage_cycle_s") != state.get("rateplan.cycle_s") or \
            state.get("rateplan.usage_wh") is None:
        return own
    return state["rateplan.usage_wh"] + max(0, own - _own_at(state, state["rateplan.usage_end_s"]))


def needs_network(cfg):
    """A static plan needs no network, unless the cycle's usage comes from the utility."""
    return cfg.get("rateplan.usage") == "gridx"


def _zone(cfg, state):
    z = state.get("zone")
    if z is not None:
        return z
    try:
        from ..clock import tz

        return tz.Zone(cfg.get("tz") or "UTC0")
    except ImportError:
        return FixedZone(0)


def fetch(client, cfg, now_s, state):
    """Prices from the start of the current local hour, rateplan.hours ahead. No network, but
    with a client and rateplan.usage = gridx it refreshes the cycle's usage first."""
    zone = _zone(cfg, state)
    try:
        plan = Plan(cfg)
    except ValueError as e:
        raise ProviderError("rateplan: %s" % e)
    if client is not None and needs_network(cfg):
        from . import gridx_customer

        gridx_customer.refresh(client, cfg, now_s, state, zone)
    wh = cycle_wh(state, cfg, now_s, zone)
    off = zone.offset_at(now_s)
    t0 = now_s - (now_s + off) % 3600
    hours = int(cfg.get("rateplan.hours") or 48)
    s = generate(cfg, t0, t0 + hours * 3600, 0, zone, plan, used_wh=wh)
    s.fetched_s = now_s
    return s
