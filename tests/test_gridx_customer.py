# runtimes: cpython micropython
"""GridX Customer Information & Usage (firmware/providers/gridx_customer.py): Customer Info's
shape to getPricing settings, the token and base64 id headers, and Customer Usage feeding the
rate plan's tiers - through the real http client against host_sim/apis/gridx_customer_server.py,
which enforces the (unverified, community-spec) headers, shapes and bill-cycle date rules."""

from firmware.clock.iso import parse_iso
from firmware.providers import AuthError, ProviderError, gridx

from support import env_int, loopback_client, raises, response_json, unique_tag

NOW = parse_iso("2025-11-01T10:00:00-07:00")


def _session():
    sid = unique_tag("gc")
    return "http://127.0.0.1:%d/s/%s" % (env_int("WW_GRIDX_PORT"), sid)


def _get_json(client, url):
    return response_json(client.get(url))


def _ctl(client, base, q):
    assert _get_json(client, base + "/_ctl?" + q) == {"ok": True}


def _pcfg(base, **kw):
    c = {f.name: f.default for f in gridx.CONFIG}
    c["gridx.ratename"] = "EV2AS"
    c["gridx.representativeCircuitId"] = "013532223"
    c["gridx.productionUrl"] = base + "/v1/getPricing"
    c["gridx.customerUrl"] = base + "/v1"
    for k, v in kw.items():
        c["gridx." + k] = v
    return c


INFO = {"contractId": "0123456789", "customerUuid": "c0ffee00", "rateCode": "EV2A",
        "voltageClass": "SECONDARY", "rateCodeHasVoltageClass": False, "circuitId": "013532223",
        "hasCca": True, "cca": "SVCE"}


def test_settings_from_customer_info_shape():
    from firmware.providers import gridx_customer as gc

    assert gc.settings_from(INFO, gridx.CCAS) == {
        "gridx.ratename": "EV2AS", "gridx.representativeCircuitId": "013532223",
        "gridx.cca": "SVCE"}
    d = dict(INFO, rateCode="TOU-EV-9S", rateCodeHasVoltageClass=True, hasCca=False, cca=None,
             circuitId="Eagle Rock", utility="SCE")
    assert gc.settings_from(d, gridx.CCAS) == {
        "gridx.ratename": "TOU-EV-9S", "gridx.representativeCircuitId": "Eagle Rock",
        "gridx.cca": "", "gridx.utility": "SCE"}
    assert gc.settings_from(dict(INFO, voltageClass="P"), gridx.CCAS)["gridx.ratename"] == "EV2AP"
    # another shape: one line naming what was expected and what came
    e = raises(ProviderError, gc.settings_from, {"accounts": [{"rateCode": "EV2AS"}]},
               gridx.CCAS)
    assert str(e) == "gridx: Customer Info: expected an object with rateCode and circuitId " \
                     "(voltageClass, hasCca, cca), got an object with accounts"
    e = raises(ProviderError, gc.settings_from, [INFO], gridx.CCAS)
    assert str(e).endswith("got a list of 1")
    e = raises(ProviderError, gc.settings_from, dict(INFO, cca="XYZ"), gridx.CCAS)
    assert "cca 'XYZ'" in str(e)
    e = raises(ProviderError, gc.settings_from, dict(INFO, voltageClass="HIGH"), gridx.CCAS)
    assert "voltageClass 'HIGH'" in str(e)


def _ccfg(base, **kw):
    return _pcfg(base, clientId="gridx-client", clientSecret="gridx-secret",
                 contractId="0123456789", customerUuid="c0ffee00-0000-4000-8000-000000000001",
                 **kw)


