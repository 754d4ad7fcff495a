"""ENTSO-E Transparency Platform (every EU bidding zone; free security token): day-ahead prices
(document A44), an XML answer read as a stream by formats/xmlstream.py.

    GET https://web-api.tp.entsoe.eu/api?documentType=A44&in_Domain=<EIC>&out_Domain=<EIC>
        &periodStart=202510021000&periodEnd=202510041000&securityToken=<token>
    -> <Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">
         <TimeSeries> [contract_MarketAgreement.type A01] [classificationSequence_...position]
           <currency_Unit.name>EUR</...> <price_Measure_Unit.name>MWH</...> <curveType>A03</...>
           <Period> <timeInterval><start>2025-10-01T22:00Z</start><end>...</end></timeInterval>
             <resolution>PT15M</resolution>
             <Point><position>1</position><price.amount>85.12</price.amount></Point> ...

A point's time is the period start + (position - 1) x resolution (UTC: DST days have 92/100
quarter hours and need nothing special). Curve A03 leaves out a point that repeats the one
before: a point lasts until the next given position or the period's end. A01: one resolution.
Prices are EUR/MWh decimal text -> integer micro-EUR per kWh, digit by digit. TimeSeries of
another contract type (A07 intraday) are skipped; with entsoe.sequence set only that
classification sequence is used (DE-LU/AT publish SDAC and EXAA prices); time already covered by
an earlier series is skipped (state["entsoe.skipped"] counts its intervals).

An Acknowledgement_MarketDocument (Reason code 999 "No matching data found") is NoData; other
reasons a ProviderError; HTTP 401 an AuthError; a wrong namespace or malformed XML a
ProviderError. Day-ahead results are published from about 12:45 CET: PUBLISH_LOCAL_MIN 13:30.
"""

from ..clock.iso import TimeFormatError, format_iso, parse_duration, parse_iso
from ..formats import xmlstream
from ..prices.schedule import Schedule
from . import AuthError, NoData, ProviderError, mwh_u

NEEDS_NETWORK = True
PUBLISH_LOCAL_MIN = 13 * 60 + 30
DEFAULT_BASE = "https://web-api.tp.entsoe.eu/api"
NAMESPACES = ("urn:iec62325.351:tc57wg16:451-3:publicationdocument:",
              "urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:")
ZONES = ("AT", "10YAT-APG------L", "BE", "10YBE----------2", "CH", "10YCH-SWISSGRIDZ",
         "CZ", "10YCZ-CEPS-----N", "DE-LU", "10Y1001A1001A82H", "DK1", "10YDK-1--------W",
         "DK2", "10YDK-2--------M", "EE", "10Y1001A1001A39I", "ES", "10YES-REE------0",
         "FI", "10YFI-1--------U", "FR", "10YFR-RTE------C", "NL", "10YNL----------L",
         "NO1", "10YNO-1--------2", "NO2", "10YNO-2--------T", "PL", "10YPL-AREA-----S",
         "PT", "10YPT-REN------W", "SE3", "10Y1001A1001A46L", "SE4", "10Y1001A1001A47J")


def eic(zone):
    """The EIC code of a zone name in ZONES, or a 16-character EIC code itself."""
    z = (zone or "").strip()
    for k in range(0, len(ZONES), 2):
        if ZONES[k] == z.upper():
            return ZONES[k + 1]
    if len(z) == 16 and z[:2] == "10":
        return z
    raise ValueError("not a bidding zone")


def __getattr__(name):
    # CONFIG (the "entsoe.*" config.Fields) lives in entsoe_settings, loaded on first use:
    # fetching needs neither the config module nor the settings' help texts.
    if name == "CONFIG":
        from .entsoe_settings import CONFIG

        return CONFIG
    raise AttributeError(name)


_R = "Publication_MarketDocument/TimeSeries/"
_A = "Acknowledgement_MarketDocument/Reason/"
_PATHS = (_R + "Period/Point/position", _R + "Period/Point/price.amount", _R + "Period/Point",
          _R + "Period/timeInterval/start", _R + "Period/timeInterval/end",
          _R + "Period/resolution", _R + "Period", "Publication_MarketDocument/TimeSeries",
          _R + "curveType", _R + "currency_Unit.name", _R + "price_Measure_Unit.name",
          _R + "contract_MarketAgreement.type",
          _R + "classificationSequence_AttributeInstanceComponent.position",
          _A + "code", _A + "text")
_POS, _AMT, _POINT, _PSTART, _PEND, _RES, _PERIOD, _SERIES = 0, 1, 2, 3, 4, 5, 6, 7
_CURVE, _CUR, _UNIT, _CONTRACT, _SEQ, _CODE, _TEXT = 8, 9, 10, 11, 12, 13, 14


def _g(cfg, key, default):
    v = cfg.get("entsoe." + key)
    return default if v is None or v == "" else v


def _stamp(t_s):
    iso = format_iso(t_s)  # 2025-10-02T10:00:00Z -> 202510021000
    return iso[0:4] + iso[5:7] + iso[8:10] + iso[11:13] + iso[14:16]


def params(cfg, now_s):
    try:
        code = eic(_g(cfg, "zone", "DE-LU"))
    except ValueError:
        raise ProviderError("entsoe: entsoe.zone %r is not a bidding zone" % cfg.get(
            "entsoe.zone"))
    t0 = now_s - now_s % 3600
    t1 = t0 + int(_g(cfg, "hours", 48)) * 3600
    return [("documentType", "A44"), ("in_Domain", code), ("out_Domain", code),
            ("periodStart", _stamp(t0)), ("periodEnd", _stamp(t1)),
            ("securityToken", _g(cfg, "token", ""))]


