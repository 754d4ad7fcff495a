"""GridX Pricing API (PG&E and SCE dynamic prices, CalFUSE), ../shared/APIS.md §2.

    GET <pricing URL>?utility=PGE&market=DAM&program=CalFUSE&ratename=EV2AS
        &representativeCircuitId=013532223[&cca=PCE]&startdate=YYYYMMDD&enddate=YYYYMMDD

Public, no auth. Dates are local Pacific days, inclusive: today and the next `gridx.days` - 1
days (default 2: today + tomorrow; at most 14, the documented maximum span). The body
{meta {code, response}, data [{priceHeader, priceDetails [...]}]} is read once, as a stream:
each priceDetails entry ({startIntervalTimeStamp, intervalPrice "0.053046", priceStatus,
priceComponents[]}) goes straight into the Schedule, ending `intervalLengthInMinutes` after its
start. Prices are decimal strings turned into micro-dollars digit by digit (no float). Time
stamps carry their own offsets (-0800 or -08:00), so DST days with 23 or 25 records (local 01:00
twice) need nothing special. A priceStatus other than "Final" (e.g. "Preliminary") is a
forecast: FLAG_FORECAST, and the next fetch's prices replace it (Schedule.merge: newer wins).

"No data" is NoData with GridX's message: HTTP 204 (empty, or with a body), or HTTP 200 whose
meta.code is not 200 (e.g. 204 "The provided rate code does not match the selected utility"),
or no intervals at all. Other HTTP errors raise the http client's HTTPError.

Publication: PG&E posts prices ~16:30 PT (final ~18:30), SCE ~18:00 PT. PUBLISH_LOCAL_MIN is the
PG&E time; publish_local_min(cfg) gives gridx.publishMin or the utility's time.

The Customer Information & Usage API (gridx_customer.py, imported on use): autoconfigure()
sets ratename, circuit and CCA from Customer Info; the rate plan's counter takes the billing
cycle's usage from Customer Usage (rateplan.usage = gridx). Its host, paths, headers and the
ids' encoding are settings below, defaulting to the community spec (unverified, APIS.md §2).
"""

from ..clock.iso import TimeFormatError, civil_from_days, parse_iso
from ..config import Field, parse_url
from ..formats import jsonstream
from ..prices.schedule import FLAG_FORECAST, Schedule, price_u
from . import NoData, ProviderError

NEEDS_NETWORK = True
PUBLISH_LOCAL_MIN = 16 * 60 + 30  # PG&E; SCE is 18:00 (publish_local_min(cfg))
PUBLISH_BY_UTILITY = {"PGE": 16 * 60 + 30, "SCE": 18 * 60}
PACIFIC = "PST8PDT,M3.2.0,M11.1.0"
MAX_DAYS = 14
PRODUCTION = "https://pe-api.gridx.com/v1/getPricing"
STAGE = {"PGE": "https://pge-pe-api.gridx.com/stage/v1/getPricing",
         "SCE": "https://pe-api.gridx.com/stage/v1/getPricing"}
CUSTOMER_URL = "https://pge-pe-api.gridx.com/v1"  # community spec's server; unverified
CCAS = ("", "PCE", "AVA", "SVCE", "MCE", "VCE", "SJCE", "3CE", "PIO")

