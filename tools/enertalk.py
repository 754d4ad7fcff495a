"""Enertalk Bills API client (host side) and the `plugctl rateplan` commands that use it.

    GET   /sites/:siteId/bills                                  the bill {meterDate, supplierId,
                                                                ratePlanId, billSettings|null}
    PATCH /sites/:siteId/bills                                  change those fields
    GET   /suppliers?countryCode=XX                             [{id, name, ratePlans [{id, name}]}]
    GET   /suppliers/:supplierId/rateplans/:ratePlanId/schema   {tiers {base, usage}, billSettings}

Every call sends `Authorization: Bearer <access token>` and `accept-version: 2.0.0` to
https://api2.enertalk.com (APIS.md §6). A 401 {"code": 401, "type": "UnauthorizedError"} is
answered, when a refresh token and the client id/secret are known, by one refresh at
https://auth.enertalk.com/token (grant_type=refresh_token, HTTP Basic client auth, as the
Enertalk JS client does) and one retry. Answers are checked against the documented shapes.
Every failure is an EnertalkError whose message is one line (plugctl prints it as is).

Credentials: ENERTALK_TOKEN (and optionally ENERTALK_REFRESH_TOKEN, ENERTALK_CLIENT_ID,
ENERTALK_CLIENT_SECRET), or --token-file FILE.json {access_token, refresh_token?, client_id?,
client_secret?} that a refresh rewrites. Never on the command line, never printed.
The plug still gets the plan by the import (tools/rateplan_import.convert), so `rateplan
import SCHEMA BILL` keeps working offline on saved files.
"""

import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

API = "https://api2.enertalk.com"
AUTH = "https://auth.enertalk.com"
VERSION = "2.0.0"
BILL_FIELDS = ("meterDate", "supplierId", "ratePlanId", "billSettings")


class EnertalkError(Exception):
    """A failed Bills API call; str(e) is one line."""

    def __init__(self, msg, status=None):
        super().__init__(" ".join(str(msg).split()))
        self.status = status


def _kind(v):
    if isinstance(v, dict):
        return "an object with %s" % (", ".join(sorted(v)) or "no fields")
    if isinstance(v, list):
        return "a list of %d" % len(v)
    return json.dumps(v)[:60]


# -- the documented shapes ------------------------------------------------------------------
def check_bill(doc, where="bill"):
    ok = isinstance(doc, dict) and all(k in doc for k in BILL_FIELDS)
    if ok:
        md, sup, plan, bs = (doc[k] for k in BILL_FIELDS)
        ok = isinstance(md, int) and not isinstance(md, bool) and 1 <= md <= 31 and \
            isinstance(sup, str) and isinstance(plan, (str, int)) and \
            not isinstance(plan, bool) and (bs is None or isinstance(bs, dict))
    if not ok:
        raise EnertalkError("%s: expected {meterDate: 1-29, supplierId, ratePlanId, "
                            "billSettings: object or null}, got %s" % (where, _kind(doc)))
    return doc


def check_suppliers(doc, where="suppliers"):
    ok = isinstance(doc, list)
    for s in doc if ok else ():
        ok = ok and isinstance(s, dict) and isinstance(s.get("id"), str) and \
            isinstance(s.get("ratePlans"), list) and \
            all(isinstance(p, dict) and "id" in p for p in s["ratePlans"])
    if not ok:
        raise EnertalkError("%s: expected a list of {id, name, ratePlans [{id, name}]}, got %s"
                            % (where, _kind(doc)))
    return doc


def check_schema(doc, where="schema"):
    tiers = doc.get("tiers") if isinstance(doc, dict) else None
    ok = isinstance(tiers, dict) and all(isinstance(tiers.get(k, []), list)
                                         for k in ("base", "usage")) and \
        isinstance(doc.get("billSettings", {}) or {}, dict)
    if not ok:
        raise EnertalkError("%s: expected {tiers {base [], usage []}, billSettings {}}, got %s"
                            % (where, _kind(doc)))
    return doc


