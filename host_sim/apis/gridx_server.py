"""GridX Pricing API (+ Customer Info) on loopback (APIS.md §2; CPython only).

    GET  {/stage}/v1/getPricing?utility&market&program&ratename&representativeCircuitId
         [&cca]&startdate&enddate      one curve per Pacific day, colon-less offsets (-0800),
                                       decimal-string prices, 23/25 records on DST days
    POST /auth/token, GET /customer/info, GET /customer/usage
                                       the Customer Information & Usage API
                                       (gridx_customer_server.py)

Validation follows the documented "no data" answers: HTTP 200 with `meta.code` 204 and the
message (the default), or an empty HTTP 204 (control empty204=1). Days with no published prices
are left out; none at all is the 204. Intervals after `forecast_from_s` (control forecast_from)
carry priceStatus "Preliminary".

Control (LoopbackServer `/_ctl?...`): fail=<mode>[&count=n][&path=substr] with modes
"empty204" (HTTP 204, no body), "body204" (HTTP 204 with a JSON body and Connection: close),
"meta204" (HTTP 200, meta.code 204), "500", "503" (Retry-After: 7), "garbage" (bad JSON),
"401" (on /customer/*: token refused once); expire=1 (every token expires now); ttl=<s>;
forecast_from=<utc_s>; interval=<minutes> (60 or 15); the Customer API's own controls.
"""

from firmware.clock.iso import civil_from_days, format_iso, parse_iso
from firmware.clock.tz import Zone

from . import JSON, Failures, Tokens, common_controls, jbody
from .gridx_customer_server import CustomerService

PACIFIC = "PST8PDT,M3.2.0,M11.1.0"
UTILITIES = ("PGE", "SCE")
MAX_DAYS = 14


