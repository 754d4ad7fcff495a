# runtimes: cpython micropython
# mpy-heap: 320k
import json
from binascii import b2a_base64

from firmware.clock.iso import format_iso, parse_iso
from firmware.prices.schedule import NO_PRICE, price_u
from firmware.prices.store import Store
from firmware.providers import AuthError, NoData, ProviderError, arcadia

from support import (
    TmpDir,
    env_int,
    fixture_path,
    loopback_ca,
    loopback_client,
    raises,
    read_fixture,
    response_json,
    unique_tag,
)

FIX = "arcadia/"
NOW = parse_iso("2025-07-15T09:12:00-07:00")
DST_NOW = parse_iso("2026-03-05T08:00:00Z")  # the DST week fixture's start (entries far from
# now are outside the provider's horizon)


def cfg(**kw):
    c = {f.name: f.default for f in arcadia.CONFIG}
    c["arcadia.appId"] = "my-app-id"
    c["arcadia.appKey"] = "my-secret-key-1234"
    for k, v in kw.items():
        c["arcadia." + k] = v
    return c


def expected_changes(name):
    """The fixture's price changes through the stock json module (an independent oracle)."""
    with open(fixture_path(FIX + name)) as f:  # json.load: no big contiguous buffer
        price = json.load(f)["results"][0]
    changes = [(parse_iso(p["fromDateTime"]), parse_iso(p["toDateTime"]),
                price_u(p["rateAmount"]), p["name"]) for p in price.pop("priceChanges")]
    return changes, price


def check_against_fixture(s, name):
    want, price = expected_changes(name)
    assert len(s) == len(want)
    for i, (t0, t1, p, nm) in enumerate(want):
        assert (s.start_of(i), s.end_of(i), s.prices[i], s.name_of(i)) == (t0, t1, p, nm), i
    assert s.tariff_id == str(price["masterTariffId"])
    assert s.tariff_desc.startswith(price["description"])
    assert s.currency == price["currency"]
    assert s.mean_u == price_u(price["rateMean"])
    assert s.std_u == price_u(price["rateStandardDeviation"])


class Chunks:
    """A readinto() source that hands out n bytes at a time (like a slow socket)."""

    def __init__(self, data, n):
        self.data, self.n, self.pos = data, n, 0

    def readinto(self, buf):
        k = min(self.n, len(buf), len(self.data) - self.pos)
        buf[:k] = self.data[self.pos:self.pos + k]
        self.pos += k
        return k


# -- parsing (no network) -----------------------------------------------------------------

def test_parse_default_48h():
    st = {}
    s = arcadia.parse(read_fixture(FIX + "smart_price_48h_default.json"), cfg(), NOW, st)
    check_against_fixture(s, "smart_price_48h_default.json")
    assert len(s) == 9 and s.source == "arcadia" and s.unit == "kWh"
    assert s.coverage() == (parse_iso("2025-07-15T16:12:00Z"), parse_iso("2025-07-17T16:12:00Z"))
    # spot checks by hand: 16:00-21:00 PDT is peak, 23:00Z is 16:00 PDT
    assert s.price_at(parse_iso("2025-07-15T23:00:00Z")) == 617440
    assert s.price_at(parse_iso("2025-07-15T22:59:59Z")) == 508220
    assert s.price_at(parse_iso("2025-07-16T07:00:00Z")) == 314530
    assert s.name_of(s.index_at(parse_iso("2025-07-16T04:00:00Z"))) == \
        "Summer Partial-Peak consumption charges"
    assert len(s.names) == 3
    assert s.fetched_s == NOW
    assert st["arcadia.detailLevel"] == "QUANTITY_KEY"
    assert "arcadia.tariff_note" not in st


def test_parse_streamed_in_small_chunks():
    data = read_fixture(FIX + "smart_price_48h_default.json")
    for n in (1, 7, 64):
        s = arcadia.parse(Chunks(data, n), cfg(), NOW, {})
        check_against_fixture(s, "smart_price_48h_default.json")


