"""Arcadia (formerly Genability) Smart Price: GET /rest/v1/prices/smart (../shared/APIS.md §1).

One request per fetch, HTTP Basic appId:appKey. The answer is the usual envelope
{status, count, type, results: [Price]}; each Price has metadata and `priceChanges[]`, each one
period {name, fromDateTime, toDateTime, rateAmount ($/kWh), rateMeanDelta}. The body is read
once, as a stream: every PriceChange goes straight into the Schedule, and the list is never
built. Without groupBy there is one entry per real price change (irregular, clipped to the
requested window); with groupBy=HOUR one per clock hour (23 or 25 on DST days; times carry their
own offsets and are converted to UTC at once).

Smart Price may answer for the customer's configured "smart tariff" rather than the requested
masterTariffId; the schedule then records the tariff the prices are really for (tariff_id), and
the mismatch is noted in tariff_desc and in state["arcadia.tariff_note"].

Memory: the fetch path loads only this module. CONFIG (the "arcadia.*" settings) lives in
arcadia_settings and the error-envelope handling in arcadia_errors, both imported on first use;
the schedule's arrays are reserved before the request, while the heap is least fragmented.

Bounds (a careless server must not crash or mislead the plug): an entry outside the horizon
(the requested window widened by HORIZON_MARGIN_S each side; APIs write year 9999 for "open
ended") is dropped, one reaching past it is clipped to it; at most MAX_PER_HOUR intervals per
requested hour (+2) are kept, the rest left out. Each is said in state["arcadia.warning"], which
the app logs. Prices outside ±999.999999/kWh are refused (ProviderError).

PUBLISH_LOCAL_MIN = 17:00 local. Smart Price is computed from tariff data, so TOU prices for
the requested window are known any time; for day-ahead dynamic tariffs (CAISO day-ahead results
come out early afternoon Pacific and utilities publish them later in the afternoon) 17:00 is when
tomorrow is reliably there. The app adds its own delay and per-device spread.
"""

from ..clock.iso import TimeFormatError, format_iso, parse_iso
from ..formats import jsonstream
from ..prices.schedule import Schedule, price_u
from . import AuthError, NoData, ProviderError

NEEDS_NETWORK = True
PUBLISH_LOCAL_MIN = 17 * 60
PATH = "/rest/v1/prices/smart"
MAX_PER_HOUR = 4  # 15-minute prices: the finest the plan and the heap are sized for
HORIZON_MARGIN_S = 86400


def __getattr__(name):
    # CONFIG (the "arcadia.*" config.Fields) lives in arcadia_settings, loaded on first use:
    # fetching needs neither the config module nor the settings' help texts.
    if name in ("CONFIG", "DEFAULT_BASE", "GROUP_BY"):
        from . import arcadia_settings

        return getattr(arcadia_settings, name)
    raise AttributeError(name)


# Paths selected from the body, in one pass. The key names appear here as literals, so on
# MicroPython they are interned and the parser does not allocate a str per key.
_STATUS = 0
_TYPE = 1
_DESC = 2
_TARIFF = 3
_CURRENCY = 4
_DETAIL = 5
_MEAN = 6
_STD = 7
_CHANGE = 8
_ECODE = 9
_EMSG = 10
_EOBJ = 11
_EPROP = 12
_PATHS = ("status", "type", "results.*.description", "results.*.masterTariffId",
          "results.*.currency", "results.*.detailLevel", "results.*.rateMean",
          "results.*.rateStandardDeviation", "results.*.priceChanges.*",
          "results.*.code", "results.*.message", "results.*.objectName",
          "results.*.propertyName")


def _cfg(cfg, key):
    v = cfg.get("arcadia." + key)
    return None if v is None or v == "" else v


def _num(v):
    if isinstance(v, float) and -1e15 < v < 1e15 and v == int(v):  # not inf, nan (int raises)
        v = int(v)
    return str(v)


