# runtimes: cpython micropython
"""GridX getPricing (+ Customer Info): parsing, request parameters, no-data answers, DST days,
forecasts, tokens - through the real http client against host_sim/apis/gridx_server.py."""

import gc
import json

from firmware.clock.iso import parse_iso
from firmware.prices.schedule import FLAG_FORECAST, price_u
from firmware.providers import NoData, ProviderError, gridx

from support import (
    env_int,
    fixture_path,
    loopback_client,
    raises,
    read_fixture,
    response_json,
    unique_tag,
)

FIX = "gridx/pricing_2day_dam_hourly_dst.json"
NOW = parse_iso("2025-11-01T10:00:00-07:00")


def cfg(**kw):
    c = {f.name: f.default for f in gridx.CONFIG}
    c["gridx.ratename"] = "EV2AS"
    c["gridx.representativeCircuitId"] = "013532223"
    for k, v in kw.items():
        c["gridx." + k] = v
    return c


_WANT = []


def expected():
    """The fixture's intervals through the stock json module (an independent oracle)."""
    if _WANT:
        return _WANT
    with open(fixture_path(FIX)) as f:
        d = json.load(f)  # from the stream: no 32 KB bytes object on a small heap
    out = _WANT
    for curve in d["data"]:
        step = curve["priceHeader"]["intervalLengthInMinutes"] * 60
        for det in curve["priceDetails"]:
            t = parse_iso(det["startIntervalTimeStamp"])
            out.append((t, t + step, price_u(det["intervalPrice"]), det["priceStatus"]))
    d = None
    gc.collect()
    return out


def check_fixture(s, want=None):
    want = want or expected()
    assert len(s) == len(want) == 49
    for i, (t0, t1, p, st) in enumerate(want):
        assert (s.start_of(i), s.end_of(i), s.prices[i]) == (t0, t1, p), i
        assert s.flags[i] == (0 if st == "Final" else FLAG_FORECAST)
    assert s.currency == "USD" and s.unit == "kWh"


class Chunks:
    """A readinto() source handing out at most n bytes at a time (like a slow socket)."""

    def __init__(self, f, n):
        self.f, self.n = f, n

    def readinto(self, buf):
        return self.f.readinto(memoryview(buf)[:min(self.n, len(buf))])


# -- without network ------------------------------------------------------------------------

def test_parse_fixture_fall_back_day():
    want = expected()
    for n in (7, 100, 1 << 16):
        st = {}
        with open(fixture_path(FIX), "rb") as f:
            s = gridx.parse(Chunks(f, n), NOW, st)
        check_fixture(s, want)
        assert st["gridx.forecast_intervals"] == 0
    # 25 intervals on 2025-11-02, local 01:00 twice (-0700 then -0800) with different prices
    day = parse_iso("2025-11-02T00:00:00-07:00")
    nxt = parse_iso("2025-11-03T00:00:00-08:00")
    assert nxt - day == 25 * 3600
    assert len([1 for t0, _, _, _ in want if day <= t0 < nxt]) == 25
    a = s.price_at(parse_iso("2025-11-02T01:00:00-07:00"))
    b = s.price_at(parse_iso("2025-11-02T01:00:00-08:00"))
    assert a is not None and b is not None and a != b
    assert s.end_s == nxt and s.tariff_id == "PGE-CalFUSE-EV2A-SECONDARY"


