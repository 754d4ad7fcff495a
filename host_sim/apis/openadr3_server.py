"""OpenADR 3.0.1 VTN subset on loopback (APIS.md §3; CPython only).

    POST /auth/token          client credentials: form body (grant_type=client_credentials,
                              client_id, client_secret[, scope]) or HTTP Basic (GridX style);
                              401 {"error": "invalid_client", ...} when wrong, 400 for a bad grant
    GET  /programs            skip, limit (max 50), programName (3.1 extension); bare array
    GET  /events              programID, skip, limit (max 50)
    GET  /subscriptions       programID, clientName, skip, limit
    POST /subscriptions       body = subscription -> 201 with id/createdDateTime
Every call but the token needs `Authorization: Bearer`; a missing, unknown or expired token is a
401 `problem`. Objects are 3.0.1 shapes (bare arrays, no envelope).

Events come from a list (fixtures, or POST /_ctl/events with a JSON array), or, when `prices` is
given, are generated as one day-ahead PRICE event per local day of `zone` with hourly intervals
(event-level intervalPeriod start + PT1H, intervals without their own period).

Control: fail=<mode>[&count=n][&path=substr] modes "401" (the next call's token is refused),
"500" (problem body), "503" (Retry-After: 7), "garbage"; expire=1; ttl=<s>;
POST /_ctl/events (JSON array), POST /_ctl/programs (JSON array).
"""

import json
import os
from urllib.parse import parse_qsl

from firmware.clock.iso import format_iso
from firmware.clock.tz import Zone

from . import FIXTURES, JSON, Failures, Tokens, basic_credentials, common_controls, jbody

CLIENT_ID = "ven-plug-001"
CLIENT_SECRET = "ven-secret"
PROGRAM_ID = "pge-calfuse-ev2as"
MAX_LIMIT = 50


def _problem(status, title, detail):
    return status, {"Content-Type": "application/problem+json"}, jbody(
        {"type": "about:blank", "title": title, "status": status, "detail": detail})


def _load(name):
    with open(os.path.join(FIXTURES, "openadr3", name), "rb") as f:
        return json.load(f)