def _window(cfg, now_s):
    """(from, to) of the request: from the start of the current hour (the price now is known),
    `arcadia.hours` ahead."""
    t0 = now_s - now_s % 3600
    return t0, t0 + int(_cfg(cfg, "hours") or 48) * 3600


def params(cfg, now_s):
    """The query as (name, value) pairs: the window and every setting that is set."""
    t0, t1 = _window(cfg, now_s)
    q = [("fromDateTime", format_iso(t0, 0, False)),
         ("toDateTime", format_iso(t1, 0, False))]
    for key in ("masterTariffId", "zipCode", "postCode", "country", "addressString",
                "customerClass", "endUse", "groupBy", "territoryId", "consumptionAmount",
                "demandAmount", "pageStart", "pageCount"):
        v = _cfg(cfg, key)
        if v is None or (key == "groupBy" and v == "none"):
            continue
        q.append((key, v if isinstance(v, str) else _num(v)))
    return q


def url(cfg):
    base = _cfg(cfg, "baseUrl") or "https://api.genability.com"
    return (base[:-1] if base.endswith("/") else base) + PATH


def fetch(client, cfg, now_s, state):
    """Schedule of Smart Prices from the start of the current hour, `arcadia.hours` ahead."""
    app_id, app_key = _cfg(cfg, "appId"), _cfg(cfg, "appKey")
    if not app_id or not app_key:
        raise AuthError("arcadia: arcadia.appId and arcadia.appKey must be set")
    s = _new(cfg, now_s)  # its arrays are allocated while the heap is least fragmented
    resp = client.get(url(cfg), params=params(cfg, now_s), auth=("basic", app_id, app_key),
                      headers={"Accept": "application/json"})
    try:
        if resp.status >= 400:  # the error path lives in arcadia_errors (loaded on demand)
            from .arcadia_errors import raise_error_body

            raise_error_body(resp)
        return parse(resp, cfg, now_s, state, s)
    finally:
        resp.close()


def _s(v):
    return "" if v is None else str(v)


def _new(cfg, now_s):
    """An empty Schedule with room for the largest answer expected (15-minute prices without
    groupBy), allocated at once: growing the arrays item by item fragments a small heap. The
    room is transient (the app merges this schedule into a new one)."""
    s = Schedule("arcadia", "USD", "kWh")
    s.fetched_s = now_s
    group = _cfg(cfg, "groupBy")
    hours = int(_cfg(cfg, "hours") or 48)
    s.reserve(hours * 4 + 2 if group in (None, "none") else hours + 2 if group == "HOUR" else 8)
    return s


