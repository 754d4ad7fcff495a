"""Energi Data Service (Energinet, Denmark; free, no key): day-ahead prices for DK1 and DK2.

    GET https://api.energidataservice.dk/dataset/DayAheadPrices?start=2025-10-02T10:00
        &end=2025-10-04T10:00&timezone=UTC&filter={"PriceArea":["DK1"]}&sort=TimeUTC asc
        &columns=TimeUTC,DayAheadPriceDKK
    -> {"total": 168, "dataset": "DayAheadPrices", "records": [{"TimeUTC":
        "2025-10-02T10:00:00", "DayAheadPriceDKK": 512.34}, ...]}

The dataset changed with the 15-minute day-ahead market: "DayAheadPrices" (TimeUTC,
DayAheadPriceDKK/EUR, 15-minute intervals, delivery from 2025-10-01) replaced "Elspotprices"
(HourUTC, SpotPriceDKK/EUR, hourly, up to 2025-09-30). energidataservice.dataset "auto" picks by
the window's start. Times are UTC without an offset (timezone=UTC); each record lasts its
dataset's interval. Prices are per MWh (DKK or EUR) -> integer micro-units per kWh. The body is
streamed record by record into the Schedule (sorted ascending by the request).

No records: NoData. An error answer ({"statusCode", "error", "message"}) is a ProviderError
with its message; other HTTP errors are the client's HTTPError. Prices for tomorrow appear
after the SDAC auction (about 12:45-13:00 Danish time): PUBLISH_LOCAL_MIN 13:30.
"""

from ..clock.iso import TimeFormatError, format_iso, parse_iso
from ..config import Field, parse_url
from ..formats import jsonstream
from ..prices.schedule import Schedule
from . import NoData, ProviderError, mwh_u

NEEDS_NETWORK = True
PUBLISH_LOCAL_MIN = 13 * 60 + 30
DEFAULT_BASE = "https://api.energidataservice.dk"
NEW_DATASET_S = 1759269600  # 2025-10-01T00:00 Danish time: DayAheadPrices from here on
# dataset -> (time field, price field prefix, interval seconds)
DATASETS = {"DayAheadPrices": ("TimeUTC", "DayAheadPrice", 900),
            "Elspotprices": ("HourUTC", "SpotPrice", 3600)}

CONFIG = (
    Field("energidataservice.area", "dropdown", "DK1", choices=("DK1", "DK2"),
          help="price area: DK1 west of the Great Belt, DK2 east"),
    Field("energidataservice.currency", "dropdown", "DKK", choices=("DKK", "EUR"),
          help="currency of the prices (and of price.* settings)"),
    Field("energidataservice.dataset", "dropdown", "auto",
          choices=("auto", "DayAheadPrices", "Elspotprices"),
          help="auto: DayAheadPrices (15 min) from 2025-10-01, Elspotprices (hourly) before"),
    Field("energidataservice.hours", "number", 48, lo=1, hi=168, unit="h", integer=True,
          help="hours ahead to request from the current hour"),
    Field("energidataservice.baseUrl", "text", DEFAULT_BASE, hi=128, help="API base URL",
          parse=parse_url, expect="an http(s) URL"),
)


def _g(cfg, key, default):
    v = cfg.get("energidataservice." + key)
    return default if v is None or v == "" else v


def dataset(cfg, t0_s):
    name = _g(cfg, "dataset", "auto")
    if name == "auto":
        return "DayAheadPrices" if t0_s >= NEW_DATASET_S else "Elspotprices"
    return name


def _minute(t_s):
    return format_iso(t_s)[:16]  # "2025-10-02T10:00" (UTC, with timezone=UTC)


def request(cfg, now_s):
    """(url, params, dataset name) for the window from the current hour."""
    t0 = now_s - now_s % 3600
    t1 = t0 + int(_g(cfg, "hours", 48)) * 3600
    name = dataset(cfg, t0)
    tfield, pfield, _step = DATASETS[name]
    base = _g(cfg, "baseUrl", DEFAULT_BASE)
    url = (base[:-1] if base.endswith("/") else base) + "/dataset/" + name
    q = [("start", _minute(t0)), ("end", _minute(t1)), ("timezone", "UTC"),
         ("filter", '{"PriceArea":["%s"]}' % _g(cfg, "area", "DK1")),
         ("sort", tfield + " asc"),
         ("columns", tfield + "," + pfield + _g(cfg, "currency", "DKK"))]
    return url, q, name


def fetch(client, cfg, now_s, state):
    url, q, name = request(cfg, now_s)
    s = _new(cfg, now_s, name)
    resp = client.get(url, params=q, headers={"Accept": "application/json"})
    try:
        if resp.status >= 400:
            _raise_error(resp)
        return parse(resp, cfg, now_s, name, s)
    finally:
        resp.close()


def _new(cfg, now_s, name):
    s = Schedule("energidataservice", _g(cfg, "currency", "DKK"), "kWh")
    s.fetched_s = now_s
    s.tariff_id = "%s %s" % (name, _g(cfg, "area", "DK1"))
    s.reserve(int(_g(cfg, "hours", 48)) * 3600 // DATASETS[name][2] + 1)
    return s


def parse(source, cfg, now_s, name="DayAheadPrices", s=None):
    """Stream an answer (bytes or a response) of dataset `name` into a Schedule."""
    if s is None:
        s = _new(cfg, now_s, name)
    tfield, pfield, step = DATASETS[name]
    pfield += _g(cfg, "currency", "DKK")
    n = 0
    try:
        for rec in jsonstream.items(source, "records.*"):
            if not isinstance(rec, dict) or tfield not in rec or rec.get(pfield) is None:
                raise ProviderError("energidataservice: record without %s and %s: %r"
                                    % (tfield, pfield, rec))
            t = parse_iso(rec[tfield] + "Z")
            s.add(t, t + step, mwh_u(rec[pfield]))
            n += 1
    except jsonstream.JSONError as e:
        raise ProviderError("energidataservice: bad response: %s" % e)
    except TimeFormatError as e:
        raise ProviderError("energidataservice: %s" % e)
    except ProviderError:
        raise
    except (ValueError, TypeError) as e:  # out of order, overlapping, a bad number
        raise ProviderError("energidataservice: bad record: %s" % e)
    if not n:
        raise NoData("energidataservice: no %s prices for %s in the window"
                     % (name, _g(cfg, "area", "DK1")))
    return s


def _raise_error(resp):
    """An error answer {"statusCode", "error", "message"} as a ProviderError, else HTTPError."""
    msg = None
    try:
        for k, v in jsonstream.items(resp, ("message", "error")):
            if msg is None or k == 0:
                msg = str(v)
    except jsonstream.JSONError:
        msg = None
    if msg is None:
        resp.raise_for_status()
    e = ProviderError("energidataservice: HTTP %d: %s" % (resp.status, msg))
    e.status = resp.status
    e.retry_after_s = resp.retry_after_s
    raise e
