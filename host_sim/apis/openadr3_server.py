"""OpenADR 3 VTN subset on loopback, as strict as the specification (APIS.md §3; CPython only).

Profiles (control profile=): "3.0" (OpenADR 3.0.1, the default), "gridx" (GridX's VTN: 3.0.1
objects, the token only with HTTP Basic client credentials) and "3.1" (3.1.0: targets are
strings, the `targets` query parameter replaces targetType/targetValues).

    POST /auth/token          grant_type=client_credentials; client id/secret as HTTP Basic
                              (RFC 6749 2.3.1: every server takes it) or, except on gridx, in
                              the form; both at once is invalid_request. RFC 6749 errors
    GET  /programs            [targetType+targetValues | targets], skip, limit (0..50)
    GET  /events              programID, [targetType+targetValues | targets], skip, limit
    GET  /subscriptions       programID, clientName, [targetType+targetValues], objects, skip,
                              limit (3.1: no target filter)
    POST /subscriptions       body = subscription, checked against the schema: clientName
                              (1-128), a known programID, objectOperations [{objects (PROGRAM,
                              EVENT, ...), operations (READ, CREATE, UPDATE, DELETE),
                              callbackUrl}], targets in the version's shape -> 201
Every call but the token needs `Authorization: Bearer`; a missing, unknown or expired token is a
401 problem. A query parameter the version does not define, a filter without its values, a bad
enum or a bad body is a 400 problem {type, title, status, detail}. Target filters keep the
objects that list one of the values under that type (3.1: one of the strings); control
ignore_filters=1 makes the VTN answer with every object whatever the filter (every circuit's
events), as a VTN that does not implement them would.

Events come from a list (fixtures, or POST /_ctl/events), or, when `prices` is given, one
day-ahead PRICE event per local day of `zone` with hourly intervals (event-level intervalPeriod,
intervals without their own), targeted at CIRCUIT.

Control: fail=<mode>[&count=n][&path=substr] modes "401", "500", "503" (Retry-After: 7),
"garbage"; expire=1; ttl=<s>; profile=<p>; ignore_filters=0|1; POST /_ctl/events,
POST /_ctl/programs (JSON arrays).
"""

import json
import os
from urllib.parse import parse_qs, parse_qsl

from firmware.clock.iso import format_iso
from firmware.clock.tz import Zone

from . import FIXTURES, JSON, Failures, Tokens, basic_credentials, common_controls, jbody

CLIENT_ID = "ven-plug-001"
CLIENT_SECRET = "ven-secret"
PROGRAM_ID = "pge-calfuse-ev2as"
CIRCUIT = "013532223"
MAX_LIMIT = 50
PROFILES = ("3.0", "gridx", "3.1")
OBJECT_TYPES = ("PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE")
OPERATIONS = ("READ", "CREATE", "UPDATE", "DELETE")
_PAGE = ("skip", "limit")
_FILTER_30 = ("targetType", "targetValues")
PARAMS = {  # query parameters each list defines, per version (besides skip and limit)
    ("/programs", "3.0"): _FILTER_30, ("/programs", "3.1"): ("targets",),
    ("/events", "3.0"): ("programID",) + _FILTER_30,
    ("/events", "3.1"): ("programID", "targets", "active"),
    ("/subscriptions", "3.0"): ("programID", "clientName", "objects") + _FILTER_30,
    ("/subscriptions", "3.1"): ("programID", "clientName", "objects"),
}


class BadRequest(ValueError):
    pass


def _problem(status, title, detail):
    return status, {"Content-Type": "application/problem+json"}, jbody(
        {"type": "about:blank", "title": title, "status": status, "detail": detail})


def _load(name):
    with open(os.path.join(FIXTURES, "openadr3", name), "rb") as f:
        return json.load(f)


def _values_map_list(v, where):
    if v is None:
        return
    if not isinstance(v, list):
        raise BadRequest("%s: expected an array of valuesMap" % where)
    for m in v:
        if not isinstance(m, dict) or not isinstance(m.get("type"), str) or \
                not m["type"] or not isinstance(m.get("values"), list):
            raise BadRequest("%s: expected valuesMap objects {type, values[]}, got %s"
                             % (where, json.dumps(m)))


def _string_list(v, where):
    if v is None:
        return
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise BadRequest("%s: expected an array of target strings (3.1), got %s"
                         % (where, json.dumps(v)))


