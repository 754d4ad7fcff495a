"""GridX Customer Information & Usage API on loopback (CPython only), mounted by GridXApi.

    POST <base>/auth/token      HTTP Basic clientID:clientSecret only -> {access_token, expires_in}
    GET  <base>/customer/info   -> {contractId, customerUuid, meterAccountId, rateCode,
                                voltageClass, rateCodeHasVoltageClass, circuitId, hasCca, cca}
    GET  <base>/customer/usage?start&end -> {payloadDescriptors, intervalPeriod {start,
                                duration PT1H}, intervals [{id, payloads [CONSUMPTION,
                                GENERATION]}]}, hourly, up to now - usage_lag_s
Both GETs need a live Bearer token and X-Contract-Id / X-Customer-Uuid holding the base64 of
the contract and customer ids (the community spec's words; the live service is unverified).
The date rules this server enforces (the plug's reading of GridX's pre-/post-billing rules,
unverified): start and end are RFC 3339 date-times with an offset, on whole hours, start < end
<= now; pre-billing (the open cycle): start is the cycle's first local midnight (cycles start on
meter_date, Pacific time); post-billing (a closed cycle): exactly [its start, the next start).
Anything else is a 400 {"message"} naming the rule.

Control (through GridXApi.control): customer=<json> (POST /_ctl/customer), meter_date=<1..29>,
usage_lag_s=<s>, usage_wh=<Wh per hour>, now=<utc_s> (the date rules' "now"; default: the
request's time), "401" fail mode (token refused once).
"""

import base64
import binascii

from firmware.clock.iso import (
    TimeFormatError,
    civil_from_days,
    days_in_month,
    format_iso,
    parse_iso,
)

from . import JSON, basic_credentials, jbody

CLIENT_ID = "gridx-client"
CLIENT_SECRET = "gridx-secret"
CONTRACT_ID = "0123456789"
CUSTOMER_UUID = "c0ffee00-0000-4000-8000-000000000001"


def _msg(status, text):
    return status, dict(JSON), jbody({"message": text})


class CustomerService:
    def __init__(self, zone, tokens):
        self.zone = zone
        self.tokens = tokens
        self.meter_date = 1
        self.usage_lag_s = 0
        self.usage_wh = 500  # Wh per hour, every hour
        self.now_s = None  # a test's "now" for the date rules (else the request's time)
        self.customer = {
            "contractId": CONTRACT_ID, "customerUuid": CUSTOMER_UUID,
            "meterAccountId": "MA-77", "rateCode": "EV2A", "voltageClass": "SECONDARY",
            "rateCodeHasVoltageClass": False, "circuitId": "013532223", "hasCca": False,
            "cca": None,
        }

    def control(self, name, q, arg):
        if name == "customer":
            self.customer = arg
        if "meter_date" in q:
            self.meter_date = int(q["meter_date"])
        if "usage_lag_s" in q:
            self.usage_lag_s = int(q["usage_lag_s"])
        if "usage_wh" in q:
            self.usage_wh = int(q["usage_wh"])
        if "now" in q:
            self.now_s = int(q["now"])

    def handle(self, req, path, mode):
        """The answer for a Customer API path, or None."""
        if path.endswith("/auth/token"):
            return self._token(req)
        if not (path.endswith("/customer/info") or path.endswith("/customer/usage")):
            return None
        why = self.tokens.check(req.headers, req.now_s)
        if mode == "401":
            why = "token revoked"
        if why:
            return _msg(401, "Unauthorized: " + why)
        bad = self._ids(req.headers)
        if bad:
            return bad
        if path.endswith("/customer/info"):
            return 200, dict(JSON), jbody(self.customer)
        return self._usage(req)

    def _token(self, req):
        cred = basic_credentials(req.headers)
        if req.method != "POST" or cred != (CLIENT_ID, CLIENT_SECRET):
            return 401, dict(JSON), jbody({"error": "invalid_client",
                                           "error_description": "bad client credentials"})
        tok = self.tokens.issue(req.now_s)
        return 200, dict(JSON), jbody({"access_token": tok, "token_type": "Bearer",
                                       "expires_in": self.tokens.ttl_s})

    def _ids(self, headers):
        for name, want in (("x-contract-id", CONTRACT_ID), ("x-customer-uuid", CUSTOMER_UUID)):
            v = headers.get(name)
            if not v:
                return _msg(400, "%s is required" % name)
            try:
                got = base64.b64decode(v, validate=True).decode()
            except (binascii.Error, ValueError):
                return _msg(400, "%s must be base64-encoded" % name)
            if got != want:
                return _msg(404, "no customer for %s" % name)
        return None

    # -- usage --------------------------------------------------------------------------------
    def cycle_start(self, t):
        z = self.zone
        days = (t + z.offset_at(t)) // 86400
        y, m, d = civil_from_days(days)
        if d < min(self.meter_date, days_in_month(y, m)):
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        return z.to_utc(y, m, min(self.meter_date, days_in_month(y, m)))

    def next_cycle_start(self, t):
        y, m, _ = civil_from_days((self.cycle_start(t) + 43200) // 86400)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return self.zone.to_utc(y, m, min(self.meter_date, days_in_month(y, m)))

    def _usage(self, req):
        q = req.query
        now = req.now_s if self.now_s is None else self.now_s
        try:
            start, end = parse_iso(q.get("start", "")), parse_iso(q.get("end", ""))
        except TimeFormatError:
            return _msg(400, "start and end must be date-times with an offset, e.g. "
                             "2024-07-01T00:00:00Z")
        if start % 3600 or end % 3600:
            return _msg(400, "start and end must be on whole hours")
        if not start < end <= now:
            return _msg(400, "expected start < end <= now")
        cs = self.cycle_start(now)
        if end > cs:  # pre-billing: the open cycle from its start
            if start != cs:
                return _msg(400, "pre-billing usage starts at the bill cycle start %s"
                            % format_iso(cs))
        elif start != self.cycle_start(start) or end != self.next_cycle_start(start):
            return _msg(400, "post-billing usage is one whole bill cycle")
        avail = min(end, now - self.usage_lag_s)
        avail -= avail % 3600
        intervals = []
        t = start
        while t < avail:
            intervals.append({"id": len(intervals), "payloads": [
                {"type": "CONSUMPTION", "values": [self.usage_wh / 1000.0]},
                {"type": "GENERATION", "values": [0.0]}]})
            t += 3600
        return 200, dict(JSON), jbody({
            "payloadDescriptors": [{"payloadType": "CONSUMPTION", "units": "KWH"},
                                   {"payloadType": "GENERATION", "units": "KWH"}],
            "intervalPeriod": {"start": format_iso(start), "duration": "PT1H"},
            "intervals": intervals})

