# runtimes: cpython micropython
"""ENTSO-E A44 (providers/entsoe.py over formats/xmlstream.py): a DST day, a 15-minute day in
curve A03 (repeated points left out), two classification sequences, no data, error answers, a
refused token - from fixtures and through the real http client from host_sim/apis/entsoe.py."""

from dayahead_kit import canned, check_hourly, ctl, hours, requests, session, utc

from firmware.providers import AuthError, NoData, ProviderError, entsoe

from support import fixture_path, loopback_client, raises, read_fixture

D = "entsoe/"
TOKEN = "sim-entsoe-token"


def cfg(**kw):
    c = {f.name: f.default for f in entsoe.CONFIG}
    c["entsoe.token"] = TOKEN
    c["entsoe.zone"] = "DK1"
    for k, v in kw.items():
        c["entsoe." + k] = v
    return c


class Chunks:
    def __init__(self, f, n):
        self.f, self.n = f, n

    def readinto(self, buf):
        return self.f.readinto(memoryview(buf)[:min(self.n, len(buf))])


def _parse(rel, n=512, **kw):
    st = {}
    with open(fixture_path(D + rel), "rb") as f:
        s = entsoe.parse(Chunks(f, n), cfg(**kw), 0, st)
    return s, st


def test_dst_day_hourly_from_the_fixture():
    for n in (1, 37, 4096):
        s, st = _parse("a44_dk1_2024-10-27_dst.xml", n)
        check_hourly(s, utc("2024-10-26T22:00:00Z"), utc("2024-10-27T23:00:00Z"))  # 25 h
    assert st["entsoe.skipped"] == 0 and (s.currency, s.unit) == ("EUR", "kWh")


def test_15_minute_day_in_curve_a03_fills_the_points_left_out():
    s, _ = _parse("a44_dk1_2025-10-22_15min_a03.xml", 11)
    t0 = utc("2025-10-21T22:00:00Z")
    assert read_fixture(D + "a44_dk1_2025-10-22_15min_a03.xml").count(b"<Point>") == 24
    # 24 points for 96 quarter hours: each lasts until the next given position
    assert s.coverage() == (t0, t0 + 86400) and len(s) == 24
    h = hours()
    for t in range(t0, t0 + 86400, 900):
        assert s.price_at(t) == h[t - t % 3600], t


def test_two_classification_sequences():
    s, st = _parse("a44_dk1_2024-03-31_dst_two_sequences.xml")
    t0, t1 = utc("2024-03-30T23:00:00Z"), utc("2024-03-31T22:00:00Z")
    h = hours()
    # sequence 2 comes first in the document: with "any" it wins, sequence 1 is skipped
    assert s.coverage() == (t0, t1) and st["entsoe.skipped"] == 23
    assert s.prices[0] == h[t0] + 7000
    s, st = _parse("a44_dk1_2024-03-31_dst_two_sequences.xml", sequence=1)
    check_hourly(s, t0, t1)
    assert st["entsoe.skipped"] == 0


def test_no_data_wrong_documents_and_bad_points():
    e = raises(NoData, _parse, "ack_no_data.xml")
    assert "No matching data found" in str(e) and "reason 999" in str(e)
    e = raises(ProviderError, entsoe.parse, read_fixture(D + "a44_dk1_2024-10-27_dst.xml").replace(
        b"publicationdocument:7:3", b"somethingelse:1:0"), cfg(), 0, {})
    assert "wrong namespace" in str(e)
    doc = read_fixture(D + "a44_dk1_2024-10-27_dst.xml")
    raises(ProviderError, entsoe.parse, doc[:len(doc) // 2], cfg(), 0, {})  # truncated
    raises(ProviderError, entsoe.parse, doc.replace(b"<position>3</position>",
                                                    b"<position>1</position>"), cfg(), 0, {})
    raises(ProviderError, entsoe.parse, doc.replace(b"MWH", b"KWH"), cfg(), 0, {})
    raises(ProviderError, entsoe.parse, doc.replace(b"PT60M", b"60"), cfg(), 0, {})
    # an intraday series (contract A07) is not a day-ahead price
    raises(NoData, entsoe.parse, doc.replace(b"<contract_MarketAgreement.type>A01",
                                             b"<contract_MarketAgreement.type>A07"), cfg(), 0, {})


def test_request_parameters_and_zones():
    q = dict(entsoe.params(cfg(zone="DE-LU"), utc("2025-10-02T10:42:00Z")))
    assert q == {"documentType": "A44", "in_Domain": "10Y1001A1001A82H",
                 "out_Domain": "10Y1001A1001A82H", "periodStart": "202510021000",
                 "periodEnd": "202510041000", "securityToken": TOKEN}
    assert entsoe.eic("nl") == "10YNL----------L" and entsoe.eic("10YAT-APG------L")
    raises(ProviderError, entsoe.params, cfg(zone="Atlantis"), 0)
    fields = {f.name: f for f in entsoe.CONFIG}
    from firmware.config import ConfigError

    raises(ConfigError, fields["entsoe.zone"].check, "Atlantis")
    assert fields["entsoe.zone"].check("DK2") == "DK2"


def test_fetch_over_http_dst_15_minutes_and_failures():
    http, client = loopback_client()
    base = session("WW_ENTSOE_PORT")
    c = cfg(baseUrl=base + "/api", hours=24)
    now = utc("2024-10-27T10:00:00Z")
    s = entsoe.fetch(client, c, now, {})
    check_hourly(s, utc("2024-10-26T22:00:00Z"), utc("2024-10-28T23:00:00Z"))  # whole days
    r = requests(client, base)[-1]
    assert r["args"]["periodStart"] == ["202410271000"] and r["args"]["documentType"] == ["A44"]
    ctl(client, base, "interval=15")
    s = entsoe.fetch(client, c, utc("2025-10-22T10:00:00Z"), {})
    assert s.coverage() == (utc("2025-10-21T22:00:00Z"), utc("2025-10-23T22:00:00Z"))
    e = raises(NoData, entsoe.fetch, client, c, utc("2027-01-01T00:00:00Z"), {})
    assert "No matching data found" in str(e)
    e = raises(AuthError, entsoe.fetch, client, cfg(baseUrl=base + "/api", token="wrong"), now, {})
    assert "HTTP 401" in str(e)
    raises(AuthError, entsoe.fetch, client, cfg(baseUrl=base + "/api", token=""), now, {})
    canned(client, base, D + "ack_400_bad_domain.xml", 400)
    e = raises(ProviderError, entsoe.fetch, client, c, now, {})
    assert "HTTP 400" in str(e) and "is not valid for this query" in str(e) and e.status == 400
    ctl(client, base, "fail=503")
    e = raises(http.HTTPError, entsoe.fetch, client, c, now, {})
    assert e.status == 503 and e.retry_after_s == 7
    ctl(client, base, "fail=garbage")
    raises(ProviderError, entsoe.fetch, client, c, now, {})
    ctl(client, base, "sequence=2")
    st = {}
    s = entsoe.fetch(client, cfg(baseUrl=base + "/api", hours=24, sequence=1), now, st)
    assert st["entsoe.skipped"] == 0  # sequence 2 (first, other prices) left alone
    check_hourly(s, utc("2024-10-26T22:00:00Z"), utc("2024-10-28T23:00:00Z"))  # A03: 1 a h