CONFIG = (
    Field("gridx.utility", "dropdown", "PGE", choices=("PGE", "SCE"), help="utility"),
    Field("gridx.ratename", "text", "", hi=32, help="rate + voltage class, e.g. EV2AS, TOU-D-49"),
    Field("gridx.representativeCircuitId", "text", "", hi=40,
          help="PG&E: 9-digit feeder id with leading zeros; SCE: substation name"),
    Field("gridx.cca", "dropdown", "", choices=CCAS, help="PG&E community choice aggregator"),
    Field("gridx.market", "text", "DAM", hi=8, help="market (only DAM is accepted)"),
    Field("gridx.program", "text", "CalFUSE", hi=16, help="program (only CalFUSE is accepted)"),
    Field("gridx.stage", "flag", False, help="use the stage (test) service"),
    Field("gridx.productionUrl", "text", PRODUCTION, hi=160, help="getPricing URL, production",
          parse=parse_url, expect="an http(s) URL"),
    Field("gridx.stageUrl", "text", "", hi=160, help="getPricing URL, stage; empty = utility's",
          parse=parse_url, expect="an http(s) URL"),
    Field("gridx.days", "number", 2, lo=1, hi=MAX_DAYS, integer=True, unit="days",
          help="local days requested from today (2 = today + tomorrow)"),
    Field("gridx.publishMin", "number", None, lo=0, hi=1439, integer=True, unit="min",
          help="local minute prices are published; empty = PG&E 16:30, SCE 18:00"),
    Field("gridx.clientId", "text", "", hi=128, help="Customer Info client id (from utility)"),
    Field("gridx.clientSecret", "secret", "", hi=256, help="Customer Info client secret"),
    Field("gridx.contractId", "text", "", hi=64, help="Customer Info X-Contract-Id"),
    Field("gridx.customerUuid", "text", "", hi=64, help="Customer Info X-Customer-Uuid"),
    Field("gridx.customerUrl", "text", CUSTOMER_URL, hi=160,
          help="Customer Information & Usage API base URL (unverified default)",
          parse=parse_url, expect="an http(s) URL"),
    Field("gridx.tokenPath", "text", "/auth/token", hi=64, help="its token path"),
    Field("gridx.infoPath", "text", "/customer/info", hi=64, help="Customer Info path"),
    Field("gridx.usagePath", "text", "/customer/usage", hi=64, help="Customer Usage path"),
    Field("gridx.contractHeader", "text", "X-Contract-Id", hi=40,
          help="header carrying gridx.contractId"),
    Field("gridx.customerHeader", "text", "X-Customer-Uuid", hi=40,
          help="header carrying gridx.customerUuid"),
    Field("gridx.idEncoding", "dropdown", "base64", choices=("base64", "plain"),
          help="how the two ids go in their headers (the community spec: base64)"),
    Field("gridx.usageMin", "number", 720, lo=60, hi=10080, integer=True, unit="min",
          help="ask Customer Usage for the billing cycle's consumption this often"),
)

_CODE = 0
_MSG = 1
_HEADER = 2
_DETAIL = 3
_PATHS = ("meta.code", "meta.response", "data.*.priceHeader", "data.*.priceDetails.*")


def _g(cfg, key):
    v = cfg.get("gridx." + key)
    return None if v is None or v == "" else v


def publish_local_min(cfg):
    v = _g(cfg, "publishMin")
    return v if v is not None else PUBLISH_BY_UTILITY.get(_g(cfg, "utility") or "PGE",
                                                         PUBLISH_LOCAL_MIN)


def url(cfg):
    if cfg.get("gridx.stage"):
        return _g(cfg, "stageUrl") or STAGE.get(_g(cfg, "utility") or "PGE", STAGE["PGE"])
    return _g(cfg, "productionUrl") or PRODUCTION


def zone():
    from ..clock.tz import Zone

    return Zone(PACIFIC)


def _ymd(days):
    y, m, d = civil_from_days(days)
    return "%04d%02d%02d" % (y, m, d)


def params(cfg, now_s, z=None):
    """The query as (name, value) pairs; dates are Pacific local days from today."""
    z = z or zone()
    today = (now_s + z.offset_at(now_s)) // 86400
    days = min(max(int(_g(cfg, "days") or 2), 1), MAX_DAYS)
    q = [("utility", _g(cfg, "utility") or "PGE"), ("market", _g(cfg, "market") or "DAM"),
         ("program", _g(cfg, "program") or "CalFUSE")]
    for key in ("ratename", "representativeCircuitId"):
        v = _g(cfg, key)
        if v is None:
            raise ProviderError("gridx: gridx.%s must be set (or run gridx.autoconfigure)" % key)
        q.append((key, v))
    if _g(cfg, "cca"):
        q.append(("cca", _g(cfg, "cca")))
    q.append(("startdate", _ymd(today)))
    q.append(("enddate", _ymd(today + days - 1)))
    return q