def fetch(client, cfg, now_s, state):
    if not _g(cfg, "token", ""):
        raise AuthError("entsoe: entsoe.token must be set")
    q = params(cfg, now_s)
    s = Schedule("entsoe", "EUR", "kWh")
    s.fetched_s = now_s
    s.tariff_id = "A44 %s" % _g(cfg, "zone", "DE-LU")
    s.reserve(int(_g(cfg, "hours", 48)) * 4 + 100)  # 15-minute points, whole days
    resp = client.get(_g(cfg, "baseUrl", DEFAULT_BASE), params=q,
                      headers={"Accept": "application/xml"})
    try:
        if resp.status >= 400:
            _raise_error(resp)
        return parse(resp, cfg, now_s, state, s)
    finally:
        resp.close()


class _Series:
    """What one TimeSeries says before its points (reset at its end)."""

    def __init__(self):
        self.curve = "A01"
        self.use = True
        self.unit = "MWH"
        self.p0 = None  # type: int | None
        self.p1 = None  # type: int | None
        self.res = None  # type: int | None
        self.pos = None  # type: int | None
        self.pending = None  # type: tuple | None
        self.amount = None  # type: str | None
        self.last = 0


def parse(source, cfg, now_s, state, s=None):
    """Stream an A44 answer (bytes or a response) into a Schedule."""
    if s is None:
        s = Schedule("entsoe", "EUR", "kWh")
        s.fetched_s = now_s
    want_seq = str(_g(cfg, "sequence", 0))
    ts = _Series()
    state["entsoe.skipped"] = 0
    currency = None
    code = text = None
    try:
        for k, v in xmlstream.items(source, _PATHS, namespaces=NAMESPACES):
            if k == _POS:
                ts.pos = int(v)
            elif k == _AMT:
                ts.amount = v
            elif k == _POINT:
                if ts.use:
                    _point(s, ts, state)
            elif k == _PSTART:
                ts.p0 = parse_iso(v)
            elif k == _PEND:
                ts.p1 = parse_iso(v)
            elif k == _RES:
                ts.res = parse_duration(v)
            elif k == _PERIOD:
                if ts.use:
                    _flush(s, ts, ts.p1, state)
                ts.p0 = ts.p1 = ts.res = ts.pending = None
                ts.last = 0
            elif k == _SERIES:
                ts = _Series()
            elif k == _CURVE:
                ts.curve = v
            elif k == _CUR:
                if currency is not None and v != currency:
                    raise ProviderError("entsoe: prices in %s and %s" % (currency, v))
                currency = s.currency = v
            elif k == _UNIT:
                if v.upper() != "MWH":
                    raise ProviderError("entsoe: prices per %s, expected MWH" % v)
            elif k == _CONTRACT:
                ts.use = ts.use and v == "A01"  # A07: intraday, not day-ahead
            elif k == _SEQ:
                ts.use = ts.use and (want_seq == "0" or v == want_seq)
            elif k == _CODE:
                code = v
            elif k == _TEXT:
                text = v
    except xmlstream.XMLError as e:
        raise ProviderError("entsoe: bad response: %s" % e)
    except TimeFormatError as e:
        raise ProviderError("entsoe: %s" % e)
    except ProviderError:
        raise
    except (ValueError, TypeError) as e:
        raise ProviderError("entsoe: bad point: %s" % e)
    if code is not None:
        _ack(code, text)
    if not len(s):
        raise NoData("entsoe: no day-ahead prices for %s in the window"
                     % _g(cfg, "zone", "DE-LU"))
    return s


def _point(s, ts, state):
    if ts.p0 is None or ts.res is None or ts.pos is None or ts.amount is None:
        raise ProviderError("entsoe: Point before its period's start and resolution")
    if ts.pos <= ts.last:
        raise ProviderError("entsoe: Point position %d after %d" % (ts.pos, ts.last))
    _flush(s, ts, ts.p0 + (ts.pos - 1) * ts.res, state)
    ts.pending = (ts.pos, mwh_u(ts.amount))
    ts.last = ts.pos
    ts.pos = ts.amount = None


def _flush(s, ts, until_s, state):
    """Add the pending point: to `until_s` (A03: the next point or the period's end) or for one
    resolution (A01); time an earlier series already priced is skipped."""
    if ts.pending is None:
        return
    pos, price = ts.pending
    ts.pending = None
    a = ts.p0 + (pos - 1) * ts.res
    b = a + ts.res if ts.curve != "A03" or until_s is None else until_s
    if ts.p1 is not None and b > ts.p1:
        b = ts.p1
    if len(s) and a < s.end_s:
        if b <= s.end_s:
            state["entsoe.skipped"] = state.get("entsoe.skipped", 0) + 1
            return
        a = s.end_s
    if b > a:
        s.add(a, b, price)


def _ack(code, text):
    msg = "entsoe: %s (reason %s)" % (text or "no reason given", code)
    if code == "999":
        raise NoData(msg)
    raise ProviderError(msg)


def _raise_error(resp):
    """An error status: its Acknowledgement reason, AuthError for 401, else HTTPError."""
    code = text = None
    try:
        for k, v in xmlstream.items(resp, (_A + "code", _A + "text"), namespaces=NAMESPACES):
            if k == 0:
                code = v
            else:
                text = v
    except xmlstream.XMLError:
        pass
    if resp.status == 401:
        raise AuthError("entsoe: HTTP 401: %s" % (text or "security token refused"))
    if code is None:
        resp.raise_for_status()
    e = ProviderError("entsoe: HTTP %d: %s (reason %s)" % (resp.status, text, code))
    e.status = resp.status
    e.retry_after_s = resp.retry_after_s
    raise e
