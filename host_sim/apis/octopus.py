"""Octopus Energy unit rates on loopback (firmware/providers/octopus.py; CPython only).

    GET /v1/products/<product>/electricity-tariffs/E-1R-<product>-<region>/standard-unit-rates/
        ?period_from=<ISO Z>&period_to=<ISO Z>&page_size=<n, default 100, at most 1500>[&page=k]

Half-hourly rates, newest first, paged: `next` is the absolute URL of the following page (on the
Host the request came to). value_exc_vat is the series' price in pence per kWh (price_u / 10 000,
4 decimals: exact), value_inc_vat adds 5 % VAT (rounded to 4 decimals). An unknown product or
tariff answers 404 {"detail": ...}; fault modes: host_sim/apis/daprices.py.
"""

from urllib.parse import urlencode

from firmware.clock.iso import TimeFormatError, format_iso, parse_iso

from . import JSON, jbody
from .daprices import Faults, cut, decimal, div_round

PRODUCTS = ("AGILE-24-10-01", "AGILE-FLEX-22-11-25", "AGILE-23-12-06")
REGIONS = "ABCDEFGHJKLMNP"
PREFIX = "/v1/products/"


class OctopusApi:
    HOSTS = ("api.octopus.energy",)
    DEVICE_CONFIG = {"octopus.baseUrl": "http://api.octopus.energy", "octopus.vat": "exc",
                     "octopus.product": "AGILE-24-10-01", "octopus.region": "C"}

    def __init__(self, prices):
        self.prices = prices
        self.faults = Faults()
        self.max_page = 1500

    def control(self, name, q, arg):
        self.faults.control(name, q, arg)
        if "page_size" in q:  # the most results a page holds, whatever is asked
            self.max_page = int(q["page_size"])

    def error_body(self, status):
        return jbody({"detail": "simulated failure (HTTP %d)" % status})

    def _detail(self, status, msg):
        return status, dict(JSON), jbody({"detail": msg})

    def handle(self, req):
        got, mode = self.faults.common(req.path)
        if got is not None:
            return got
        parts = req.path[len(PREFIX):].strip("/").split("/") if req.path.startswith(PREFIX) \
            else []
        if len(parts) != 4 or parts[1] != "electricity-tariffs" or \
                parts[3] != "standard-unit-rates":
            return self._detail(404, "Not found.")
        product, tariff = parts[0], parts[2]
        if product not in PRODUCTS:
            return self._detail(404, "No EnergyProduct matches the given query.")
        pre = "E-1R-%s-" % product
        if not tariff.startswith(pre) or len(tariff) != len(pre) + 1 or \
                tariff[-1] not in REGIONS:
            return self._detail(404, "No ElectricityTariff matches the given query.")
        if mode == "error":
            return self._detail(400, "simulated error answer")
        if mode == "garbage":
            return 200, dict(JSON), b'{"count": 2, "next": null, "results": [{"value_'
        q = req.query
        try:
            t1 = parse_iso(q["period_to"]) if q.get("period_to") else None
            t0 = parse_iso(q["period_from"]) if q.get("period_from") else \
                (t1 - 86400 if t1 else req.now_s - req.now_s % 1800)
            size = int(q.get("page_size") or 100)
            page = int(q.get("page") or 1)
        except (TimeFormatError, ValueError):
            return 400, dict(JSON), jbody({"period_from": ["Enter a valid date/time."]})
        if t1 is None:
            t1 = t0 + 2 * 86400
        size = max(1, min(size, self.max_page))
        rows = [] if mode == "empty" else cut(self.prices(t0, t1, req.now_s), 1800)
        rows.reverse()  # newest first
        count = len(rows)
        chunk = rows[(page - 1) * size:page * size]
        if page > 1 and not chunk:
            return self._detail(404, "Invalid page.")
        host = req.headers.get("host", self.HOSTS[0])
        base = "http://%s%s%s" % (host, getattr(req, "prefix", ""), req.path)

        def link(k):
            qq = dict(q)
            qq["page"] = str(k)
            return '"%s?%s"' % (base, urlencode(qq))

        res = ",".join(
            '{"value_exc_vat":%s,"value_inc_vat":%s,"valid_from":"%s","valid_to":"%s",'
            '"payment_method":null}' % (decimal(p, 4), decimal(div_round(p * 105, 100), 4),
                                        format_iso(s), format_iso(e)) for s, e, p in chunk)
        body = '{"count":%d,"next":%s,"previous":%s,"results":[%s]}' % (
            count, link(page + 1) if page * size < count else "null",
            link(page - 1) if page > 1 else "null", res)
        return 200, dict(JSON), body.encode()


def make(series, zone, feed, run=None):
    return OctopusApi(feed.window)
