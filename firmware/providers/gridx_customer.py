"""GridX Customer Information & Usage API: auto-configuration and the billing cycle's usage.

    POST <customerUrl><tokenPath>   HTTP Basic clientId:clientSecret -> Bearer token (oauth.py)
    GET  <customerUrl><infoPath>    -> {rateCode, voltageClass, rateCodeHasVoltageClass,
                                       circuitId, hasCca, cca, ...}
    GET  <customerUrl><usagePath>?start=<UTC>&end=<UTC>  -> {payloadDescriptors, intervalPeriod
                                       {start, duration}, intervals [{payloads [{type, values}]}]}
Both GETs send the contract and customer ids in the headers named by gridx.contractHeader and
gridx.customerHeader, base64-encoded or plain (gridx.idEncoding). UNVERIFIED against the live
service: host, paths, header names and encodings are settings with the community spec's values
as defaults (APIS.md §2), the answers' shapes are checked and a different one is an error
naming what was expected and what came.

Usage (usage_wh): the billing cycle so far ("pre-billing": the open cycle, start = its first
local midnight, end = the last whole hour; the service answers what its meter data covers).
CONSUMPTION values (kWh, or Wh per the descriptor) are summed into Wh; the data end is the
last interval's end. refresh() runs it when due (gridx.usageMin) and feeds rateplan's counter.
"""

from ..clock.iso import format_iso, parse_duration, parse_iso
from ..formats import jsonstream
from . import ProviderError
from .oauth import Credentials, bearer_request

ENCODINGS = ("base64", "plain")
_INFO_KEYS = ("rateCode", "circuitId")
_VOLTAGE = {"SECONDARY": "S", "PRIMARY": "P", "TRANSMISSION": "T"}
_USAGE_PATHS = ("intervalPeriod", "payloadDescriptors", "intervals.*")


def _g(cfg, key):
    """A gridx.* setting, else its default (the config holds only the sources in use: with
    source rateplan, the gridx.* defaults are not in it)."""
    v = cfg.get("gridx." + key)
    if v is None:
        from .gridx import CONFIG

        for f in CONFIG:
            if f.name == "gridx." + key:
                v = f.default
    return None if v is None or v == "" else v


def _base(cfg):
    b = _g(cfg, "customerUrl") or ""
    return b[:-1] if b.endswith("/") else b


def credentials(cfg):
    return Credentials("gridx", _base(cfg) + (_g(cfg, "tokenPath") or "/auth/token"),
                       _g(cfg, "clientId"), _g(cfg, "clientSecret"), basic=True)


def _id(cfg, key):
    v = _g(cfg, key)
    if not v:
        raise ProviderError("gridx: gridx.%s must be set for the Customer API" % key)
    if (_g(cfg, "idEncoding") or "base64") == "base64":
        import binascii

        v = binascii.b2a_base64(str(v).encode()).decode().strip()
    return v


def _get(client, cfg, now_s, state, path_key, default, params=None):
    hdr = {"Accept": "application/json",
           _g(cfg, "contractHeader") or "X-Contract-Id": _id(cfg, "contractId"),
           _g(cfg, "customerHeader") or "X-Customer-Uuid": _id(cfg, "customerUuid")}
    path = _g(cfg, path_key) or default
    resp = bearer_request(client, state, now_s, credentials(cfg), "GET", _base(cfg) + path,
                          params=params, headers=hdr)
    if resp.status >= 400:
        try:
            resp.raise_for_status()
        finally:
            resp.close()
        raise ProviderError("gridx: %s HTTP %d" % (path, resp.status))
    return resp, path


def _what(doc):
    if isinstance(doc, dict):
        return "an object with %s" % (", ".join(sorted(doc)) or "no fields")
    if isinstance(doc, list):
        return "a list of %d" % len(doc)
    return "%r" % (doc,)


# -- Customer Info -> settings --------------------------------------------------------------
def customer_info(client, cfg, now_s, state):
    """The Customer Info document (small; parsed whole)."""
    resp, path = _get(client, cfg, now_s, state, "infoPath", "/customer/info")
    try:
        for doc in jsonstream.items(resp, ""):
            return doc
    except jsonstream.JSONError as e:
        raise ProviderError("gridx: %s: not JSON: %s" % (path, e))
    finally:
        resp.close()
    raise ProviderError("gridx: %s: empty answer" % path)