def test_parse_dst_week_groupby_hour():
    with open(fixture_path(FIX + "smart_price_groupby_hour_7d_dst.json"), "rb") as f:
        s = arcadia.parse(f, cfg(groupBy="HOUR", hours=168), DST_NOW, {})
    check_against_fixture(s, "smart_price_groupby_hour_7d_dst.json")
    assert len(s) == 167  # 7 days, one of them 23 hours long
    assert s.coverage() == (parse_iso("2026-03-05T08:00:00Z"), parse_iso("2026-03-12T07:00:00Z"))
    for i in range(len(s)):
        assert s.end_of(i) - s.start_of(i) == 3600, i
        assert s.prices[i] != NO_PRICE
    # the local day 2026-03-08 (PST to PDT) has 23 hourly records
    d0, d1 = parse_iso("2026-03-08T00:00:00-08:00"), parse_iso("2026-03-09T00:00:00-07:00")
    assert d1 - d0 == 23 * 3600
    assert len(list(s.window(d0, d1))) == 23
    # the hour 01:00 PST is followed directly by 03:00 PDT
    i = s.index_at(parse_iso("2026-03-08T01:00:00-08:00"))
    assert s.end_of(i) == parse_iso("2026-03-08T03:00:00-07:00")


def test_parse_fall_back_day_has_25_hours():
    # 2025-11-02 in Pacific time: local 01:00 comes twice (-07:00, then -08:00)
    day0 = parse_iso("2025-11-02T00:00:00-07:00")
    day1 = parse_iso("2025-11-03T00:00:00-08:00")
    assert day1 - day0 == 25 * 3600
    changes = []
    t = day0
    while t < day1:
        off0 = -7 * 3600 if t < parse_iso("2025-11-02T09:00:00Z") else -8 * 3600
        off1 = -7 * 3600 if t + 3600 < parse_iso("2025-11-02T09:00:00Z") else -8 * 3600
        changes.append((format_iso(t, off0), format_iso(t + 3600, off1),
                        ',"rateAmount":0.%d' % (30 + len(changes))))
        t += 3600
    assert changes[1][0] == "2025-11-02T01:00:00-07:00"
    assert changes[2][0] == "2025-11-02T01:00:00-08:00"
    s = arcadia.parse(_doc(changes), cfg(groupBy="HOUR"), day0, {})
    assert len(s) == 25 and s.coverage() == (day0, day1)
    assert [s.prices[i] for i in range(25)] == [300000 + 10000 * k for k in range(25)]
    assert s.price_at(parse_iso("2025-11-02T01:30:00-07:00")) == 310000
    assert s.price_at(parse_iso("2025-11-02T01:30:00-08:00")) == 320000


def _doc(changes, extra=""):
    pcs = ",".join('{"name":"n","fromDateTime":"%s","toDateTime":"%s"%s}' % c for c in changes)
    return ('{"status":"success","count":1,"type":"Price","results":[{"masterTariffId":1,'
            '"currency":"USD","rateMean":0.2%s,"priceChanges":[%s]}]}' % (extra, pcs)).encode()


def test_offsets_colon_colonless_and_z():
    doc = _doc([("2025-07-15T09:00:00-07:00", "2025-07-15T10:00:00-0700", ',"rateAmount":0.1'),
                ("2025-07-15T17:00:00Z", "2025-07-15T13:30:00-04:30", ',"rateAmount":0.25'),
                ("2025-07-15T18:00:00+00:00", "2025-07-16T00:00:00+0530", ',"rateAmount":-0.01')])
    s = arcadia.parse(doc, cfg(), NOW, {})
    assert [s.start_of(i) for i in range(3)] == [parse_iso("2025-07-15T16:00:00Z"),
                                                 parse_iso("2025-07-15T17:00:00Z"),
                                                 parse_iso("2025-07-15T18:00:00Z")]
    assert s.end_s == parse_iso("2025-07-15T18:30:00Z")
    assert list(s.prices) == [100000, 250000, -10000]