def test_parse_offset_forms_forecast_and_errors():
    body = ('{"meta":{"code":200},"data":[{"priceHeader":{"intervalLengthInMinutes":15,'
            '"settlementCurrency":"USD"},"priceDetails":['
            '{"startIntervalTimeStamp":"2026-03-08T01:45:00-08:00","intervalPrice":"0.1234565",'
            '"priceStatus":"Final","priceComponents":[]},'
            '{"startIntervalTimeStamp":"2026-03-08T03:00:00-0700","intervalPrice":"-0.010000",'
            '"priceStatus":"Preliminary"}]}]}')
    st = {}
    s = gridx.parse(body.encode(), NOW, st)
    assert s.start_of(0) == parse_iso("2026-03-08T09:45:00Z")
    assert s.end_of(0) == parse_iso("2026-03-08T10:00:00Z")  # spring forward: 03:00-0700
    assert s.prices[0] == 123457 and s.prices[1] == -10000  # exact decimal rounding
    assert s.flags[0] == 0 and s.flags[1] == FLAG_FORECAST and st["gridx.forecast_intervals"] == 1
    e = raises(NoData, gridx.parse, read_fixture("gridx/error_204_rate_mismatch.json"), NOW, {})
    assert "meta.code 204" in str(e) and "rate code does not match" in str(e)
    raises(NoData, gridx.parse, b'{"meta":{"code":200},"data":[]}', NOW, {})
    e = raises(ProviderError, gridx.parse, b'{"meta":{"code":200},"data":[{"priceDetails":'
               b'[{"startIntervalTimeStamp":"2025-11-01T00:00:00","intervalPrice":"1"}]}]}',
               NOW, {})
    assert "offset" in str(e)
    raises(ProviderError, gridx.parse, b'{"data":[{"priceDetails":[{"startIntervalTimeStamp":'
           b'"2025-11-01T00:00:00Z"}]}]}', NOW, {})
    raises(ProviderError, gridx.parse, b'{"meta": {"code": 200}, "data": [', NOW, {})


def test_params_local_dates_span_and_cca():
    q = dict(gridx.params(cfg(), NOW))
    assert q == {"utility": "PGE", "market": "DAM", "program": "CalFUSE", "ratename": "EV2AS",
                 "representativeCircuitId": "013532223", "startdate": "20251101",
                 "enddate": "20251102"}
    # 23:30 Pacific is already the next UTC day: the dates stay Pacific
    late = parse_iso("2025-11-01T23:30:00-07:00")
    assert dict(gridx.params(cfg(), late))["startdate"] == "20251101"
    assert dict(gridx.params(cfg(), late + 3600))["startdate"] == "20251102"
    q = gridx.params(cfg(days=30, cca="PCE", utility="PGE"), NOW)
    assert dict(q)["enddate"] == "20251114" and ("cca", "PCE") in q  # at most 14 days
    assert [k for k, _ in q][-2:] == ["startdate", "enddate"]
    e = raises(ProviderError, gridx.params, cfg(ratename=""), NOW)
    assert "gridx.ratename" in str(e)


def test_urls_and_publication_times():
    assert gridx.url(cfg()) == gridx.PRODUCTION
    assert gridx.url(cfg(stage=True)) == "https://pge-pe-api.gridx.com/stage/v1/getPricing"
    assert gridx.url(cfg(stage=True, utility="SCE")) == \
        "https://pe-api.gridx.com/stage/v1/getPricing"
    assert gridx.url(cfg(stage=True, stageUrl="http://x/y")) == "http://x/y"
    assert gridx.publish_local_min(cfg()) == 16 * 60 + 30
    assert gridx.publish_local_min(cfg(utility="SCE")) == 18 * 60
    assert gridx.publish_local_min(cfg(publishMin=1000)) == 1000


# -- over http --------------------------------------------------------------------------------



def _session():
    sid = unique_tag("gx")
    return "http://127.0.0.1:%d/s/%s" % (env_int("WW_GRIDX_PORT"), sid)


def _get_json(client, url):
    return response_json(client.get(url))


def _ctl(client, base, q):
    assert _get_json(client, base + "/_ctl?" + q) == {"ok": True}


def _pcfg(base, **kw):
    return cfg(productionUrl=base + "/v1/getPricing", customerUrl=base + "/v1", **kw)


def test_fetch_fixture_verbatim_and_request_parameters():
    http, client = loopback_client()
    base = _session()
    _ctl(client, base, "")
    _get_json(client, base + "/_canned?f=gridx/pricing_2day_dam_hourly_dst.json")
    s = gridx.fetch(client, _pcfg(base, cca="PCE"), NOW, {})
    check_fixture(s)
    reqs = _get_json(client, base + "/_requests")
    assert len(reqs) == 1
    r = reqs[0]
    assert r["method"] == "GET" and r["path"] == "/v1/getPricing"
    assert r["args"] == {"utility": ["PGE"], "market": ["DAM"], "program": ["CalFUSE"],
                         "ratename": ["EV2AS"], "representativeCircuitId": ["013532223"],
                         "cca": ["PCE"], "startdate": ["20251101"], "enddate": ["20251102"]}
    assert "authorization" not in r["headers"]