# -- the client ---------------------------------------------------------------------------------
class Client:
    def __init__(self, token, api=API, auth=AUTH, refresh_token=None, client_id=None,
                 client_secret=None, timeout_s=15, on_token=None):
        if not token:
            raise EnertalkError("no Enertalk access token: set ENERTALK_TOKEN or --token-file")
        self.token = token
        self.api = api.rstrip("/")
        self.auth = auth.rstrip("/")
        self.refresh_token = refresh_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout_s = timeout_s
        self.on_token = on_token  # called with the new token dict after a refresh

    def bill(self, site_id):
        return check_bill(self._call("GET", "/sites/%s/bills" % _seg(site_id)))

    def patch_bill(self, site_id, changes):
        unknown = [k for k in changes if k not in BILL_FIELDS]
        if unknown:
            raise EnertalkError("bill: %s cannot be changed; expected %s"
                                % (", ".join(unknown), ", ".join(BILL_FIELDS)))
        return check_bill(self._call("PATCH", "/sites/%s/bills" % _seg(site_id), body=changes))

    def suppliers(self, country):
        c = str(country or "").upper()
        if len(c) != 2 or not c.isalpha():
            raise EnertalkError("countryCode: %r is not allowed; expected two letters such as US"
                                % country)
        return check_suppliers(self._call("GET", "/suppliers", {"countryCode": c}))

    def schema(self, supplier_id, plan_id):
        return check_schema(self._call("GET", "/suppliers/%s/rateplans/%s/schema"
                                       % (_seg(supplier_id), _seg(plan_id))))

    # -- HTTP ------------------------------------------------------------------------------
    def _call(self, method, path, query=None, body=None):
        for attempt in (0, 1):
            status, doc = self._http(method, self.api + path, query, body,
                                     {"Authorization": "Bearer " + self.token,
                                      "accept-version": VERSION})
            expired = status == 401 and isinstance(doc, dict) and \
                doc.get("type") == "UnauthorizedError"
            if expired and not attempt and self.refresh_token and self.client_id and \
                    self.client_secret:
                self._refresh()
                continue
            break
        if status >= 400:
            raise EnertalkError("Enertalk %s %s: %s%s" % (
                method, path, _error_text(status, doc),
                "; get a new access token (or give a refresh token and the client id/secret)"
                if status == 401 else ""), status)
        return doc

    def _refresh(self):
        basic = base64.b64encode(("%s:%s" % (self.client_id, self.client_secret)).encode())
        status, doc = self._http("POST", self.auth + "/token", None,
                                 {"grant_type": "refresh_token",
                                  "refresh_token": self.refresh_token},
                                 {"Authorization": "Basic " + basic.decode()})
        tok = doc.get("access_token") if isinstance(doc, dict) else None
        if status >= 400 or not isinstance(tok, str) or not tok:
            raise EnertalkError("Enertalk token refresh: %s" % _error_text(status, doc), status)
        self.token = tok
        self.refresh_token = doc.get("refresh_token") or self.refresh_token
        if self.on_token is not None:
            self.on_token({"access_token": tok, "refresh_token": self.refresh_token})

    def _http(self, method, url, query, body, headers):
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = dict(headers, Accept="application/json")
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise EnertalkError("Enertalk %s %s: no answer (%s)"
                                % (method, urllib.parse.urlsplit(url).netloc, reason))
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            if status >= 400:
                return status, None
            raise EnertalkError("Enertalk %s %s: the answer is not JSON"
                                % (method, urllib.parse.urlsplit(url).path))


def _seg(v):
    return urllib.parse.quote(str(v), safe="")


def _error_text(status, doc):
    if isinstance(doc, dict) and (doc.get("type") or doc.get("message")):
        return "HTTP %d %s%s" % (status, doc.get("type") or "",
                                 (": %s" % doc["message"]) if doc.get("message") else "")
    return "HTTP %d" % status


# -- credentials ------------------------------------------------------------------------------
def client_from(a, env=None):
    """A Client from --token-file or the ENERTALK_* environment, and --api/--auth-url."""
    env = os.environ if env is None else env
    creds = {"access_token": env.get("ENERTALK_TOKEN"),
             "refresh_token": env.get("ENERTALK_REFRESH_TOKEN"),
             "client_id": env.get("ENERTALK_CLIENT_ID"),
             "client_secret": env.get("ENERTALK_CLIENT_SECRET")}
    on_token = None
    path = getattr(a, "token_file", None)
    if path:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise EnertalkError("--token-file %s: %s" % (path, getattr(e, "strerror", None) or e))
        if not isinstance(doc, dict):
            raise EnertalkError("--token-file %s: expected a JSON object with access_token"
                                % path)
        creds.update({k: v for k, v in doc.items() if k in creds and v})

        def on_token(new):
            doc.update(new)
            tmp = path + ".part"
            with open(tmp, "w") as f:
                json.dump(doc, f, indent=1)
            os.replace(tmp, path)
    return Client(creds["access_token"], getattr(a, "api", None) or env.get("ENERTALK_API") or
                  API, getattr(a, "auth_url", None) or env.get("ENERTALK_AUTH") or AUTH,
                  creds["refresh_token"], creds["client_id"], creds["client_secret"],
                  on_token=on_token)


# -- plugctl rateplan ... ---------------------------------------------------------------------
ACTIONS = {  # action: (arguments, needs the board, help)
    "import": (("SCHEMA", "BILL"), True, "import saved schema and bill files (offline)"),
    "fetch": (("SITE",), True, "get the site's bill and its rate plan's schema from Enertalk "
                               "and import them into the plug (--dry-run: print only)"),
    "suppliers": (("COUNTRY",), False, "list the suppliers and rate plans of a country"),
    "schema": (("SUPPLIER", "PLAN"), False, "print a rate plan's schema"),
    "bill": (("SITE",), False, "print the site's bill"),
    "set-bill": (("SITE",), False, "change the site's bill (--meter-date, --supplier with "
                                   "--plan, --settings JSON)"),
}