def test_rate_mean_delta_when_amount_missing():
    doc = _doc([("2025-07-15T09:00:00-07:00", "2025-07-15T10:00:00-07:00",
                 ',"rateMeanDelta":-0.05')])
    s = arcadia.parse(doc, cfg(), NOW, {})
    assert list(s.prices) == [150000]


def test_rate_mean_delta_in_either_order():
    """JSON members are unordered: rateMean after priceChanges prices the deltas all the same,
    in the one streaming pass; no rateMean at all is one clear error."""
    pcs = ('[{"fromDateTime":"2025-07-15T09:00:00-07:00","toDateTime":"2025-07-15T10:00:00-07:00",'
           '"rateMeanDelta":-0.05},{"fromDateTime":"2025-07-15T10:00:00-07:00","toDateTime":'
           '"2025-07-15T11:00:00-07:00","rateAmount":0.3},{"fromDateTime":"2025-07-15T11:00:00'
           '-07:00","toDateTime":"2025-07-15T12:00:00-07:00","rateMeanDelta":0.125}]')
    head = '{"status":"success","results":[{"masterTariffId":1,"currency":"USD",'
    for body in (head + '"rateMean":0.2,"priceChanges":%s}]}' % pcs,
                 head + '"priceChanges":%s,"rateMean":0.2}]}' % pcs):
        s = arcadia.parse(body.encode(), cfg(), NOW, {})
        assert list(s.prices) == [150000, 300000, 325000]
    e = raises(ProviderError, arcadia.parse, (head + '"priceChanges":%s}]}' % pcs).encode(),
               cfg(), NOW, {})
    assert "2 price change(s) with rateMeanDelta only and no rateMean" in str(e)


def test_gaps_and_bad_order():
    doc = _doc([("2025-07-15T09:00:00-07:00", "2025-07-15T10:00:00-07:00", ',"rateAmount":0.1'),
                ("2025-07-15T11:00:00-07:00", "2025-07-15T12:00:00-07:00", ',"rateAmount":0.3')])
    s = arcadia.parse(doc, cfg(), NOW, {})
    assert len(s) == 3 and s.price_at(parse_iso("2025-07-15T10:30:00-07:00")) is None
    bad = _doc([("2025-07-15T10:00:00-07:00", "2025-07-15T11:00:00-07:00", ',"rateAmount":0.1'),
                ("2025-07-15T09:00:00-07:00", "2025-07-15T10:00:00-07:00", ',"rateAmount":0.3')])
    e = raises(ProviderError, arcadia.parse, bad, cfg(), NOW, {})
    assert "2025-07-15T09:00:00-07:00" in str(e)


def test_bad_entries_are_provider_errors():
    for changes in ([("2025-07-15T09:00:00", "2025-07-15T10:00:00-07:00", ',"rateAmount":0.1')],
                    [("2025-07-15T09:00:00-07:00", "2025-07-15T10:00:00-07:00", "")],
                    [("2025-07-15T09:00:00-07:00", "2025-07-15T09:00:00-07:00",
                      ',"rateAmount":0.1')]):
        raises(ProviderError, arcadia.parse, _doc(changes), cfg(), NOW, {})
    doc = b'{"status":"success","results":[{"priceChanges":[{"name":"x","rateAmount":1}]}]}'
    e = raises(ProviderError, arcadia.parse, doc, cfg(), NOW, {})
    assert "fromDateTime" in str(e)
    raises(ProviderError, arcadia.parse, b'{"status":"success","results":[{"priceChanges":[',
           cfg(), NOW, {})
    raises(ProviderError, arcadia.parse, b"<html>oops</html>", cfg(), NOW, {})


def test_error_envelopes_in_body():
    e = raises(ProviderError, arcadia.parse, read_fixture(FIX + "error_invalid_master_tariff.json"),
               cfg(masterTariffId=-1), NOW, {})
    assert not isinstance(e, AuthError)
    assert "ObjectNotFound" in str(e) and "could not be found" in str(e)
    assert "Tariff.masterTariffId" in str(e)
    e = raises(AuthError, arcadia.parse, read_fixture(FIX + "error_unauthorized.json"), cfg(), NOW,
               {})
    assert "Unauthorized" in str(e) and "appId" in str(e)