def parse(source, cfg, now_s, state, s=None):
    """Stream a Smart Price body (bytes or a response) into a Schedule (`s`, if given: an
    empty one from _new)."""
    if s is None:
        s = _new(cfg, now_s)
    requested = _cfg(cfg, "masterTariffId")
    status = None
    err = None
    codes = []
    mean = None
    pending = []  # entries priced by rateMeanDelta before rateMean came: their indices in s
    t0, t1 = _window(cfg, now_s)
    lo, hi = t0 - HORIZON_MARGIN_S, t1 + HORIZON_MARGIN_S
    cap = (t1 - t0) // 3600 * MAX_PER_HOUR + 2
    n_changes = 0
    seen = [0, 0, 0, 0]  # [1] clipped to the horizon, [2] dropped (outside), [3] over cap
    try:
        for k, v in jsonstream.items(source, _PATHS):
            if k == _CHANGE:
                if len(s) >= cap:
                    seen[3] += 1
                    continue  # the rest is still parsed (strictly), not kept
                r = _add_change(s, v, mean, lo, hi, pending)
                if r < 2:
                    n_changes += 1
                seen[r] += 1
            elif k == _STATUS:
                status = v
            elif k >= _ECODE:
                if err is None or k == _ECODE:
                    err = ["", "", "", ""]
                    codes.append(err)
                err[k - _ECODE] = _s(v)
            elif k == _DESC:
                s.tariff_desc = _s(v)
            elif k == _TARIFF:
                s.tariff_id = _s(_num(v) if isinstance(v, (int, float)) else v)
            elif k == _CURRENCY:
                s.currency = _s(v) or "USD"
            elif k == _DETAIL:
                state["arcadia.detailLevel"] = _s(v)
            elif k == _MEAN:
                mean = s.mean_u = _price(v, "rateMean")
                for i in pending:  # JSON objects are unordered: the mean may come last
                    s.prices[i] += mean
                pending = []
            elif k == _STD:
                s.std_u = _price(v, "rateStandardDeviation")
    except jsonstream.JSONError as e:
        raise ProviderError("arcadia: bad response: %s" % e)
    if pending:
        raise ProviderError("arcadia: %d price change(s) with rateMeanDelta only and no rateMean"
                            % len(pending))
    if status == "error":
        from .arcadia_errors import error

        raise error([tuple(c) for c in codes], 200)
    note = _bounds_note(seen, lo, hi, cap)
    if n_changes == 0:
        raise NoData("arcadia: no prices for this tariff/location and window%s"
                     % (" (%s)" % note if note else ""))
    if note:
        state["arcadia.warning"] = note
    else:
        state.pop("arcadia.warning", None)
    if requested is not None and s.tariff_id and s.tariff_id != _num(requested):
        note = "prices are for masterTariffId %s (requested %s)" % (s.tariff_id,
                                                                     _num(requested))
        state["arcadia.tariff_note"] = note
        s.tariff_desc = (s.tariff_desc + "; " if s.tariff_desc else "") + note
    else:
        state.pop("arcadia.tariff_note", None)
    return s


def _price(v, what):
    try:
        return price_u(v)
    except ValueError as e:
        raise ProviderError("arcadia: %s: %s" % (what, e))


def _bounds_note(seen, lo, hi, cap):
    """What a careless answer lost, in one line (or "")."""
    out = []
    if seen[2]:
        out.append("%d price change(s) outside %s..%s dropped" % (seen[2], format_iso(lo),
                                                                   format_iso(hi)))
    if seen[1]:
        out.append("%d price change(s) clipped to %s..%s" % (seen[1], format_iso(lo),
                                                              format_iso(hi)))
    if seen[3]:
        out.append("answer cut at %d intervals (%d per hour asked); %d price change(s) "
                   "left out" % (cap, MAX_PER_HOUR, seen[3]))
    return "; ".join(out)


def _add_change(s, pc, mean_u, lo, hi, pending):
    """Add one PriceChange clipped to [lo, hi); 0 added, 1 clipped, 2 dropped (outside). One
    priced by rateMeanDelta before rateMean is known gets the delta, its index in `pending`."""
    if not isinstance(pc, dict):
        raise ProviderError("arcadia: priceChanges entry is not an object")
    try:
        t0 = parse_iso(pc["fromDateTime"])
        t1 = parse_iso(pc["toDateTime"])
        if t1 <= lo or t0 >= hi:
            return 2
        clipped = t0 < lo or t1 > hi
        amount = pc.get("rateAmount")
        if amount is not None:
            p = price_u(amount)
        elif pc.get("rateMeanDelta") is not None:
            p = price_u(pc["rateMeanDelta"]) + (0 if mean_u is None else mean_u)
        else:
            raise ProviderError("arcadia: price change at %s has no rateAmount"
                                % pc["fromDateTime"])
        s.add(max(t0, lo), min(t1, hi), p, pc.get("name"))
        if amount is None and mean_u is None:
            pending.append(len(s) - 1)
        return 1 if clipped else 0
    except KeyError as e:
        raise ProviderError("arcadia: price change without %s" % e)
    except TimeFormatError as e:
        raise ProviderError("arcadia: %s" % e)
    except ProviderError:
        raise
    except ValueError as e:  # out of order, overlapping, bad number
        raise ProviderError("arcadia: bad price change %s..%s: %s"
                            % (pc.get("fromDateTime"), pc.get("toDateTime"), e))