def _u_text(pu):
    neg = pu < 0
    a = -pu if neg else pu
    return ("-" if neg else "") + "%d.%06d" % (a // 1000000, a % 1000000)


def _ts(t, zone):
    return format_iso(t, zone.offset_at(t), z=False)[:19] + \
        _off(zone.offset_at(t))


def _off(o):
    s = "-" if o < 0 else "+"
    o = abs(o)
    return "%s%02d%02d" % (s, o // 3600, o % 3600 // 60)


def _ymd(s):
    if len(s) != 8 or not s.isdigit():
        raise ValueError(s)
    return parse_iso("%s-%s-%s" % (s[:4], s[4:6], s[6:]))  # validates the date


class GridXApi:
    HOSTS = ("pe-api.gridx.com", "pge-pe-api.gridx.com")
    # App settings of a plug that uses this server (runner.device_cfg merges them): the
    # production URL on one of HOSTS and the rate/circuit this server answers for.
    DEVICE_CONFIG = {"gridx.productionUrl": "http://pe-api.gridx.com/v1/getPricing",
                     "gridx.ratename": "EV2AS", "gridx.representativeCircuitId": "013532223"}

    def __init__(self, prices, zone=None):
        """prices(t0_s, t1_s, now_s) -> iterable of (start_s, end_s, price_u)."""
        self.prices = prices
        self.zone = zone or Zone(PACIFIC)
        self.fail = Failures()
        self.tokens = Tokens(3600)
        self.forecast_from_s = None
        self.interval_min = 60
        self.customer = CustomerService(self.zone, self.tokens)

    # -- control ----------------------------------------------------------------------------
    def control(self, name, q, arg):
        self.customer.control(name, q, arg)
        common_controls(self, q)
        if "forecast_from" in q:
            self.forecast_from_s = int(q["forecast_from"])
        if "interval" in q:
            self.interval_min = int(q["interval"])

    def error_body(self, status):
        return jbody({"meta": {"code": status, "requestURL": None,
                               "response": "simulated failure (HTTP %d)" % status},
                      "data": []})

    # -- requests ---------------------------------------------------------------------------
    def handle(self, req):
        path = req.path.lower()
        mode = None if path.endswith("/auth/token") else self.fail.take(req.path)
        if mode == "500":
            return 500, {"Content-Type": "text/plain"}, b"Internal Server Error"
        if mode == "503":
            return 503, {"Content-Type": "text/plain", "Retry-After": "7"}, b"busy"
        if mode == "garbage":
            return 200, dict(JSON), b'{"meta": {"code": 200}, "data": [{"priceHeader": '
        got = self.customer.handle(req, path, mode)
        if got is not None:
            return got
        if path.endswith("/getpricing"):
            return self._pricing(req, mode)
        return 404, dict(JSON), jbody({"message": "Not Found"})

    def _no_data(self, q, msg, mode):
        if mode == "empty204":
            return 204, {}, b""
        body = jbody({"meta": {"code": 204, "requestURL": None,
                               "requestBody": jbody(q).decode(), "response": msg},
                      "data": []})
        if mode == "body204":
            return 204, dict(JSON), body
        return 200, dict(JSON), body

    def _pricing(self, req, mode):
        q = req.query
        if mode in ("empty204", "body204", "meta204"):
            return self._no_data(q, "No data found for the requested period.", mode)
        for k in ("utility", "market", "program", "ratename", "representativeCircuitId"):
            if not q.get(k):
                return self._no_data(q, "%s cannot be empty." % k, mode)
        if not q.get("startdate"):
            return self._no_data(q, "Start date cannot be empty. Please provide a valid date.",
                                 mode)
        if not q.get("enddate"):
            return self._no_data(q, "End date cannot be empty. Please provide a valid date.",
                                 mode)
        if q["utility"] not in UTILITIES or q["program"] != "CalFUSE":
            return self._no_data(q, "The specified utility or program name does not exist. "
                                    "Please provide a valid name.", mode)
        if q["market"] != "DAM":
            return self._no_data(q, "Only DAM market is accepted.", mode)
        if q.get("cca") and q["utility"] != "PGE":
            return self._no_data(q, "The specified CCA name does not exist. Please provide a "
                                    "valid CCA name.", mode)
        try:
            d0, d1 = _ymd(q["startdate"]), _ymd(q["enddate"])
        except ValueError:
            return self._no_data(q, "The provided date format is invalid. Please use "
                                    "YYYY-MM-DD.", mode)
        if d1 < d0 or (d1 - d0) // 86400 + 1 > MAX_DAYS:
            return self._no_data(q, "The requested period must be 1 to %d days." % MAX_DAYS,
                                 mode)
        z = self.zone
        curves = []
        for day in range(d0 // 86400, d1 // 86400 + 1):
            t0 = z.to_utc(*civil_from_days(day))
            c = self._curve(q, t0, z.next_day_start(t0), req.now_s)
            if c:
                curves.append(c)
        if not curves:
            return self._no_data(q, "No data found for the requested period.", mode)
        meta = ('{"code":200,"requestURL":"https://pe-api.gridx.com/v1/getpricing",'
                '"requestBody":%s,"response":"Request succeeded"}'
                % jbody(jbody(q).decode()).decode())
        return 200, dict(JSON), ('{"meta":%s,"data":[%s]}' % (meta, ",".join(curves))).encode()

    def _curve(self, q, t0, t1, now_s):
        z = self.zone
        step = self.interval_min * 60
        rows = []
        for s, e, p in self.prices(t0, t1, now_s):
            s = max(s, t0)
            e = min(e, t1)
            t = s - (s - t0) % step
            while t < e:  # the price at the start of each interval
                if t >= s and (not rows or rows[-1][0] != t):
                    rows.append((t, p))
                t += step
        if not rows:
            return None
        details = []
        for t, p in rows:
            status = "Final" if self.forecast_from_s is None or t < self.forecast_from_s \
                else "Preliminary"
            cld = p // 4
            details.append(
                '{"startIntervalTimeStamp":"%s","intervalPrice":"%s","priceStatus":"%s",'
                '"priceComponents":[{"component":"cld","intervalPrice":"%s","priceType":'
                '"distribution"},{"component":"mec","intervalPrice":"%s","priceType":'
                '"generation"},{"component":"mgcc","intervalPrice":"0.000000","priceType":'
                '"generation"}]}' % (_ts(t, z), _u_text(p), status, _u_text(cld),
                                     _u_text(p - cld)))
        rate = q.get("ratename", "")
        header = ('{"priceCurveName":"%s-CalFUSE-%s-SECONDARY","marketName":"CAISO-DAM",'
                  '"intervalLengthInMinutes":%d,"settlementCurrency":"USD",'
                  '"settlementUnit":"kWh","startTime":"%s","endTime":"%s","recordCount":%d}'
                  % (q.get("utility"), rate, self.interval_min, _ts(t0, z), _ts(t1 - 1, z),
                     len(rows)))
        return '{"priceHeader":%s,"priceDetails":[%s]}' % (header, ",".join(details))


def fixture_prices(path):
    """prices() callable replaying a getPricing fixture's intervals."""
    import json

    with open(path, "rb") as f:
        d = json.load(f)
    rows = []
    for curve in d["data"]:
        step = int(curve["priceHeader"].get("intervalLengthInMinutes", 60)) * 60
        for det in curve["priceDetails"]:
            from firmware.prices.schedule import price_u

            t = parse_iso(det["startIntervalTimeStamp"])
            rows.append((t, t + step, price_u(det["intervalPrice"])))
    rows.sort()

    def prices(t0, t1, now_s):
        return [(s, e, p) for s, e, p in rows if e > t0 and s < t1]

    return prices


def make(series, zone, feed, run=None):
    """The simulator's API object: the series as published by `feed` at the request time."""
    return GridXApi(feed.window, Zone(PACIFIC) if zone is None else zone)
