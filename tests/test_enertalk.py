"""tools/enertalk.py and `plugctl rateplan ...` against the loopback Enertalk Bills API
(host_sim/apis/enertalk_server.py: it refuses a call without `accept-version: 2.0.0` or a live
Bearer token, and bodies the documentation does not allow)."""

import io
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tools import enertalk
from tools.rateplan_import import RatePlanError

from support import unique_tag

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "enertalk")
TOKEN = "et-access-0"


def _base():
    return "http://127.0.0.1:%s/s/%s" % (os.environ["WW_ENERTALK_PORT"], unique_tag("et"))


def _client(base, token=TOKEN, **kw):
    return enertalk.Client(token, api=base, auth=base, **kw)


def _requests(base):
    with urllib.request.urlopen(base + "/_requests") as r:
        return json.loads(r.read())


def _fixture(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def test_calls_send_the_documented_headers_and_read_the_shapes():
    base = _base()
    c = _client(base)
    assert c.bill("site-1") == _fixture("bill.json")
    sup = c.suppliers("us")
    assert [s["id"] for s in sup] == ["eversource", "nationalGrid"]
    assert c.schema("eversource", "A1") == _fixture("rateplan_schema.json")
    reqs = _requests(base)
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("GET", "/sites/site-1/bills"), ("GET", "/suppliers"),
        ("GET", "/suppliers/eversource/rateplans/A1/schema")]
    assert reqs[1]["args"] == {"countryCode": ["US"]}
    for r in reqs:
        assert r["headers"]["authorization"] == "Bearer " + TOKEN
        assert r["headers"]["accept-version"] == "2.0.0"


def test_the_server_enforces_the_headers():
    base = _base()
    req = urllib.request.Request(base + "/sites/site-1/bills",
                                 headers={"Authorization": "Bearer " + TOKEN})
    with pytest.raises(urllib.error.HTTPError) as ei:  # no accept-version
        urllib.request.urlopen(req)
    assert ei.value.code == 400
    req = urllib.request.Request(base + "/sites/site-1/bills",
                                 headers={"accept-version": "2.0.0"})
    with pytest.raises(urllib.error.HTTPError) as ei:  # no token
        urllib.request.urlopen(req)
    assert ei.value.code == 401 and json.loads(ei.value.read()) == \
        _fixture("error_unauthorized.json")


def test_errors_are_one_line():
    base = _base()
    with pytest.raises(enertalk.EnertalkError) as ei:
        _client(base, token="stale").bill("site-1")
    msg = str(ei.value)
    assert msg.startswith("Enertalk GET /sites/site-1/bills: HTTP 401 UnauthorizedError: "
                          "access token expired; get a new access token")
    assert ei.value.status == 401 and "\n" not in msg
    with pytest.raises(enertalk.EnertalkError, match="HTTP 404 NotFoundError: site nope"):
        _client(base).bill("nope")
    with pytest.raises(enertalk.EnertalkError, match="HTTP 404 NotFoundError: rate plan"):
        _client(base).schema("eversource", "B9")
    with pytest.raises(enertalk.EnertalkError, match="countryCode: 'USA' is not allowed"):
        _client(base).suppliers("USA")
    with pytest.raises(enertalk.EnertalkError, match=r"no answer \(.*refused"):
        enertalk.Client(TOKEN, api="http://127.0.0.1:%s" % os.environ["WW_CLOSED_PORT"]) \
            .bill("site-1")
    with pytest.raises(enertalk.EnertalkError, match="no Enertalk access token"):
        enertalk.Client("")
    # answers that are not the documented shapes
    with pytest.raises(enertalk.EnertalkError, match=r"bill: expected \{meterDate: 1-29, "
                       r"supplierId, ratePlanId, billSettings: object or null\}, got an object "
                       r"with meterDate, supplierId"):
        enertalk.check_bill({"meterDate": 2, "supplierId": "x"})
    with pytest.raises(enertalk.EnertalkError, match="suppliers: expected a list of"):
        enertalk.check_suppliers({"id": "x"})
    with pytest.raises(enertalk.EnertalkError, match=r"schema: expected \{tiers"):
        enertalk.check_schema({"tiers": [1]})


def test_an_expired_token_is_refreshed_once_and_saved(tmp_path):
    base = _base()
    urllib.request.urlopen(base + "/_ctl?expire=1").read()
    tf = tmp_path / "token.json"
    tf.write_text(json.dumps({"access_token": TOKEN, "refresh_token": "et-refresh-0",
                              "client_id": "et-client", "client_secret": "et-secret"}))

    class A:
        token_file = str(tf)
        api = base
        auth_url = base

    c = enertalk.client_from(A, env={})
    assert c.bill("site-1")["ratePlanId"] == "A1"
    reqs = _requests(base)
    assert [r["path"] for r in reqs] == ["/sites/site-1/bills", "/token",
                                         "/sites/site-1/bills"]
    assert reqs[1]["headers"]["authorization"].startswith("Basic ")
    assert json.loads(reqs[1]["body"]) == {"grant_type": "refresh_token",
                                           "refresh_token": "et-refresh-0"}
    saved = json.loads(tf.read_text())
    assert saved["access_token"] != TOKEN and saved["refresh_token"] != "et-refresh-0"
    assert reqs[2]["headers"]["authorization"] == "Bearer " + saved["access_token"]
    # the old refresh token is spent: refused, one line
    c2 = _client(base, refresh_token="et-refresh-0", client_id="et-client",
                 client_secret="et-secret")
    with pytest.raises(enertalk.EnertalkError, match="token refresh: HTTP 400"):
        c2.bill("site-1")


