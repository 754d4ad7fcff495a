"""Enertalk Bills API on loopback, as strict as its documentation (APIS.md §6; CPython only).

    GET   /sites/:siteId/bills              the site's bill {meterDate, supplierId, ratePlanId,
                                            billSettings|null}; unknown site: 404
    PATCH /sites/:siteId/bills              JSON {meterDate?, supplierId?, ratePlanId?,
                                            billSettings?}: meterDate an integer 1..31 (above 29
                                            stored as 29), a new supplierId only with a new
                                            ratePlanId of that supplier, billSettings valid for
                                            the plan's schema (tools/rateplan_import rules)
    GET   /suppliers?countryCode=XX         [{id, name, ratePlans [{id, name}]}] (XX required)
    GET   /suppliers/:sid/rateplans/:pid/schema   the plan's schema (fixtures); else 404
    POST  /token                            (the auth service) grant_type=refresh_token, HTTP
                                            Basic client id/secret -> {access_token,
                                            refresh_token, expires_in}
Every API call needs `accept-version: 2.0.0` (else 400) and `Authorization: Bearer` with a live
token (else 401 with tests/fixtures/enertalk/error_unauthorized.json). Errors are
{code, type, message}. ACCESS_TOKEN is live from the start; control expire=1 ends every token.
"""

import json
import os

from . import FIXTURES, JSON, Tokens, basic_credentials, jbody

VERSION = "2.0.0"
ACCESS_TOKEN = "et-access-0"
REFRESH_TOKEN = "et-refresh-0"
CLIENT_ID = "et-client"
CLIENT_SECRET = "et-secret"
SITE = "site-1"
SUPPLIERS = {
    "US": "suppliers.json",
    "KR": [{"id": "kepco", "name": "KEPCO", "ratePlans": [{"id": "1", "name":
                                                            "Residential, low voltage"}]}],
}
SCHEMAS = {("eversource", "A1"): "rateplan_schema.json",
           ("kepco", "1"): "rateplan_schema_kr_tiers.json"}


def _load(name):
    with open(os.path.join(FIXTURES, "enertalk", name), "rb") as f:
        return json.load(f)


def _err(status, typ, message):
    return status, dict(JSON), jbody({"code": status, "type": typ, "message": message})


