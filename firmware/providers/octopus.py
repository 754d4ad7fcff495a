"""Octopus Energy Agile (Great Britain; free, no key): half-hourly unit rates of a tariff.

    GET https://api.octopus.energy/v1/products/AGILE-24-10-01/electricity-tariffs/
        E-1R-AGILE-24-10-01-C/standard-unit-rates/?period_from=2025-01-15T10:00:00Z
        &period_to=2025-01-17T10:00:00Z&page_size=100
    -> {"count": 96, "next": null | "<url of the next page>", "previous": null, "results":
        [{"value_exc_vat": 22.05, "value_inc_vat": 23.1525, "valid_from": "...Z",
          "valid_to": "...Z", "payment_method": null}, ...]}

The tariff code is E-1R-<product>-<region>: the region letter is the grid supply point group
(A East England .. P North Scotland; octopus.tariff overrides the whole code). Rates are pence
per kWh -> integer micro-GBP per kWh (value_inc_vat by default: 5 % VAT included, so leave
price.vat_pct at 0; octopus.vat "exc" takes value_exc_vat). Times are UTC ("Z"): 46 or 50
half hours on clock-change days need nothing special.

Results come newest first and may be paged: every page is read as a stream (following `next`,
at most MAX_PAGES) into two preallocated arrays sized for the window, then added to the
Schedule in time order. No results: NoData; an error answer ({"detail": ...}) is a
ProviderError with it. Agile prices for tomorrow are published about 16:00 UK time.
"""

from array import array

from ..clock.iso import TimeFormatError, format_iso, parse_iso
from ..config import Field, parse_url
from ..formats import jsonstream
from ..prices.schedule import Schedule
from . import NoData, ProviderError

NEEDS_NETWORK = True
PUBLISH_LOCAL_MIN = 16 * 60 + 15
DEFAULT_BASE = "https://api.octopus.energy"
MAX_PAGES = 8
REGIONS = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P")

CONFIG = (
    Field("octopus.product", "text", "AGILE-24-10-01", hi=40,
          help="product code, e.g. AGILE-24-10-01 (Agile Octopus October 2024)"),
    Field("octopus.region", "dropdown", "C", choices=REGIONS,
          help="region letter (grid supply point group), e.g. C London, M Yorkshire"),
    Field("octopus.tariff", "text", "", hi=60,
          help="full tariff code; empty = E-1R-<product>-<region>"),
    Field("octopus.vat", "dropdown", "inc", choices=("inc", "exc"),
          help="inc: rates with VAT (price.vat_pct 0); exc: without (set price.vat_pct 5)"),
    Field("octopus.hours", "number", 48, lo=1, hi=168, unit="h", integer=True,
          help="hours ahead to request from the current half hour"),
    Field("octopus.baseUrl", "text", DEFAULT_BASE, hi=128, help="API base URL",
          parse=parse_url, expect="an http(s) URL"),
)

_NEXT = 1
_DETAIL = 2


def _g(cfg, key, default):
    v = cfg.get("octopus." + key)
    return default if v is None or v == "" else v


def tariff(cfg):
    product = _g(cfg, "product", "AGILE-24-10-01")
    return _g(cfg, "tariff", None) or "E-1R-%s-%s" % (product, _g(cfg, "region", "C"))


def url(cfg):
    base = _g(cfg, "baseUrl", DEFAULT_BASE)
    return "%s/v1/products/%s/electricity-tariffs/%s/standard-unit-rates/" % (
        base[:-1] if base.endswith("/") else base, _g(cfg, "product", "AGILE-24-10-01"),
        tariff(cfg))


def window(cfg, now_s):
    t0 = now_s - now_s % 1800
    return t0, t0 + int(_g(cfg, "hours", 48)) * 3600