def test_empty_results_is_nodata():
    e = raises(NoData, arcadia.parse, read_fixture(FIX + "smart_price_empty.json"), cfg(), NOW, {})
    assert "no prices" in str(e)
    raises(NoData, arcadia.parse, _doc([]), cfg(), NOW, {})


def test_returned_tariff_differs_from_requested():
    st = {}
    s = arcadia.parse(read_fixture(FIX + "smart_price_48h_default.json"), cfg(masterTariffId=522),
                      NOW, st)
    assert s.tariff_id == "3498765"
    assert "requested 522" in s.tariff_desc and "3498765" in st["arcadia.tariff_note"]
    arcadia.parse(read_fixture(FIX + "smart_price_48h_default.json"),
                  cfg(masterTariffId=3498765), NOW, st)
    assert "arcadia.tariff_note" not in st


def test_params_only_what_is_set():
    q = arcadia.params(cfg(), NOW + 5)
    assert q == [("fromDateTime", "2025-07-15T16:00:00+00:00"),
                 ("toDateTime", "2025-07-17T16:00:00+00:00")]
    q = dict(arcadia.params(cfg(masterTariffId=3498765, zipCode="94105", country="US",
                                addressString="1 Main St", customerClass="RESIDENTIAL",
                                endUse="EV", groupBy="HOUR", territoryId=3538,
                                consumptionAmount=500.0, demandAmount=2.5, pageStart=0,
                                pageCount=25, hours=24, postCode="SW1"), NOW))
    assert q["toDateTime"] == "2025-07-16T16:00:00+00:00"
    assert (q["masterTariffId"], q["zipCode"], q["country"], q["customerClass"]) == \
        ("3498765", "94105", "US", "RESIDENTIAL")
    assert (q["groupBy"], q["territoryId"], q["consumptionAmount"], q["demandAmount"]) == \
        ("HOUR", "3538", "500", "2.5")
    assert (q["pageStart"], q["pageCount"], q["endUse"], q["postCode"]) == ("0", "25", "EV", "SW1")
    assert q["addressString"] == "1 Main St"
    assert arcadia.url(cfg(baseUrl="http://h:1/x/")) == "http://h:1/x/rest/v1/prices/smart"
    assert arcadia.url(cfg()) == "https://api.genability.com/rest/v1/prices/smart"


def test_config_fields():
    names = [f.name for f in arcadia.CONFIG]
    for k in ("appId", "appKey", "baseUrl", "masterTariffId", "zipCode", "postCode", "country",
              "addressString", "customerClass", "endUse", "groupBy", "territoryId",
              "consumptionAmount", "demandAmount", "pageCount", "hours"):
        assert "arcadia." + k in names
    assert [f for f in arcadia.CONFIG if f.name == "arcadia.appKey"][0].secret
    assert 0 <= arcadia.PUBLISH_LOCAL_MIN < 1440 and arcadia.NEEDS_NETWORK


def test_missing_credentials():
    raises(AuthError, arcadia.fetch, None, cfg(appKey=""), NOW, {})


# -- through the real http client and the loopback fixture server ---------------------------





def _base(opts):
    return "http://127.0.0.1:%d/x/%s" % (env_int("WW_HTTP_PORT"), opts)


def _recorded(http, client, tag):
    return response_json(client.get("http://127.0.0.1:%d/_requests/%s"
                                    % (env_int("WW_HTTP_PORT"), tag)))


def _unquote(s):
    out = bytearray()
    i = 0
    b = s.encode()
    while i < len(b):
        c = b[i]
        if c == 37:  # %
            out.append(int(b[i + 1:i + 3], 16))
            i += 3
            continue
        out.append(32 if c == 43 else c)
        i += 1
    return out.decode()


def _query(raw):
    out = {}
    for part in raw.split("&"):
        if part:
            k, _, v = part.partition("=")
            out[_unquote(k)] = _unquote(v)
    return out