def settings_from(doc, ccas):
    """{setting: value} for getPricing from a Customer Info document."""
    ok = isinstance(doc, dict) and isinstance(doc.get("rateCode"), str) and doc["rateCode"] \
        and isinstance(doc.get("circuitId"), (str, int)) and not isinstance(doc["circuitId"],
                                                                             bool)
    if not ok:
        raise ProviderError("gridx: Customer Info: expected an object with rateCode and "
                            "circuitId (voltageClass, hasCca, cca), got %s" % _what(doc))
    rate = doc["rateCode"]
    vc = doc.get("voltageClass")
    if vc and doc.get("rateCodeHasVoltageClass") is not True:
        letter = _VOLTAGE.get(str(vc).upper(), str(vc).upper())
        if len(letter) != 1:
            raise ProviderError("gridx: Customer Info: voltageClass %r; expected one of %s or "
                                "a letter" % (vc, ", ".join(_VOLTAGE)))
        rate += letter  # getPricing's ratename: rate code + voltage class (EV2A + S)
    out = {"gridx.ratename": rate, "gridx.representativeCircuitId": str(doc["circuitId"])}
    if doc.get("hasCca") is False:
        out["gridx.cca"] = ""
    elif doc.get("cca"):
        if doc["cca"] not in ccas:
            raise ProviderError("gridx: Customer Info: cca %r; expected one of %s"
                                % (doc["cca"], ", ".join(c for c in ccas if c)))
        out["gridx.cca"] = doc["cca"]
    if doc.get("utility") in ("PGE", "SCE"):
        out["gridx.utility"] = doc["utility"]
    return out


# -- Customer Usage -> Wh in the billing cycle ------------------------------------------------
def _micro(v):
    """A usage value in millionths of its unit (kWh -> mWh), rounded half away from zero."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(v)
    x = v * 1000000
    return int(x + 0.5) if x >= 0 else -int(0.5 - x)


def usage_wh(client, cfg, now_s, state, start_s, end_s):
    """(Wh of CONSUMPTION in [start_s, end_s), UTC second its data ends)."""
    q = [("start", format_iso(start_s)), ("end", format_iso(end_s))]
    resp, path = _get(client, cfg, now_s, state, "usagePath", "/customer/usage", q)
    unit, t0, dur = "KWH", None, 3600  # PT1H unless intervalPeriod says otherwise
    total = n = 0
    last = None  # end of the last interval that had CONSUMPTION
    try:
        for k, v in jsonstream.items(resp, _USAGE_PATHS):
            if k == 0:
                if not isinstance(v, dict) or "start" not in v:
                    raise ProviderError("gridx: %s: intervalPeriod: expected {start, duration}, "
                                        "got %s" % (path, _what(v)))
                t0, dur = parse_iso(v["start"]), parse_duration(v.get("duration") or "PT1H")
            elif k == 1:
                for d in v if isinstance(v, list) else ():
                    if isinstance(d, dict) and d.get("payloadType") == "CONSUMPTION":
                        unit = str(d.get("units") or "KWH").upper()
            else:
                if not isinstance(v, dict) or not isinstance(v.get("payloads"), list):
                    raise ProviderError("gridx: %s: intervals: expected {payloads [{type, "
                                        "values}]}, got %s" % (path, _what(v)))
                for p in v["payloads"]:
                    if isinstance(p, dict) and p.get("type") == "CONSUMPTION":
                        for x in p.get("values") or ():
                            total += _micro(x)  # the unit may come later: applied at the end
                        last = n
                n += 1
    except jsonstream.JSONError as e:
        raise ProviderError("gridx: %s: not JSON: %s" % (path, e))
    except (ValueError, TypeError) as e:  # TimeFormatError is a ValueError
        raise ProviderError("gridx: %s: bad usage value or time: %s" % (path, e))
    finally:
        resp.close()
    if t0 is None:
        raise ProviderError("gridx: %s: expected {payloadDescriptors, intervalPeriod {start, "
                            "duration}, intervals [...]}, got no intervalPeriod" % path)
    if unit not in ("KWH", "WH"):
        raise ProviderError("gridx: %s: CONSUMPTION in %s; expected KWH or WH" % (path, unit))
    data_end = start_s if last is None else t0 + (last + 1) * dur
    return total // (1000 if unit == "KWH" else 1000000), min(data_end, end_s)


def refresh(client, cfg, now_s, state, zone):
    """If due (gridx.usageMin after the last try), fetch the cycle's usage so far and hand it
    to the rate plan's counter. Returns the Wh or None; a failure is kept in
    state["rateplan.usage_err"] for status and retried at the next due time (the plug goes on
    with its own estimate): it never fails the price fetch."""
    from . import rateplan

    if client is None or now_s < state.get("rateplan.usage_next_s", 0):
        return None
    state["rateplan.usage_next_s"] = now_s + int(_g(cfg, "usageMin") or 720) * 60
    start = rateplan.cycle_start(now_s, int(cfg.get("rateplan.meterDate") or 1), zone)
    end = now_s - now_s % 3600
    if end <= start:
        return None  # the first hour of a cycle: nothing to ask for yet
    try:
        wh, data_end = usage_wh(client, cfg, now_s, state, start, end)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - HTTP, data or auth: the plug's own estimate goes on
        state["rateplan.usage_err"] = str(e) or type(e).__name__
        return None
    state.pop("rateplan.usage_err", None)
    rateplan.set_usage(state, cfg, now_s, zone, wh, data_end)
    return wh
