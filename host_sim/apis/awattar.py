"""aWATTar market data on loopback (firmware/providers/awattar.py; CPython only).

    GET /v1/marketdata[?start=<epoch ms>[&end=<epoch ms>]]   without start: from the current
        hour; without end: start + 24 h (as the real API)

One entry per price interval of the series ({start_timestamp, end_timestamp, marketprice,
unit "Eur/MWh"}), the price per MWh with 3 decimals (exact for micro-units per kWh). Bad
timestamps answer 400; fault modes: host_sim/apis/daprices.py ("error" answers 400 with
{"error": ...}, the shape being an assumption: aWATTar documents none).
"""

from . import JSON, jbody
from .daprices import Faults, cut, decimal


class AwattarApi:
    HOSTS = ("api.awattar.at", "api.awattar.de")
    DEVICE_CONFIG = {"awattar.baseUrl": "http://api.awattar.at", "awattar.country": "at"}

    def __init__(self, prices):
        self.prices = prices
        self.faults = Faults()

    def control(self, name, q, arg):
        self.faults.control(name, q, arg)

    def error_body(self, status):
        return jbody({"error": "simulated failure (HTTP %d)" % status})

    def handle(self, req):
        got, mode = self.faults.common(req.path)
        if got is not None:
            return got
        if req.path.rstrip("/") not in ("/v1/marketdata", "/de/v1/marketdata",
                                         "/at/v1/marketdata"):
            return 404, dict(JSON), jbody({"error": "Not Found"})
        if mode == "error":
            return 400, dict(JSON), jbody({"error": "simulated error answer"})
        if mode == "garbage":
            return 200, dict(JSON), b'{"object": "list", "data": [{"start_timestamp": 1'
        q = req.query
        try:
            t0 = int(q["start"]) if q.get("start") else (req.now_s - req.now_s % 3600) * 1000
            t1 = int(q["end"]) if q.get("end") else t0 + 86400000
        except ValueError:
            return 400, dict(JSON), jbody({"error": "start and end must be epoch milliseconds"})
        rows = [] if mode == "empty" else self.prices(t0 // 1000, t1 // 1000, req.now_s)
        rows = cut(rows, self.faults.interval_min * 60)
        data = ",".join('{"start_timestamp":%d000,"end_timestamp":%d000,"marketprice":%s,'
                        '"unit":"Eur/MWh"}' % (s, e, decimal(p, 3)) for s, e, p in rows)
        return 200, dict(JSON), ('{"object":"list","data":[%s],"url":"/at/v1/marketdata"}'
                                 % data).encode()


def make(series, zone, feed, run=None):
    return AwattarApi(feed.window)