def test_fetch_request_and_parse_over_http():
    http, client = loopback_client()
    tag = unique_tag("arc")
    c = cfg(baseUrl=_base("f=arcadia/smart_price_48h_default.json,tag=" + tag),
            masterTariffId=3498765, zipCode="94105", country="US", groupBy="none",
            customerClass="RESIDENTIAL", consumptionAmount=350, pageCount=25)
    s = arcadia.fetch(client, c, NOW, {})
    check_against_fixture(s, "smart_price_48h_default.json")
    reqs = _recorded(http, client, tag)
    assert len(reqs) == 1
    r = reqs[0]
    assert r["method"] == "GET"
    assert r["path"].endswith("/rest/v1/prices/smart")
    assert "+" not in r["query"] and "%2B" in r["query"].upper()
    q = _query(r["query"])
    assert q == {"fromDateTime": "2025-07-15T16:00:00+00:00",
                 "toDateTime": "2025-07-17T16:00:00+00:00", "masterTariffId": "3498765",
                 "zipCode": "94105", "country": "US", "customerClass": "RESIDENTIAL",
                 "consumptionAmount": "350", "pageCount": "25"}
    want = "Basic " + b2a_base64(b"my-app-id:my-secret-key-1234").decode().strip()
    assert r["headers"]["authorization"] == want


def test_fetch_error_envelopes_over_http():
    http, client = loopback_client()
    c = cfg(baseUrl=_base("f=arcadia/error_invalid_master_tariff.json,st=404"),
            masterTariffId=-1)
    e = raises(ProviderError, arcadia.fetch, client, c, NOW, {})
    assert not isinstance(e, AuthError) and "ObjectNotFound" in str(e)
    c = cfg(baseUrl=_base("f=arcadia/error_unauthorized.json,st=401"))
    e = raises(AuthError, arcadia.fetch, client, c, NOW, {})
    assert "Unauthorized" in str(e)


def test_error_envelope_keeps_status_and_retry_after():
    # A 429/503 that carries the error envelope is still a rate limit / outage: the app must
    # see the HTTP status and the server's Retry-After (it backs off at least that long).
    http, client = loopback_client()
    env = "f=arcadia/error_invalid_master_tariff.json,"
    for opts, status, ra in (("st=429,ra=120", 429, 120), ("st=503,ra=45", 503, 45),
                             ("st=503", 503, None), ("st=404", 404, None)):
        e = raises(ProviderError, arcadia.fetch, client, cfg(baseUrl=_base(env + opts)),
                   NOW, {})
        assert "ObjectNotFound" in str(e) and ("HTTP %d" % status) in str(e), opts
        assert getattr(e, "status", None) == status, opts
        assert getattr(e, "retry_after_s", None) == ra, opts
    e = raises(AuthError, arcadia.fetch, client,
               cfg(baseUrl=_base("f=arcadia/error_unauthorized.json,st=401,ra=7")), NOW, {})
    assert getattr(e, "status", None) == 401 and getattr(e, "retry_after_s", None) == 7


def test_fetch_http_error_without_envelope():
    http, client = loopback_client()
    for opts in ("st=500", "st=503,ra=120", "f=arcadia/smart_price_empty.json,st=502"):
        e = raises(http.HTTPError, arcadia.fetch, client, cfg(baseUrl=_base(opts)), NOW, {})
        assert e.status == int(opts.split("st=")[1][:3])
        assert e.retry_after_s == (120 if "ra=120" in opts else None)


def test_fetch_empty_and_dst_over_http():
    http, client = loopback_client()
    raises(NoData, arcadia.fetch, client, cfg(baseUrl=_base("f=arcadia/smart_price_empty.json")),
           NOW, {})
    s = arcadia.fetch(client, cfg(baseUrl=_base("f=arcadia/smart_price_groupby_hour_7d_dst.json,"
                                                "chunked,chunk=100"), hours=168,
                                  groupBy="HOUR"), DST_NOW, {})
    check_against_fixture(s, "smart_price_groupby_hour_7d_dst.json")