def needs_board(a):
    return ACTIONS[a.action][1] and not getattr(a, "dry_run", False)


def add_args(p):
    p.add_argument("action", choices=tuple(ACTIONS),
                   help="; ".join("%s %s: %s" % (k, " ".join(v[0]), v[2])
                                  for k, v in ACTIONS.items()))
    p.add_argument("args", nargs="*", metavar="ARG")
    p.add_argument("--currency", default="USD", help="currency of the tier costs (USD)")
    from .rateplan_import import add_tier_amount

    add_tier_amount(p)
    p.add_argument("--token-file", help="JSON {access_token, refresh_token?, client_id?, "
                   "client_secret?} (default: $ENERTALK_TOKEN ...)")
    p.add_argument("--api", help="Bills API root (default $ENERTALK_API or %s)" % API)
    p.add_argument("--auth-url", help="token service (default $ENERTALK_AUTH or %s)" % AUTH)
    p.add_argument("--save", metavar="DIR", help="fetch: also write schema.json and bill.json "
                   "there (for `rateplan import` offline)")
    p.add_argument("--dry-run", action="store_true",
                   help="fetch: print the settings instead of writing them to the plug")
    p.add_argument("-o", "--output", help="schema/bill: write the JSON to this file")
    p.add_argument("--meter-date", type=int, help="set-bill: day of month the cycle starts")
    p.add_argument("--supplier", help="set-bill: supplier id (needs --plan)")
    p.add_argument("--plan", help="set-bill: rate plan id")
    p.add_argument("--settings", help="set-bill: billSettings as JSON")
    p.set_defaults(needs_board=needs_board)


def run(board, a, write_settings, out=sys.stdout):
    """One `plugctl rateplan` action; write_settings(board, values) stores settings on the plug.
    Raises EnertalkError or RatePlanError (one line each)."""
    from . import rateplan_import as ri

    names = ACTIONS[a.action][0]
    if len(a.args) != len(names):
        raise EnertalkError("rateplan %s takes %s" % (a.action, " ".join(names)))
    args = a.args
    if a.action == "import":
        values = ri.convert(ri._load(args[0]), ri._load(args[1]), a.currency, a.tier_amount)
        return write_settings(board, values)
    client = client_from(a)
    if a.action == "suppliers":
        for s in client.suppliers(args[0]):
            plans = ", ".join("%s (%s)" % (p["id"], p.get("name", "")) for p in s["ratePlans"])
            out.write("%s  %s: %s\n" % (s["id"], s.get("name", ""), plans or "no rate plans"))
        return None
    if a.action in ("schema", "bill"):
        doc = client.schema(*args) if a.action == "schema" else client.bill(args[0])
        _write_json(doc, a.output, out)
        return None
    if a.action == "set-bill":
        changes = _changes(a)
        if "billSettings" in changes:  # checked here first: one line naming the setting
            bill = client.bill(args[0])
            schema = client.schema(changes.get("supplierId", bill["supplierId"]),
                                   changes.get("ratePlanId", bill["ratePlanId"]))
            ri.check_bill_settings(schema.get("billSettings"), changes["billSettings"])
        return _write_json(client.patch_bill(args[0], changes), None, out)
    bill = client.bill(args[0])  # fetch
    schema = client.schema(bill["supplierId"], bill["ratePlanId"])
    values = ri.convert(schema, bill, a.currency, a.tier_amount)
    if a.save:
        os.makedirs(a.save, exist_ok=True)
        for name, doc in (("schema.json", schema), ("bill.json", bill)):
            _write_json(doc, os.path.join(a.save, name), out)
    if a.dry_run:
        return _write_json(values, None, out)
    return write_settings(board, values)


def _changes(a):
    ch = {}
    if a.meter_date is not None:
        ch["meterDate"] = a.meter_date
    if a.supplier is not None:
        if a.plan is None:  # the Bills API: a new supplier needs a new rate plan too
            raise EnertalkError("set-bill: --supplier needs --plan (a supplier's own rate plan)")
        ch["supplierId"] = a.supplier
    if a.plan is not None:
        ch["ratePlanId"] = a.plan
    if a.settings is not None:
        try:
            ch["billSettings"] = json.loads(a.settings)
        except ValueError as e:
            raise EnertalkError("--settings: not JSON (%s)" % e)
    if not ch:
        raise EnertalkError("set-bill: nothing to change (--meter-date, --supplier/--plan, "
                            "--settings)")
    return ch


def _write_json(doc, path, out):
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if path:
        with open(path, "w") as f:
            f.write(text)
        out.write("wrote %s\n" % path)
    else:
        out.write(text)