class OpenADR3Api:
    HOSTS = ("openadr-vtn.gridx.com", "openadr-vtn-stage.gridx.com", "vtn.example.com")
    # App settings of a VEN that uses this VTN (runner.device_cfg merges them).
    DEVICE_CONFIG = {"openadr3.baseUrl": "http://vtn.example.com", "openadr3.clientId": CLIENT_ID,
                     "openadr3.clientSecret": CLIENT_SECRET, "openadr3.program": PROGRAM_ID}

    def __init__(self, programs=None, events=None, prices=None, zone=None,
                 program_id=PROGRAM_ID):
        self.programs = programs if programs is not None else _load("programs.json")
        self.events = events if events is not None else _load("events.json")
        self.subscriptions = []
        self.prices = prices  # prices(t0, t1, now_s) -> (s, e, price_u): generated events
        self.zone = zone or Zone("PST8PDT,M3.2.0,M11.1.0")
        self.program_id = program_id
        self.tokens = Tokens(3600)
        self.fail = Failures()

    def control(self, name, q, arg):
        if name == "events":
            self.events = arg
        elif name == "programs":
            self.programs = arg
        common_controls(self, q)

    def error_body(self, status):
        return _problem(status, "Simulated failure", "HTTP %d" % status)[2]

    def handle(self, req):
        path = req.path.rstrip("/")
        if path.endswith("/auth/token"):
            return self._token(req)
        mode = self.fail.take(req.path)
        if mode == "500":
            return _problem(500, "Internal Server Error", "simulated")
        if mode == "503":
            st, hdr, body = _problem(503, "Service Unavailable", "simulated")
            hdr["Retry-After"] = "7"
            return st, hdr, body
        why = self.tokens.check(req.headers, req.now_s)
        if mode == "401":
            why = "token revoked"
        if why:
            return _problem(401, "Unauthorized", why)
        if mode == "garbage":
            return 200, dict(JSON), b'[{"id": "x", "intervals": [1, 2'
        q = req.query
        try:
            skip = int(q.get("skip", 0))
            limit = int(q.get("limit", MAX_LIMIT))
            if skip < 0 or not 0 < limit <= MAX_LIMIT:
                raise ValueError
        except ValueError:
            return _problem(400, "Bad Request", "skip >= 0 and limit 1..%d" % MAX_LIMIT)
        if path.endswith("/programs"):
            items = self.programs
            if q.get("programName"):
                items = [p for p in items if p.get("programName") == q["programName"]]
            return self._page(items, skip, limit)
        if path.endswith("/events"):
            items = self._events(req.now_s)
            if q.get("programID"):
                items = [e for e in items if e.get("programID") == q["programID"]]
            return self._page(items, skip, limit)
        if path.endswith("/subscriptions"):
            if req.method == "POST":
                return self._subscribe(req)
            items = self.subscriptions
            for k in ("programID", "clientName"):
                if q.get(k):
                    items = [s for s in items if s.get(k) == q[k]]
            return self._page(items, skip, limit)
        return _problem(404, "Not Found", path)

    def _page(self, items, skip, limit):
        return 200, dict(JSON), jbody(items[skip:skip + limit])

    def _token(self, req):
        form = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        cred = basic_credentials(req.headers)
        if cred is None:
            cred = (form.get("client_id"), form.get("client_secret"))
        if req.method != "POST":
            return 405, dict(JSON), b'{"error":"invalid_request"}'
        if form.get("grant_type") != "client_credentials":
            return 400, dict(JSON), jbody({"error": "unsupported_grant_type",
                                           "error_description": "client_credentials only"})
        if cred != (CLIENT_ID, CLIENT_SECRET):
            return 401, dict(JSON), jbody(_load("token_error.json"))
        tok = self.tokens.issue(req.now_s)
        return 200, dict(JSON), jbody({"access_token": tok, "token_type": "Bearer",
                                       "expires_in": self.tokens.ttl_s, "scope": "read_all"})

    def _subscribe(self, req):
        try:
            sub = json.loads(req.body)
            if not sub.get("clientName") or not sub.get("programID") or \
                    not sub.get("objectOperations"):
                raise ValueError
        except (ValueError, AttributeError):
            return _problem(400, "Bad Request", "clientName, programID and objectOperations "
                                                "are required")
        sub["id"] = "sub-%d" % (len(self.subscriptions) + 1)
        sub["objectType"] = "SUBSCRIPTION"
        sub["createdDateTime"] = sub["modificationDateTime"] = format_iso(req.now_s)
        self.subscriptions.append(sub)
        return 201, dict(JSON), jbody(sub)

    def _events(self, now_s):
        if self.prices is None:
            return self.events
        z = self.zone
        day = z.day_start(now_s) - 86400
        day = z.day_start(day)
        out = []
        for _ in range(4):
            nxt = z.next_day_start(day)
            rows = list(self.prices(day, nxt, now_s))
            if rows:
                out.append(self._day_event(day, nxt, rows))
            day = nxt
        return out

    def _day_event(self, t0, t1, rows):
        from firmware.prices.schedule import format_price

        intervals = []
        first = None
        t = t0
        for s, e, p in rows:  # hourly values: the price at the start of each hour
            while t < min(e, t1):
                if t >= s:
                    first = t if first is None else first
                    intervals.append({"id": len(intervals), "payloads": [
                        {"type": "PRICE", "values": [float(format_price(p, 6))]}]})
                t += 3600
        ymd = format_iso(t0, self.zone.offset_at(t0))[:10]
        return {
            "id": "evt-%s-%s" % (self.program_id, ymd),
            "createdDateTime": format_iso(t0 - 8 * 3600),
            "modificationDateTime": format_iso(t0 - 8 * 3600),
            "objectType": "EVENT", "programID": self.program_id,
            "eventName": "%s-%s" % (self.program_id, ymd), "priority": 0,
            "payloadDescriptors": [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                                    "payloadType": "PRICE", "units": "KWH", "currency": "USD"}],
            "intervalPeriod": {"start": format_iso(t0 if first is None else first),
                               "duration": "PT1H"},
            "intervals": intervals,
        }


def make(series, zone, feed, run=None):
    """The simulator's VTN: one event per local day of `zone` from the published series."""
    return OpenADR3Api(prices=feed.window, zone=zone)
