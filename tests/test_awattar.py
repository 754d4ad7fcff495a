# runtimes: cpython micropython
"""aWATTar (providers/awattar.py): a DST day, a 15-minute day, an empty day, error answers - from
fixtures and through the real http client from host_sim/apis/awattar.py on loopback."""

from dayahead_kit import canned, check_hourly, ctl, requests, session, utc

from firmware.providers import NoData, ProviderError, awattar

from support import fixture_path, loopback_client, raises, read_fixture

D = "awattar/"


def cfg(**kw):
    c = {f.name: f.default for f in awattar.CONFIG}
    for k, v in kw.items():
        c["awattar." + k] = v
    return c


class Chunks:
    def __init__(self, f, n):
        self.f, self.n = f, n

    def readinto(self, buf):
        return self.f.readinto(memoryview(buf)[:min(self.n, len(buf))])


def test_dst_and_15_minute_days_from_fixtures():
    for n in (3, 100, 4096):
        with open(fixture_path(D + "marketdata_2024-03-31_dst.json"), "rb") as f:
            s = awattar.parse(Chunks(f, n), 0)
        check_hourly(s, utc("2024-03-30T23:00:00Z"), utc("2024-03-31T22:00:00Z"))  # 23 h
    assert (s.currency, s.unit) == ("EUR", "kWh")
    s = awattar.parse(read_fixture(D + "marketdata_2025-10-22_15min.json"), 0)
    check_hourly(s, utc("2025-10-21T22:00:00Z"), utc("2025-10-22T22:00:00Z"), 900)


def test_empty_day_other_units_and_bad_entries():
    e = raises(NoData, awattar.parse, read_fixture(D + "empty_day.json"), 0)
    assert str(e) == "awattar: no prices in the window"
    entry = b'{"data": [{"start_timestamp": 1428591600000, "end_timestamp": 1428595200000, ' \
            b'"marketprice": 42.09, "unit": "%s"}]}'
    s = awattar.parse(entry % b"Eur/MWh", 0)
    assert (s.base_s, s.end_s, s.prices[0]) == (1428591600, 1428595200, 42090)
    assert awattar.parse(entry.replace(b"42.09", b"-0.5") % b"EUR/MWh", 0).prices[0] == -500
    e = raises(ProviderError, awattar.parse, entry % b"ct/kWh", 0)
    assert "expected Eur/MWh" in str(e)
    raises(ProviderError, awattar.parse, entry.replace(b"00000,", b"00001,", 1) % b"Eur/MWh", 0)
    raises(ProviderError, awattar.parse, entry.replace(b"42.09", b'"x"') % b"Eur/MWh", 0)
    raises(ProviderError, awattar.parse, b'{"data": [', 0)


def test_request_in_milliseconds_from_the_current_hour():
    now = utc("2025-10-22T10:42:00Z")
    assert awattar.params(cfg(), now) == [("start", "%d000" % utc("2025-10-22T10:00:00Z")),
                                          ("end", "%d000" % utc("2025-10-24T10:00:00Z"))]
    assert awattar.url(cfg()) == "https://api.awattar.at/v1/marketdata"
    assert awattar.url(cfg(country="de")) == "https://api.awattar.de/v1/marketdata"


def test_fetch_over_http_dst_15_minutes_and_failures():
    http, client = loopback_client()
    base = session("WW_AWATTAR_PORT")
    now = utc("2024-10-26T22:00:00Z")
    s = awattar.fetch(client, cfg(baseUrl=base, hours=25), now, {})
    check_hourly(s, now, now + 25 * 3600)  # the fall-back day: 25 hours
    r = requests(client, base)[-1]
    assert r["path"] == "/v1/marketdata" and r["args"]["start"] == ["%d000" % now]
    ctl(client, base, "interval=15")
    s = awattar.fetch(client, cfg(baseUrl=base, hours=24), utc("2025-10-21T22:00:00Z"), {})
    assert len(s) == 96
    ctl(client, base, "fail=429")
    e = raises(http.HTTPError, awattar.fetch, client, cfg(baseUrl=base), now, {})
    assert e.status == 429 and e.retry_after_s == 60
    canned(client, base, D + "error_400.json", 400)
    e = raises(http.HTTPError, awattar.fetch, client, cfg(baseUrl=base), now, {})
    assert e.status == 400 and "epoch milliseconds" in str(e)
    ctl(client, base, "fail=empty")
    raises(NoData, awattar.fetch, client, cfg(baseUrl=base), now, {})
    ctl(client, base, "fail=garbage")
    raises(ProviderError, awattar.fetch, client, cfg(baseUrl=base), now, {})
    assert len(awattar.fetch(client, cfg(baseUrl=base, hours=2), now, {})) == 8
