"""Energi Data Service on loopback (firmware/providers/energidataservice.py; CPython only).

    GET /dataset/DayAheadPrices | /dataset/Elspotprices ?start&end&timezone&filter&sort
        &columns&limit   (start/end "YYYY-MM-DDTHH:MM", Danish local time unless timezone=UTC)

DayAheadPrices holds 15-minute prices for delivery from 2025-10-01 (TimeUTC, TimeDK,
PriceArea, DayAheadPriceDKK, DayAheadPriceEUR), Elspotprices hourly ones up to 2025-09-30
(HourUTC, HourDK, PriceArea, SpotPriceDKK, SpotPriceEUR); a dataset answers nothing outside its
span, as the real ones do. Times are written without an offset. The default sort is by time,
descending (the real API's); filter {"PriceArea": [...]} and columns are honoured. Prices are per
MWh with 3 decimals: the series' own currency exactly, the other at DKK_PER_EUR (the krone's
central rate to the euro in ERM II). Bad parameters answer 400 {"statusCode", "error",
"message"}; fault modes: host_sim/apis/daprices.py.
"""

import json

from firmware.clock.iso import format_iso, parse_iso
from firmware.clock.tz import Zone

from . import JSON, jbody
from .daprices import Faults, cut, decimal, div_round, merge_to

DANISH = "CET-1CEST,M3.5.0,M10.5.0/3"
NEW_DATASET_S = 1759269600  # 2025-10-01T00:00 Danish time
DKK_PER_EUR_PPM = 7460380  # 7.46038 DKK per EUR
AREAS = ("DK1", "DK2")
FIELDS = {"DayAheadPrices": ("TimeUTC", "TimeDK", "DayAheadPrice", 900),
          "Elspotprices": ("HourUTC", "HourDK", "SpotPrice", 3600)}


class EnergiDataServiceApi:
    HOSTS = ("api.energidataservice.dk",)

    def __init__(self, prices, currency="EUR"):
        """prices(t0_s, t1_s, now_s) -> [(start_s, end_s, price_u)] in `currency` per kWh."""
        self.prices = prices
        self.currency = currency
        self.faults = Faults()
        self.zone = Zone(DANISH)
        self.DEVICE_CONFIG = {"energidataservice.baseUrl": "http://api.energidataservice.dk",
                              "energidataservice.area": "DK1",
                              "energidataservice.currency": currency}

    def control(self, name, q, arg):
        self.faults.control(name, q, arg)

    def error_body(self, status):
        return jbody({"statusCode": status, "error": "Simulated", "message":
                      "simulated failure (HTTP %d)" % status})

    def _bad(self, msg, status=400):
        return status, dict(JSON), jbody({"statusCode": status, "error": "Bad Request",
                                          "message": msg})

    def _time(self, text, utc):
        t = parse_iso(text + ":00Z" if len(text) == 16 else text + "Z")
        if utc:
            return t
        return self.zone.from_local(t)  # Danish wall-clock time

    def handle(self, req):
        got, mode = self.faults.common(req.path)
        if got is not None:
            return got
        if not req.path.startswith("/dataset/"):
            return self._bad("Not Found", 404)
        name = req.path[len("/dataset/"):].rstrip("/")
        if name not in FIELDS:
            return self._bad("Dataset %s not found" % name, 404)
        if mode == "error":
            return self._bad("simulated error answer")
        if mode == "garbage":
            return 200, dict(JSON), b'{"total": 3, "records": [{"TimeUTC": '
        q = req.query
        utc = (q.get("timezone") or "dk").lower() == "utc"
        try:
            t0 = self._time(q["start"], utc)
            t1 = self._time(q["end"], utc) if q.get("end") else t0 + 86400
        except (KeyError, ValueError):
            return self._bad("\"start\" and \"end\" must be YYYY-MM-DDTHH:MM")
        try:
            areas = json.loads(q.get("filter") or "{}").get("PriceArea", list(AREAS))
        except (ValueError, AttributeError):
            return self._bad("\"filter\" must be a JSON object")
        if isinstance(areas, str):
            areas = [areas]
        tfield, lfield, pfield, step = FIELDS[name]
        sort = (q.get("sort") or tfield + " desc").split()
        if sort[0] != tfield or (len(sort) > 1 and sort[1].lower() not in ("asc", "desc")):
            return self._bad("cannot sort by %s" % q.get("sort"))
        cols = q.get("columns")
        cols = cols.split(",") if cols else [tfield, lfield, "PriceArea", pfield + "DKK",
                                              pfield + "EUR"]
        lo, hi = (NEW_DATASET_S, t1) if name == "DayAheadPrices" else (t0, NEW_DATASET_S)
        rows = [] if mode == "empty" else self.prices(max(t0, lo), min(t1, hi), req.now_s)
        rows = cut(rows, step) if step == 900 else merge_to(rows, step)
        if self.faults.interval_min and step == 900:
            rows = cut(rows, self.faults.interval_min * 60)
        recs = []
        for area in areas:
            if area not in AREAS:
                continue
            for s, _e, p in rows:
                r = {tfield: format_iso(s)[:19], lfield: format_iso(
                    s, self.zone.offset_at(s), z=False)[:19], "PriceArea": area}
                for cur in ("DKK", "EUR"):
                    r[pfield + cur] = self._amount(p, cur)
                recs.append({c: r[c] for c in cols if c in r})
        if len(sort) < 2 or sort[1].lower() == "desc":
            recs.reverse()
        body = ('{"total":%d,"filters":%s,"sort":%s,"limit":%d,"dataset":"%s","records":[%s]}'
                % (len(recs), json.dumps(q.get("filter") or "{}"), json.dumps(" ".join(sort)),
                   int(q.get("limit") or 0), name, ",".join(
                       "{%s}" % ",".join('"%s":%s' % (k, v if k.startswith(pfield) else
                                                      json.dumps(v)) for k, v in r.items())
                       for r in recs)))
        return 200, dict(JSON), body.encode()

    def _amount(self, pu, cur):
        """Per MWh with 3 decimals: pu micro-units/kWh is pu/1000 per MWh, exact."""
        if cur != self.currency:
            rate = DKK_PER_EUR_PPM if cur == "DKK" else None
            pu = div_round(pu * rate, 1000000) if rate else div_round(pu * 1000000,
                                                                       DKK_PER_EUR_PPM)
        return decimal(pu, 3)


def make(series, zone, feed, run=None):
    """The simulator's API object: the series as published by `feed` at the request time."""
    return EnergiDataServiceApi(feed.window, series.currency if series.currency in
                                ("DKK", "EUR") else "EUR")