class EnertalkApi:
    HOSTS = ("api2.enertalk.com", "auth.enertalk.com")

    def __init__(self):
        self.bills = {SITE: _load("bill.json")}
        self.tokens = Tokens(3600)
        self.tokens.live[ACCESS_TOKEN] = 1 << 62
        self.refresh = {REFRESH_TOKEN}
        self.patches = 0

    def control(self, name, q, arg):
        if q.get("expire"):
            self.tokens.expire_all()

    def handle(self, req):
        path = req.path.rstrip("/")
        if path == "/token":
            return self._token(req)
        if req.headers.get("accept-version") != VERSION:
            return _err(400, "BadRequestError", "accept-version %s is required" % VERSION)
        if self.tokens.check(req.headers, req.now_s):
            st, hdr, _ = _err(401, "UnauthorizedError", "")
            return st, hdr, jbody(_load("error_unauthorized.json"))
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "sites" and parts[2] == "bills":
            bill = self.bills.get(parts[1])
            if bill is None:
                return _err(404, "NotFoundError", "site %s not found" % parts[1])
            if req.method == "GET":
                return 200, dict(JSON), jbody(bill)
            if req.method == "PATCH":
                return self._patch(req, bill)
            return _err(405, "MethodNotAllowedError", req.method)
        if req.method != "GET":
            return _err(405, "MethodNotAllowedError", req.method)
        if parts == ["suppliers"]:
            return self._suppliers(req)
        if len(parts) == 5 and parts[0] == "suppliers" and parts[2] == "rateplans" and \
                parts[4] == "schema":
            name = SCHEMAS.get((parts[1], parts[3]))
            if name is None:
                return _err(404, "NotFoundError", "rate plan %s/%s not found"
                            % (parts[1], parts[3]))
            return 200, dict(JSON), jbody(_load(name))
        return _err(404, "NotFoundError", path)

    def _suppliers(self, req):
        c = req.query.get("countryCode")
        if not c or len(c) != 2 or not c.isalpha() or not c.isupper():
            return _err(400, "BadRequestError", "countryCode: two capital letters required")
        s = SUPPLIERS.get(c, [])
        return 200, dict(JSON), jbody(_load(s) if isinstance(s, str) else s)

    def _plans(self, supplier):
        for country in SUPPLIERS.values():
            for s in _load(country) if isinstance(country, str) else country:
                if s["id"] == supplier:
                    return [str(p["id"]) for p in s["ratePlans"]]
        return None

    def _patch(self, req, bill):
        from tools.rateplan_import import RatePlanError, check_bill_settings

        if not req.headers.get("content-type", "").startswith("application/json"):
            return _err(415, "UnsupportedMediaTypeError", "expected application/json")
        try:
            ch = json.loads(req.body)
        except ValueError:
            return _err(400, "BadRequestError", "the body is not JSON")
        if not isinstance(ch, dict) or not ch:
            return _err(400, "BadRequestError", "expected an object of bill fields")
        for k in ch:
            if k not in ("meterDate", "supplierId", "ratePlanId", "billSettings"):
                return _err(400, "BadRequestError", "%s is not a bill field" % k)
        new = dict(bill)
        md = ch.get("meterDate", bill["meterDate"])
        if isinstance(md, bool) or not isinstance(md, int) or not 1 <= md <= 31:
            return _err(400, "BadRequestError", "meterDate: an integer 1..31 required")
        new["meterDate"] = min(md, 29)
        if "supplierId" in ch and ch["supplierId"] != bill["supplierId"] and \
                "ratePlanId" not in ch:
            return _err(400, "BadRequestError", "changing supplierId requires ratePlanId")
        new["supplierId"] = ch.get("supplierId", bill["supplierId"])
        new["ratePlanId"] = ch.get("ratePlanId", bill["ratePlanId"])
        plans = self._plans(new["supplierId"])
        if plans is None or str(new["ratePlanId"]) not in plans:
            return _err(400, "BadRequestError", "ratePlanId %s is not a plan of %s"
                        % (new["ratePlanId"], new["supplierId"]))
        if "billSettings" in ch:
            name = SCHEMAS.get((new["supplierId"], str(new["ratePlanId"])))
            try:
                check_bill_settings(_load(name)["billSettings"] if name else {},
                                    ch["billSettings"])
            except RatePlanError as e:
                return _err(400, "BadRequestError", str(e))
            new["billSettings"] = ch["billSettings"]
        self.bills[req.path.strip("/").split("/")[1]] = new
        self.patches += 1
        return 200, dict(JSON), jbody(new)

    def _token(self, req):
        if req.method != "POST":
            return _err(405, "MethodNotAllowedError", req.method)
        if basic_credentials(req.headers) != (CLIENT_ID, CLIENT_SECRET):
            return 401, dict(JSON), jbody({"error": "invalid_client"})
        try:
            form = json.loads(req.body)
        except ValueError:
            form = None
        if not isinstance(form, dict) or form.get("grant_type") != "refresh_token":
            return 400, dict(JSON), jbody({"error": "unsupported_grant_type"})
        if form.get("refresh_token") not in self.refresh:
            return 400, dict(JSON), jbody({"error": "invalid_grant"})
        self.refresh.discard(form["refresh_token"])
        new_refresh = "et-refresh-%d" % (self.tokens.issued + 1)
        self.refresh.add(new_refresh)
        return 200, dict(JSON), jbody({"access_token": self.tokens.issue(req.now_s),
                                       "refresh_token": new_refresh, "token_type": "Bearer",
                                       "expires_in": self.tokens.ttl_s})