def test_fetch_store_reload():
    http, client = loopback_client()
    with TmpDir("arc") as d:
        st = Store(d)
        s = arcadia.fetch(client, cfg(baseUrl=_base("f=arcadia/smart_price_48h_default.json")),
                          NOW, {})
        assert st.save(s, {"tier_kwh": 0}) is True
        got, extras = Store(d).load()
        check_against_fixture(got, "smart_price_48h_default.json")
        assert got.same_as(s) and extras == {"tier_kwh": 0}
        # the same prices fetched again later: no flash write
        s2 = arcadia.fetch(client, cfg(baseUrl=_base("f=arcadia/smart_price_48h_default.json,"
                                                     "gzip")), NOW + 3600, {})
        assert st.save(s2, {"tier_kwh": 0}) is False and st.writes == 1


def test_faults_keep_previous_cache():
    http, client = loopback_client()
    quick = http.Client(client.open_socket, timeout_s=1)
    small = http.Client(client.open_socket, max_body=20000)
    dst = "f=arcadia/smart_price_groupby_hour_7d_dst.json"
    with TmpDir("arc") as d:
        st = Store(d)
        first = arcadia.fetch(client, cfg(baseUrl=_base("f=arcadia/smart_price_48h_default.json")),
                              NOW, {})
        st.save(first)
        faults = (
            (client, "st=500", http.HTTPError),  # plain-text error page
            (client, "st=429,ra=30", http.HTTPError),
            (client, "st=503,ra=120", http.HTTPError),
            (client, dst + ",cut=100", ValueError),  # truncated body
            (client, dst + ",close,cut=5000", ValueError),  # close-delimited, cut short
            (client, dst + ",chunked,badchunk", ValueError),  # broken chunk framing
            (client, "f=arcadia/error_unauthorized.json,st=401", AuthError),
            (client, "f=arcadia/error_invalid_master_tariff.json,st=404", ProviderError),
            (client, "f=arcadia/smart_price_empty.json", NoData),
            (client, "ct=text/html", ProviderError),  # 200 with a body that is not JSON
            (client, "big=50000", ValueError),  # oversized for max_body, or not JSON
            (quick, "f=arcadia/smart_price_48h_default.json,hdelay=3", OSError),  # time-out
            (quick, dst + ",bdelay=3", OSError),  # time-out in the middle of the body
            (small, dst, http.BodyTooLarge),  # larger than this client's max_body
        )
        for c, opts, exc in faults:
            try:
                got = arcadia.fetch(c, cfg(baseUrl=_base(opts)), NOW, {})
            except exc:
                got = None
            assert got is None, opts  # every fault is an error, never a partial schedule
            loaded, _ = Store(d).load()
            assert loaded is not None and loaded.same_as(first), opts
        refused = cfg(baseUrl="http://127.0.0.1:%d" % env_int("WW_CLOSED_PORT"))
        raises(OSError, arcadia.fetch, client, refused, NOW, {})
        assert Store(d).load()[0].same_as(first) and st.writes == 1


def test_fetch_tls_wrong_host_rogue_or_expired_certificate_is_refused():
    http, client = loopback_client()
    ca = loopback_ca()
    tls = http.Client(client.open_socket, ca_file=ca, timeout_s=10)

    def over(port_env):
        return cfg(baseUrl="https://localhost:%d/x/f=arcadia/smart_price_48h_default.json"
                   % env_int(port_env))

    s = arcadia.fetch(tls, over("WW_HTTPS_PORT"), NOW, {})
    check_against_fixture(s, "smart_price_48h_default.json")
    with TmpDir("arc") as d:
        Store(d).save(s)
        for port_env in ("WW_HTTPS_BADHOST_PORT", "WW_HTTPS_ROGUE_PORT", "WW_HTTPS_EXPIRED_PORT"):
            raises(http.TLSError, arcadia.fetch, tls, over(port_env), NOW, {})
            loaded, _ = Store(d).load()
            assert loaded is not None and loaded.same_as(s), port_env