def test_customer_info_autoconfigure_with_token_cache_and_refresh():
    http, client = loopback_client()
    base = _session()
    c = _ccfg(base, ratename="", representativeCircuitId="")
    st = {}
    got = gridx.autoconfigure(client, c, NOW, st)
    assert got == {"gridx.ratename": "EV2AS", "gridx.representativeCircuitId": "013532223",
                   "gridx.cca": ""}
    c.update(got)
    assert len(gridx.fetch(client, c, NOW, st)) == 49
    tok = st["gridx.token"]
    assert gridx.autoconfigure(client, c, NOW + 60, st) == got  # cached token
    reqs = _get_json(client, base + "/_requests")
    assert [r["path"] for r in reqs] == ["/v1/auth/token", "/v1/customer/info",
                                         "/v1/getPricing", "/v1/customer/info"]
    assert reqs[0]["method"] == "POST" and reqs[0]["headers"]["authorization"].startswith("Basic")
    assert "grant_type=client_credentials" in reqs[0]["body"]
    info = reqs[1]["headers"]
    assert info["authorization"] == "Bearer " + tok
    assert info["x-contract-id"] == "MDEyMzQ1Njc4OQ=="  # base64, as the community spec says
    assert info["x-customer-uuid"] == "YzBmZmVlMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAx"
    # expiry by the clock: a new token without a 401
    gridx.autoconfigure(client, c, st["gridx.exp_s"] + 1, st)
    assert st["gridx.token"] != tok
    # expiry on the server: 401, one refresh, retry
    tok = st["gridx.token"]
    _ctl(client, base, "expire=1")
    assert gridx.autoconfigure(client, c, NOW + 120, st) == got
    paths = [r["path"] for r in _get_json(client, base + "/_requests")][-3:]
    assert paths == ["/v1/customer/info", "/v1/auth/token", "/v1/customer/info"]
    assert st["gridx.token"] != tok
    # refused even with a fresh token: AuthError, and no endless loop
    _ctl(client, base, "fail=401&count=2")
    raises(AuthError, gridx.autoconfigure, client, c, NOW + 180, st)
    # plain ids where the server wants base64: the server's one line comes back
    e = raises(http.HTTPError, gridx.autoconfigure, client, dict(c, **{"gridx.idEncoding":
                                                                       "plain"}), NOW, st)
    assert e.status == 400
    # other paths and header names are settings
    e = raises(http.HTTPError, gridx.autoconfigure, client,
               dict(c, **{"gridx.infoPath": "/customer/account"}), NOW, st)
    assert e.status == 404
    # bad secret
    c["gridx.clientSecret"] = "wrong"
    e = raises(AuthError, gridx.autoconfigure, client, c, NOW + 200, {})
    assert "invalid_client" in str(e)
    c["gridx.contractId"] = ""
    e = raises(ProviderError, gridx.autoconfigure, client, c, NOW, {})
    assert "gridx.contractId" in str(e)


# -- Customer Usage feeds the rate plan's counter ------------------------------------------------

PDT_NOW = parse_iso("2025-11-01T10:20:00-07:00")  # the cycle (meterDate 1) began 10 h 20 min ago


def _rcfg(base, **kw):
    from firmware.providers import rateplan

    c = {f.name: f.default for f in rateplan.CONFIG}
    c.update({"tz": "PST8PDT,M3.2.0,M11.1.0", "rateplan.tiers": "100:0.012,0:0.20145",
              "rateplan.price": "0", "rateplan.meterDate": 1, "rateplan.load_kw": 0,
              "rateplan.usage": "gridx", "source": "rateplan"})
    # only what an installer sets: the Customer API's host, paths and headers are defaults
    c.update({"gridx.customerUrl": base + "/v1", "gridx.clientId": "gridx-client",
              "gridx.clientSecret": "gridx-secret", "gridx.contractId": "0123456789",
              "gridx.customerUuid": "c0ffee00-0000-4000-8000-000000000001"})
    c.update(kw)
    return c