class OpenADR3Api:
    HOSTS = ("openadr-vtn.gridx.com", "openadr-vtn-stage.gridx.com", "vtn.example.com")
    # App settings of a VEN that uses this VTN (runner.device_cfg merges them).
    DEVICE_CONFIG = {"openadr3.baseUrl": "http://vtn.example.com", "openadr3.clientId": CLIENT_ID,
                     "openadr3.clientSecret": CLIENT_SECRET, "openadr3.program": PROGRAM_ID,
                     "openadr3.circuitId": CIRCUIT}

    def __init__(self, programs=None, events=None, prices=None, zone=None,
                 program_id=PROGRAM_ID, profile="3.0"):
        self.programs = programs if programs is not None else _load("programs.json")
        self.events = events if events is not None else _load("events.json")
        self.subscriptions = []
        self.prices = prices  # prices(t0, t1, now_s) -> (s, e, price_u): generated events
        self.zone = zone or Zone("PST8PDT,M3.2.0,M11.1.0")
        self.program_id = program_id
        self.profile = profile
        self.ignore_filters = False
        self.tokens = Tokens(3600)
        self.fail = Failures()

    @property
    def version(self):
        return "3.1" if self.profile == "3.1" else "3.0"

    def control(self, name, q, arg):
        if name == "events":
            self.events = arg
        elif name == "programs":
            self.programs = arg
        if q.get("profile") in PROFILES:
            self.profile = q["profile"]
        if "ignore_filters" in q:
            self.ignore_filters = q["ignore_filters"] == "1"
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
        for name in ("/programs", "/events", "/subscriptions"):
            if path.endswith(name):
                try:
                    if name == "/subscriptions" and req.method == "POST":
                        return self._subscribe(req)
                    if req.method != "GET":
                        return _problem(405, "Method Not Allowed", req.method)
                    return self._list(name, req)
                except BadRequest as e:
                    return _problem(400, "Bad Request", str(e))
        return _problem(404, "Not Found", path)

    # -- lists ------------------------------------------------------------------------------
    def _args(self, req, name):
        raw = getattr(req, "raw_query", None)
        args = parse_qs(raw, keep_blank_values=True) if raw is not None else \
            {k: [v] for k, v in req.query.items()}
        allowed = PARAMS[(name, self.version)] + _PAGE
        for k in args:
            if k not in allowed:
                raise BadRequest("%s: unknown query parameter %r (OpenADR %s defines %s)"
                                 % (name, k, "3.1.0" if self.version == "3.1" else "3.0.1",
                                    ", ".join(allowed)))
        for k in ("skip", "limit", "targetType", "programID", "clientName", "active"):
            if len(args.get(k, ())) > 1:
                raise BadRequest("%s: %s given twice" % (name, k))
        try:
            skip = int(args.get("skip", ["0"])[0])
            limit = int(args.get("limit", [str(MAX_LIMIT)])[0])
            if skip < 0 or not 0 <= limit <= MAX_LIMIT:
                raise ValueError
        except ValueError:
            raise BadRequest("skip >= 0 and limit 0..%d" % MAX_LIMIT)
        if ("targetType" in args) != ("targetValues" in args):
            raise BadRequest("targetType and targetValues go together")
        for o in args.get("objects", ()):
            if o not in OBJECT_TYPES:
                raise BadRequest("objects: %r is not one of %s" % (o, ", ".join(OBJECT_TYPES)))
        return args, skip, limit

    def _list(self, name, req):
        args, skip, limit = self._args(req, name)
        if name == "/programs":
            items = self.programs
        elif name == "/events":
            items = self._events(req.now_s)
        else:
            items = self.subscriptions
        for k in ("programID", "clientName"):
            if k in args:
                items = [x for x in items if x.get(k) == args[k][0]]
        if "objects" in args:
            items = [x for x in items if any(set(args["objects"]) & set(op.get("objects", ()))
                                             for op in x.get("objectOperations", ()))]
        if not self.ignore_filters:
            items = [x for x in items if self._targeted(x.get("targets"), args)]
        return 200, dict(JSON), jbody([self._render(x) for x in items[skip:skip + limit]])

    def _targeted(self, targets, args):
        """Does an object with `targets` pass the query's target filter?"""
        if "targetType" in args:
            typ, vals = args["targetType"][0], set(args["targetValues"])
            return any(isinstance(t, dict) and t.get("type") == typ and
                       vals & set(t.get("values") or ()) for t in targets or ())
        if "targets" in args:
            return bool(set(args["targets"]) & set(self._strings(targets)))
        return True

    @staticmethod
    def _strings(targets):
        out = []
        for t in targets or ():
            if isinstance(t, dict):
                out += t.get("values") or []
            else:
                out.append(t)
        return out

    def _render(self, obj):
        """An object in the profile's version: 3.1 targets are strings."""
        if self.version != "3.1" or not obj.get("targets"):
            return obj
        out = dict(obj)
        out["targets"] = self._strings(obj["targets"])
        return out

    # -- token ------------------------------------------------------------------------------
    def _token(self, req):
        if req.method != "POST":
            return 405, dict(JSON), b'{"error":"invalid_request"}'
        form = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        basic = basic_credentials(req.headers)
        in_form = "client_id" in form or "client_secret" in form
        if basic and in_form:
            return 400, dict(JSON), jbody({"error": "invalid_request", "error_description":
                                           "more than one client authentication method"})
        if in_form and self.profile == "gridx":  # GridX: base64 [clientID]:[clientSecret]
            return 401, dict(JSON), jbody({"error": "invalid_client", "error_description":
                                           "client credentials must be sent as HTTP Basic"})
        cred = basic or (form.get("client_id"), form.get("client_secret"))
        if form.get("grant_type") != "client_credentials":
            return 400, dict(JSON), jbody({"error": "unsupported_grant_type",
                                           "error_description": "client_credentials only"})
        if cred != (CLIENT_ID, CLIENT_SECRET):
            return 401, dict(JSON), jbody(_load("token_error.json"))
        tok = self.tokens.issue(req.now_s)
        return 200, dict(JSON), jbody({"access_token": tok, "token_type": "Bearer",
                                       "expires_in": self.tokens.ttl_s, "scope": "read_all"})

    # -- subscriptions ------------------------------------------------------------------------
    def _subscribe(self, req):
        if not req.headers.get("content-type", "").startswith("application/json"):
            return _problem(415, "Unsupported Media Type", "expected application/json")
        try:
            sub = json.loads(req.body)
        except ValueError:
            raise BadRequest("the body is not JSON")
        if not isinstance(sub, dict):
            raise BadRequest("expected a subscription object")
        name = sub.get("clientName")
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise BadRequest("clientName: 1 to 128 characters required")
        if sub.get("programID") not in [p.get("id") for p in self.programs]:
            raise BadRequest("programID: %r is not a program" % sub.get("programID"))
        ops = sub.get("objectOperations")
        if not isinstance(ops, list) or not ops:
            raise BadRequest("objectOperations: a non-empty array required")
        for op in ops:
            if not isinstance(op, dict) or not op.get("callbackUrl") or \
                    not isinstance(op.get("objects"), list) or \
                    not isinstance(op.get("operations"), list):
                raise BadRequest("objectOperations: objects, operations and callbackUrl "
                                 "are required")
            for o in op["objects"]:
                if o not in OBJECT_TYPES:
                    raise BadRequest("objectOperations.objects: %r is not one of %s"
                                     % (o, ", ".join(OBJECT_TYPES)))
            for o in op["operations"]:
                if o not in OPERATIONS:
                    raise BadRequest("objectOperations.operations: %r is not one of %s"
                                     % (o, ", ".join(OPERATIONS)))
            if not str(op["callbackUrl"]).startswith(("http://", "https://")):
                raise BadRequest("objectOperations.callbackUrl: not a URI")
        if self.version == "3.1":
            _string_list(sub.get("targets"), "targets")
        else:
            _values_map_list(sub.get("targets"), "targets")
        sub["id"] = "sub-%d" % (len(self.subscriptions) + 1)
        sub["objectType"] = "SUBSCRIPTION"
        sub["createdDateTime"] = sub["modificationDateTime"] = format_iso(req.now_s)
        self.subscriptions.append(sub)
        return 201, dict(JSON), jbody(self._render(sub))

    # -- generated events (the simulator) ---------------------------------------------------
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
            "targets": [{"type": "CIRCUIT_IDS", "values": [CIRCUIT]}],
            "payloadDescriptors": [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                                    "payloadType": "PRICE", "units": "KWH", "currency": "USD"}],
            "intervalPeriod": {"start": format_iso(t0 if first is None else first),
                               "duration": "PT1H"},
            "intervals": intervals,
        }


def make(series, zone, feed, run=None):
    """The simulator's VTN: one event per local day of `zone` from the published series."""
    return OpenADR3Api(prices=feed.window, zone=zone)