def fetch(client, cfg, now_s, state):
    t0, t1 = window(cfg, now_s)
    cap = (t1 - t0) // 1800 + 2
    starts, prices = array("i", range(cap)), array("i", range(cap))  # offsets from t0
    ends = array("i", range(cap))
    n = 0
    link = url(cfg)
    q = [("period_from", format_iso(t0)), ("period_to", format_iso(t1)),
         ("page_size", str(cap))]
    for _page in range(MAX_PAGES):
        resp = client.get(link, params=q, headers={"Accept": "application/json"})
        try:
            if resp.status >= 400:
                _raise_error(resp)
            n, link = _page_into(resp, cfg, t0, t1, starts, ends, prices, n)
        finally:
            resp.close()
        if not link:
            break
        q = None  # `next` carries the query
    else:
        raise ProviderError("octopus: more than %d pages" % MAX_PAGES)
    if not n:
        raise NoData("octopus: no unit rates for %s in the window" % tariff(cfg))
    s = Schedule("octopus", "GBP", "kWh")
    s.fetched_s = now_s
    s.tariff_id = tariff(cfg)
    s.reserve(n)
    order = sorted(range(n), key=lambda k: starts[k])
    try:
        for k in order:
            s.add(t0 + starts[k], t0 + ends[k], prices[k])
    except ValueError as e:
        raise ProviderError("octopus: overlapping unit rates: %s" % e)
    return s


def parse(source, cfg, t0, t1):
    """One page (bytes or a response) -> (Schedule in time order, next URL or None)."""
    cap = (t1 - t0) // 1800 + 2
    starts, ends, prices = array("i", range(cap)), array("i", range(cap)), array("i", range(cap))
    n, link = _page_into(source, cfg, t0, t1, starts, ends, prices, 0)
    s = Schedule("octopus", "GBP", "kWh")
    for k in sorted(range(n), key=lambda k: starts[k]):
        s.add(t0 + starts[k], t0 + ends[k], prices[k])
    return s, link


def _pence_u(v):
    """Pence per kWh (a JSON number) -> integer micro-GBP per kWh (x 10 000, rounded once)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("bad rate %r" % (v,))
    x = v * 10000
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def _page_into(source, cfg, t0, t1, starts, ends, prices, n):
    """Add one page's results (one small object at a time) to the arrays; returns (count,
    next URL or None)."""
    field = "value_%s_vat" % _g(cfg, "vat", "inc")
    link = None
    try:
        for k, v in jsonstream.items(source, ("results.*", "next", "detail")):
            if k == _NEXT:
                link = v if isinstance(v, str) and v else None
                continue
            if k == _DETAIL:
                raise ProviderError("octopus: %s" % v)
            if not isinstance(v, dict) or not v.get("valid_from") or v.get(field) is None:
                raise ProviderError("octopus: unit rate without valid_from and %s" % field)
            a = parse_iso(v["valid_from"])
            b = parse_iso(v["valid_to"]) if v.get("valid_to") else t1  # open-ended rate
            if b <= t0 or a >= t1:
                continue
            if n >= len(starts):
                raise ProviderError("octopus: more unit rates than the window holds")
            starts[n], ends[n] = max(a, t0) - t0, min(b, t1) - t0
            prices[n] = _pence_u(v[field])
            n += 1
    except jsonstream.JSONError as e:
        raise ProviderError("octopus: bad response: %s" % e)
    except TimeFormatError as e:
        raise ProviderError("octopus: %s" % e)
    except ProviderError:
        raise
    except ValueError as e:
        raise ProviderError("octopus: bad unit rate: %s" % e)
    return n, link


def _raise_error(resp):
    """{"detail": "..."} (or a field's error list) as a ProviderError, else HTTPError."""
    msg = None
    try:
        for v in jsonstream.items(resp, "detail"):
            msg = str(v)
    except jsonstream.JSONError:
        msg = None
    if msg is None:
        resp.raise_for_status()
    e = ProviderError("octopus: HTTP %d: %s" % (resp.status, msg))
    e.status = resp.status
    e.retry_after_s = resp.retry_after_s
    raise e
