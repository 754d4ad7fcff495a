# runtimes: cpython micropython
"""Energi Data Service (providers/energidataservice.py): both datasets, a DST day, 15-minute days,
an empty day, error answers - parsed from fixtures and fetched through the real http client
from host_sim/apis/energidataservice.py on loopback."""

from dayahead_kit import canned, check_hourly, ctl, hours, requests, session, utc

from firmware.providers import NoData, ProviderError
from firmware.providers import energidataservice as eds

from support import fixture_path, loopback_client, raises

D = "energidataservice/"


def cfg(**kw):
    c = {f.name: f.default for f in eds.CONFIG}
    c["energidataservice.currency"] = "EUR"
    for k, v in kw.items():
        c["energidataservice." + k] = v
    return c


class Chunks:
    def __init__(self, f, n):
        self.f, self.n = f, n

    def readinto(self, buf):
        return self.f.readinto(memoryview(buf)[:min(self.n, len(buf))])


def _parse(rel, name, n=512, **kw):
    with open(fixture_path(D + rel), "rb") as f:
        return eds.parse(Chunks(f, n), cfg(**kw), 0, name)


def test_elspotprices_dst_day_from_the_fixture():
    for n in (5, 64, 4096):
        s = _parse("elspotprices_dk1_2024-10-27_dst.json", "Elspotprices", n)
        check_hourly(s, utc("2024-10-26T22:00:00Z"), utc("2024-10-27T23:00:00Z"))  # 25 h
    assert (s.currency, s.unit, s.source) == ("EUR", "kWh", "energidataservice")
    # the same day in DKK: the converted column, per kWh
    s = _parse("elspotprices_dk1_2024-10-27_dst.json", "Elspotprices", currency="DKK")
    assert s.prices[0] == 687996 and s.currency == "DKK"


def test_dayaheadprices_15_minute_days():
    s = _parse("dayaheadprices_dk1_2025-10-26_dst_15min.json", "DayAheadPrices", 7)
    check_hourly(s, utc("2025-10-25T22:00:00Z"), utc("2025-10-26T23:00:00Z"), 900)
    assert len(s) == 100  # 25 hours of quarter hours
    s = _parse("dayaheadprices_dk1_2025-10-22_15min_dkk.json", "DayAheadPrices", currency="DKK")
    assert len(s) == 96 and s.end_of(0) - s.start_of(0) == 900
    # a record without the price column asked for is an error, not a zero
    e = raises(ProviderError, _parse, "dayaheadprices_dk1_2025-10-22_15min_dkk.json",
               "DayAheadPrices")
    assert "DayAheadPriceEUR" in str(e)


def test_empty_day_bad_bodies_and_error_answer():
    e = raises(NoData, _parse, "empty_day.json", "DayAheadPrices")
    assert "no DayAheadPrices prices for DK1" in str(e)
    raises(ProviderError, eds.parse, b'{"records": [{"TimeUTC": "2025-10-22T00:00:00", '
           b'"DayAheadPriceEUR": 1}', cfg(), 0)
    raises(ProviderError, eds.parse, b'{"records": [{"TimeUTC": "2025-10-22T00:15:00", '
           b'"DayAheadPriceEUR": 1}, {"TimeUTC": "2025-10-22T00:00:00", "DayAheadPriceEUR": 2}]}',
           cfg(), 0)  # descending: the request asks for ascending
    raises(ProviderError, eds.parse, b'{"records": [{"TimeUTC": "22/10/2025", '
           b'"DayAheadPriceEUR": 1}]}', cfg(), 0)
    http, client = loopback_client()
    base = session("WW_EDS_PORT")
    canned(client, base, D + "error_400.json", 400)
    e = raises(ProviderError, eds.fetch, client, cfg(baseUrl=base), utc("2025-10-22T10:00:00Z"),
               {})
    assert str(e) == 'energidataservice: HTTP 400: "start" must be a valid date' and \
        e.status == 400


def test_request_picks_the_dataset_by_date_and_asks_ascending_utc():
    url, q, name = eds.request(cfg(), utc("2025-10-02T10:17:00Z"))
    assert name == "DayAheadPrices" and url.endswith("/dataset/DayAheadPrices")
    assert q == [("start", "2025-10-02T10:00"), ("end", "2025-10-04T10:00"),
                 ("timezone", "UTC"), ("filter", '{"PriceArea":["DK1"]}'),
                 ("sort", "TimeUTC asc"), ("columns", "TimeUTC,DayAheadPriceEUR")]
    assert eds.request(cfg(), utc("2025-09-30T21:59:00Z"))[2] == "Elspotprices"
    assert eds.request(cfg(dataset="DayAheadPrices"), utc("2024-01-01T00:00:00Z"))[2] == \
        "DayAheadPrices"
    q = dict(eds.request(cfg(area="DK2", currency="DKK", hours=24),
                         utc("2024-03-30T12:00:00Z"))[1])
    assert q["filter"] == '{"PriceArea":["DK2"]}' and q["columns"] == "HourUTC,SpotPriceDKK"
    assert q["end"] == "2024-03-31T12:00"


def test_fetch_over_http_both_datasets_and_the_spring_dst_day():
    http, client = loopback_client()
    base = session("WW_EDS_PORT")
    now = utc("2024-03-30T23:00:00Z")  # local midnight before the spring-forward day
    s = eds.fetch(client, cfg(baseUrl=base, hours=23), now, {})
    check_hourly(s, now, now + 23 * 3600)
    r = requests(client, base)[-1]
    assert r["path"] == "/dataset/Elspotprices" and r["args"]["timezone"] == ["UTC"]
    assert r["args"]["sort"] == ["HourUTC asc"] and s.tariff_id == "Elspotprices DK1"
    now = utc("2025-10-25T22:00:00Z")
    s = eds.fetch(client, cfg(baseUrl=base, hours=25), now, {})
    check_hourly(s, now, now + 25 * 3600, 900)
    assert requests(client, base)[-1]["path"] == "/dataset/DayAheadPrices"
    # what is not published yet is simply not there: the schedule ends where the data does
    s = eds.fetch(client, cfg(baseUrl=base, hours=168), utc("2025-11-01T12:00:00Z"), {})
    assert s.end_s == utc("2025-11-02T00:00:00Z") and s.price_at(s.base_s) == \
        hours()[utc("2025-11-01T12:00:00Z")]


def test_fetch_failures_are_typed_and_the_next_fetch_recovers():
    http, client = loopback_client()
    base = session("WW_EDS_PORT")
    now = utc("2025-10-22T10:00:00Z")
    ctl(client, base, "fail=503")
    e = raises(http.HTTPError, eds.fetch, client, cfg(baseUrl=base), now, {})
    assert e.status == 503 and e.retry_after_s == 7
    ctl(client, base, "fail=garbage")
    raises(ProviderError, eds.fetch, client, cfg(baseUrl=base), now, {})
    ctl(client, base, "fail=empty")
    raises(NoData, eds.fetch, client, cfg(baseUrl=base), now, {})
    ctl(client, base, "fail=error")
    e = raises(ProviderError, eds.fetch, client, cfg(baseUrl=base), now, {})
    assert "simulated error answer" in str(e)
    assert len(eds.fetch(client, cfg(baseUrl=base), now, {})) == 48 * 4
    e = raises(ProviderError, eds.fetch, client, cfg(baseUrl=base + "/nowhere"), now, {})
    assert "HTTP 404" in str(e)