def test_patch_bill_follows_the_documented_rules():
    base = _base()
    c = _client(base)
    got = c.patch_bill("site-1", {"meterDate": 31})
    assert got["meterDate"] == 29 and c.bill("site-1")["meterDate"] == 29  # clamped
    with pytest.raises(enertalk.EnertalkError, match="changing supplierId requires ratePlanId"):
        c.patch_bill("site-1", {"supplierId": "nationalGrid"})
    with pytest.raises(enertalk.EnertalkError, match="ratePlanId A1 is not a plan of "
                                                     "nationalGrid"):
        c.patch_bill("site-1", {"supplierId": "nationalGrid", "ratePlanId": "A1"})
    with pytest.raises(enertalk.EnertalkError, match="billSettings.discount: 7"):
        c.patch_bill("site-1", {"billSettings": {"discount": 7}})
    with pytest.raises(enertalk.EnertalkError, match="colour cannot be changed"):
        c.patch_bill("site-1", {"colour": 1})
    got = c.patch_bill("site-1", {"supplierId": "nationalGrid", "ratePlanId": "R2",
                                  "billSettings": None})
    assert (got["supplierId"], got["ratePlanId"]) == ("nationalGrid", "R2")
    body = json.loads(_requests(base)[-1]["body"])
    assert body == {"supplierId": "nationalGrid", "ratePlanId": "R2", "billSettings": None}


def _plugctl(*args, env=None):
    e = dict(os.environ, PYTHONPATH=ROOT, ENERTALK_TOKEN=TOKEN)
    e.pop("PLUGCTL_PORT", None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "tools.plugctl", "rateplan"] + list(args),
                          cwd=ROOT, env=e, capture_output=True, text=True, timeout=60)


def test_plugctl_rateplan_commands_without_a_board(tmp_path):
    base = _base()
    env = {"ENERTALK_API": base, "ENERTALK_AUTH": base}
    p = _plugctl("suppliers", "US", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "eversource  Eversource: A1 (A1 - Residential), " \
                                       "A5 (A5 - Residential Time-of-Use)"
    p = _plugctl("fetch", "site-1", "--dry-run", "--save", str(tmp_path), env=env)
    assert p.returncode == 0, p.stderr
    values = json.loads(p.stdout[p.stdout.index("{"):])
    assert values["rateplan.id"] == "eversource/A1" and values["rateplan.meterDate"] == 2
    assert values["rateplan.tiers"] == "100:0.012,0:0.20145"
    # the saved files import offline to the same settings
    from tools.rateplan_import import _load, convert

    assert convert(_load(str(tmp_path / "schema.json")), _load(str(tmp_path / "bill.json"))) \
        == values
    p = _plugctl("set-bill", "site-1", "--settings", '{"contractPower": 500}', env=env)
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "billSettings.contractPower: 500 is not allowed; expected a number in 4..300 kW" \
        in p.stderr
    p = _plugctl("set-bill", "site-1", "--meter-date", "15", env=env)
    assert p.returncode == 0 and json.loads(p.stdout)["meterDate"] == 15
    p = _plugctl("bill", "site-1", env=dict(env, ENERTALK_TOKEN="stale"))
    assert p.returncode == 4 and p.stderr.count("\n") == 1
    assert p.stderr.startswith("plugctl: error: rateplan bill: Enertalk GET /sites/site-1/bills"
                               ": HTTP 401 UnauthorizedError")
    p = _plugctl("schema", "eversource", env=env)
    assert p.returncode == 2 and "rateplan schema takes SUPPLIER PLAN" in p.stderr
    # a plug-side action still needs the board (none here: the one-line board error)
    p = _plugctl("fetch", "site-1", env=dict(env, PLUGCTL_PORT="/nonexistent/tty"))
    assert p.returncode == 3 and "port /nonexistent/tty does not exist" in p.stderr


def test_run_writes_the_imported_settings_through_the_board(monkeypatch):
    base = _base()
    monkeypatch.setenv("ENERTALK_TOKEN", TOKEN)
    written = []

    class A:
        action = "fetch"
        args = ["site-1"]
        currency = "USD"
        tier_amount = "upto"
        token_file = None
        api = base
        auth_url = base
        save = None
        dry_run = False

    enertalk.run("board", A, lambda b, v: written.append((b, v)), out=io.StringIO())
    assert written[0][0] == "board" and written[0][1]["rateplan.tiers"] == "100:0.012,0:0.20145"
    A.action, A.args = "import", [os.path.join(FIX, "rateplan_schema.json"),
                                  os.path.join(FIX, "bill.json")]
    enertalk.run("board", A, lambda b, v: written.append((b, v)))
    assert written[1][1] == written[0][1]  # the file import gives the same
    A.args = [os.path.join(FIX, "rateplan_schema_kr_tiers.json"), os.path.join(FIX, "bill.json")]
    with pytest.raises(RatePlanError, match="bill.ratePlanId"):
        enertalk.run("board", A, lambda b, v: None)