def test_customer_usage_sets_the_tier_in_preference_to_the_plugs_estimate():
    from firmware.providers import rateplan

    http, client = loopback_client()
    base = _session()
    _ctl(client, base, "usage_wh=12000&now=%d" % PDT_NOW)  # 12 kWh/h: 120 kWh by 10:00, tier 2
    st = {}
    c = _rcfg(base, **{"gridx.usageMin": 60})
    s = rateplan.fetch(client, c, PDT_NOW, st)
    assert s.price_at(PDT_NOW) == 201450 and st["rateplan.usage_wh"] == 120000
    assert st["rateplan.usage_end_s"] == parse_iso("2025-11-01T10:00:00-07:00")
    assert "rateplan.usage_err" not in st
    r = _get_json(client, base + "/_requests")[-1]
    assert r["path"] == "/v1/customer/usage"
    assert r["args"] == {"start": ["2025-11-01T07:00:00Z"], "end": ["2025-11-01T17:00:00Z"]}
    # the plug's own estimate alone (no usage source): tier 1
    own = {}
    assert rateplan.fetch(None, _rcfg(base, **{"rateplan.usage": ""}), PDT_NOW, own) \
        .price_at(PDT_NOW) == 12000
    # not asked again before gridx.usageMin; then again
    n = len(_get_json(client, base + "/_requests"))
    rateplan.fetch(client, c, PDT_NOW + 1800, st)
    assert len(_get_json(client, base + "/_requests")) == n
    _ctl(client, base, "now=%d" % (PDT_NOW + 2 * 3600))
    rateplan.fetch(client, c, PDT_NOW + 2 * 3600, st)
    assert st["rateplan.usage_wh"] == 144000  # two more hours
    # a new cycle forgets the old usage
    nxt = parse_iso("2025-12-01T00:30:00-08:00")
    assert rateplan.cycle_wh(st, _rcfg(base), nxt, rateplan._zone(_rcfg(base), {})) == 0


def test_usage_lag_is_bridged_by_the_plugs_own_count():
    from firmware.providers import rateplan

    http, client = loopback_client()
    base = _session()
    # 9 kWh an hour, the meter data 3 h behind: 63 kWh up to 07:00
    _ctl(client, base, "usage_wh=9000&usage_lag_s=%d&now=%d" % (3 * 3600, PDT_NOW))
    c = _rcfg(base)
    z = rateplan._zone(c, {})
    st = {}
    rateplan.add_energy(st, c, parse_iso("2025-11-01T05:00:00-07:00"), 2000, z)  # in the data
    rateplan.add_energy(st, c, parse_iso("2025-11-01T08:30:00-07:00"), 40000, z)  # after it
    s = rateplan.fetch(client, c, PDT_NOW, st)
    assert st["rateplan.usage_wh"] == 63000
    assert st["rateplan.usage_end_s"] == parse_iso("2025-11-01T07:00:00-07:00")
    assert rateplan.cycle_wh(st, c, PDT_NOW, z) == 103000  # 63 kWh + the 40 after 07:00
    assert s.price_at(PDT_NOW) == 201450  # tier 2; the usage alone would say tier 1


def test_usage_failures_keep_the_plugs_own_count():
    from firmware.providers import rateplan

    http, client = loopback_client()
    base = _session()
    # the utility's bill cycle starts on the 15th, the plan's on the 1st: refused
    _ctl(client, base, "meter_date=15&usage_wh=20000&now=%d" % PDT_NOW)
    st = {}
    c = _rcfg(base, **{"gridx.usageMin": 60})
    rateplan.add_energy(st, c, PDT_NOW - 600, 5000, rateplan._zone(c, {}))
    s = rateplan.fetch(client, c, PDT_NOW, st)  # the fetch itself does not fail
    assert s.price_at(PDT_NOW) == 12000 and rateplan.cycle_wh(st, c, PDT_NOW,
                                                              rateplan._zone(c, {})) == 5000
    assert "pre-billing usage starts at the bill cycle start 2025-10-15T07:00:00Z" in \
        st["rateplan.usage_err"]
    # a different answer shape is named, not guessed at
    _ctl(client, base, "meter_date=1&now=%d" % (PDT_NOW + 3600))
    st["gridx.exp_s"] = PDT_NOW + 86400  # the token is still good: the next call is the usage
    _get_json(client, base + "/_canned?f=gridx/error_204_rate_mismatch.json")
    rateplan.fetch(client, c, PDT_NOW + 3600, st)
    assert st["rateplan.usage_err"] == "gridx: /customer/usage: expected {payloadDescriptors, " \
        "intervalPeriod {start, duration}, intervals [...]}, got no intervalPeriod"
    assert set(st) <= set(rateplan.PERSIST) | {"gridx.token", "gridx.exp_s"}
