"""aWATTar market data (Austria and Germany; free, no key): EPEX day-ahead prices.

    GET https://api.awattar.at/v1/marketdata?start=<epoch ms>&end=<epoch ms>  (api.awattar.de)
    -> {"object": "list", "data": [{"start_timestamp": 1428591600000, "end_timestamp":
        1428595200000, "marketprice": 42.09, "unit": "Eur/MWh"}, ...], "url": "/at/v1/marketdata"}

Times are UTC epoch milliseconds, each entry carries its own end (hourly, or 15 minutes where the
market is), so DST days need nothing special. Prices are EUR/MWh, possibly negative -> integer
micro-EUR per kWh. Entries are streamed one by one into the Schedule, in time order.

No entries: NoData. An entry in another unit is a ProviderError; HTTP errors (aWATTar limits
requests per day and answers 429) are the client's HTTPError with Retry-After. EPEX results
come out about 12:45 CET and aWATTar has them soon after: PUBLISH_LOCAL_MIN 14:00.
"""

from ..config import Field, parse_url
from ..formats import jsonstream
from ..prices.schedule import Schedule
from . import NoData, ProviderError, mwh_u

NEEDS_NETWORK = True
PUBLISH_LOCAL_MIN = 14 * 60
HOSTS = {"at": "https://api.awattar.at", "de": "https://api.awattar.de"}
PATH = "/v1/marketdata"

CONFIG = (
    Field("awattar.country", "dropdown", "at", choices=("at", "de"),
          help="market: at (Austria) or de (Germany-Luxembourg)"),
    Field("awattar.hours", "number", 48, lo=1, hi=168, unit="h", integer=True,
          help="hours ahead to request from the current hour"),
    Field("awattar.baseUrl", "text", "", hi=128,
          help="API base URL; empty = api.awattar.at/.de by awattar.country",
          parse=parse_url, expect="an http(s) URL"),
)


def _g(cfg, key, default):
    v = cfg.get("awattar." + key)
    return default if v is None or v == "" else v


def url(cfg):
    base = _g(cfg, "baseUrl", None) or HOSTS[_g(cfg, "country", "at")]
    return (base[:-1] if base.endswith("/") else base) + PATH


def params(cfg, now_s):
    t0 = now_s - now_s % 3600
    t1 = t0 + int(_g(cfg, "hours", 48)) * 3600
    return [("start", "%d000" % t0), ("end", "%d000" % t1)]  # milliseconds, no big ints


def fetch(client, cfg, now_s, state):
    s = Schedule("awattar", "EUR", "kWh")
    s.fetched_s = now_s
    s.tariff_id = "EPEX %s" % _g(cfg, "country", "at").upper()
    s.reserve(int(_g(cfg, "hours", 48)) * 4 + 1)
    resp = client.get(url(cfg), params=params(cfg, now_s),
                      headers={"Accept": "application/json"})
    try:
        if resp.status >= 400:
            resp.raise_for_status()
        return parse(resp, now_s, s)
    finally:
        resp.close()


def parse(source, now_s, s=None):
    """Stream a marketdata answer (bytes or a response) into a Schedule."""
    if s is None:
        s = Schedule("awattar", "EUR", "kWh")
        s.fetched_s = now_s
    n = 0
    try:
        for d in jsonstream.items(source, "data.*"):
            if not isinstance(d, dict):
                raise ProviderError("awattar: data entry is not an object")
            unit = d.get("unit")
            if not isinstance(unit, str) or unit.lower() != "eur/mwh":
                raise ProviderError("awattar: unit %r, expected Eur/MWh" % (unit,))
            t0, t1 = d.get("start_timestamp"), d.get("end_timestamp")
            if not isinstance(t0, int) or not isinstance(t1, int) or t0 % 1000 or t1 % 1000:
                raise ProviderError("awattar: bad timestamps %r..%r" % (t0, t1))
            s.add(t0 // 1000, t1 // 1000, mwh_u(d.get("marketprice")))
            n += 1
    except jsonstream.JSONError as e:
        raise ProviderError("awattar: bad response: %s" % e)
    except ProviderError:
        raise
    except (ValueError, TypeError) as e:  # out of order, overlapping, a bad price
        raise ProviderError("awattar: bad entry: %s" % e)
    if not n:
        raise NoData("awattar: no prices in the window")
    return s