def test_fetch_generated_curves_match_fixture_prices():
    http, client = loopback_client()
    base = _session()
    s = gridx.fetch(client, _pcfg(base), NOW, {})
    check_fixture(s)  # the server rebuilt both days (Pacific days, -0700/-0800 offsets)
    # one day only, and a circuit id with leading zeros / SCE substation names pass unchanged
    s = gridx.fetch(client, _pcfg(base, days=1, utility="SCE",
                                  representativeCircuitId="Eagle Rock"), NOW, {})
    assert len(s) == 24
    r = _get_json(client, base + "/_requests")[-1]
    assert r["args"]["representativeCircuitId"] == ["Eagle Rock"]
    assert r["args"]["enddate"] == ["20251101"]
    # 15-minute intervals: 96 + 100 records, and a price change mid-hour is kept
    _ctl(client, base, "interval=15")
    s = gridx.fetch(client, _pcfg(base), NOW, {})
    assert len(s) == 196 and s.end_s == parse_iso("2025-11-03T00:00:00-08:00")
    assert s.end_of(0) - s.start_of(0) == 900


def test_no_data_answers():
    http, client = loopback_client()
    base = _session()
    _ctl(client, base, "fail=empty204")
    e = raises(NoData, gridx.fetch, client, _pcfg(base), NOW, {})
    assert "HTTP 204" in str(e)
    # a 204 that carries a body anyway: a 204 has no content (RFC 9110), so the client reads
    # none; still NoData, and the stray bytes do not poison the next request
    _ctl(client, base, "fail=body204")
    e = raises(NoData, gridx.fetch, client, _pcfg(base), NOW, {})
    assert "HTTP 204" in str(e)
    assert len(gridx.fetch(client, _pcfg(base), NOW, {})) == 49
    _ctl(client, base, "fail=meta204")
    e = raises(NoData, gridx.fetch, client, _pcfg(base), NOW, {})
    assert "(meta.code 204): No data found" in str(e)
    _get_json(client, base + "/_canned?f=gridx/error_204_rate_mismatch.json")
    e = raises(NoData, gridx.fetch, client, _pcfg(base), NOW, {})
    assert "rate code does not match" in str(e)
    # the server's own validation: a CCA for SCE, and days outside the fixture
    e = raises(NoData, gridx.fetch, client, _pcfg(base, utility="SCE", cca="PCE"), NOW, {})
    assert "CCA" in str(e)
    e = raises(NoData, gridx.fetch, client, _pcfg(base), NOW + 10 * 86400, {})
    assert "No data found" in str(e)
    # the maximum span is respected, so the server never refuses it
    s = gridx.fetch(client, _pcfg(base, days=14), NOW - 5 * 86400, {})
    assert len(s) == 49
    assert _get_json(client, base + "/_requests")[-1]["args"]["enddate"] == ["20251109"]


def test_http_errors_and_bad_bodies():
    http, client = loopback_client()
    base = _session()
    _ctl(client, base, "fail=500")
    e = raises(http.HTTPError, gridx.fetch, client, _pcfg(base), NOW, {})
    assert e.status == 500
    _ctl(client, base, "fail=503")
    e = raises(http.HTTPError, gridx.fetch, client, _pcfg(base), NOW, {})
    assert e.status == 503 and e.retry_after_s == 7
    _ctl(client, base, "fail=garbage")
    raises(ProviderError, gridx.fetch, client, _pcfg(base), NOW, {})
    assert len(gridx.fetch(client, _pcfg(base), NOW, {})) == 49  # and it recovers


def test_forecast_replaced_by_final():
    http, client = loopback_client()
    base = _session()
    cut = parse_iso("2025-11-02T00:00:00-07:00")
    _ctl(client, base, "forecast_from=%d" % cut)
    st = {}
    first = gridx.fetch(client, _pcfg(base), NOW, st)
    assert st["gridx.forecast_intervals"] == 25
    i = first.index_at(cut)
    assert first.flags[i - 1] == 0 and first.flags[i] == FLAG_FORECAST
    _ctl(client, base, "forecast_from=%d" % (cut + 30 * 86400))
    final = gridx.fetch(client, _pcfg(base), NOW + 6 * 3600, st)
    merged = first.merge(final)
    assert st["gridx.forecast_intervals"] == 0
    assert all(f == 0 for f in merged.flags) and len(merged) == 49