def fetch(client, cfg, now_s, state):
    """Prices for today and the following gridx.days - 1 Pacific days."""
    resp = client.get(url(cfg), params=params(cfg, now_s), headers={"Accept": "application/json"})
    try:
        if resp.status == 204:
            raise NoData("gridx: no data (HTTP 204)%s" % _message(resp))
        if resp.status >= 400:
            resp.raise_for_status()
            raise ProviderError("gridx: HTTP %d" % resp.status)
        return parse(resp, now_s, state)
    finally:
        resp.close()


def _message(resp):
    """': <meta.response>' from a 204 body if it has one (a 204 may come without a body)."""
    try:
        for v in jsonstream.items(resp, "meta.response"):
            if isinstance(v, str) and v:
                return ": " + v
    except (jsonstream.JSONError, OSError, ValueError):
        pass
    return ""


def parse(source, now_s, state):
    """Stream a getPricing body (bytes or a response) into a Schedule."""
    s = Schedule("gridx", "USD", "kWh")
    s.fetched_s = now_s
    code = msg = None
    step = 3600
    n = forecasts = 0
    try:
        for k, v in jsonstream.items(source, _PATHS):
            if k == _DETAIL:
                if _add(s, v, step):
                    forecasts += 1
                n += 1
            elif k == _HEADER:
                step, name = _header(s, v)
                if name:
                    s.tariff_id = name
            elif k == _CODE:
                code = v
            else:
                msg = v
    except jsonstream.JSONError as e:
        raise ProviderError("gridx: bad response: %s" % e)
    if code is not None and code != 200:
        raise NoData("gridx: no data (meta.code %s)%s" % (code, (": " + msg) if msg else ""))
    if n == 0:
        raise NoData("gridx: no intervals in the answer%s" % ((": " + msg) if msg else ""))
    state["gridx.forecast_intervals"] = forecasts
    return s


def _header(s, h):
    if not isinstance(h, dict):
        raise ProviderError("gridx: priceHeader is not an object")
    minutes = h.get("intervalLengthInMinutes") or 60
    if not isinstance(minutes, int) or not 0 < minutes <= 1440:
        raise ProviderError("gridx: bad intervalLengthInMinutes %r" % (minutes,))
    cur = h.get("settlementCurrency")
    if cur:
        s.currency = cur
    unit = h.get("settlementUnit")
    if unit:
        s.unit = unit
    return minutes * 60, h.get("priceCurveName")


def _add(s, d, step):
    """Add one priceDetails entry; True if it is a forecast."""
    if not isinstance(d, dict):
        raise ProviderError("gridx: priceDetails entry is not an object")
    ts = d.get("startIntervalTimeStamp")
    try:
        t = parse_iso(ts)
        p = price_u(d["intervalPrice"])
        status = d.get("priceStatus")
        fc = status is not None and status != "Final"
        s.add(t, t + step, p, None, FLAG_FORECAST if fc else 0)
        return fc
    except KeyError:
        raise ProviderError("gridx: interval %s has no intervalPrice" % ts)
    except TimeFormatError as e:
        raise ProviderError("gridx: %s" % e)
    except ValueError as e:  # overlapping / out of order / bad price
        raise ProviderError("gridx: bad interval %s: %s" % (ts, e))


# -- Customer Information & Usage (gridx_customer.py) ------------------------------------------
def autoconfigure(client, cfg, now_s, state):
    """Settings to apply (cfg.update(...); config.save) so getPricing can be called."""
    from . import gridx_customer

    return gridx_customer.settings_from(
        gridx_customer.customer_info(client, cfg, now_s, state), CCAS)
