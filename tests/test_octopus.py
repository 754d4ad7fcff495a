# runtimes: cpython micropython
# mpy-heap: 320k
"""Octopus Agile (providers/octopus.py): paged newest-first unit rates of a clock-change day,
VAT in or out, an empty day, error answers - from fixtures and through the real http client
from host_sim/apis/octopus.py on loopback (paging followed)."""

from dayahead_kit import canned, ctl, hours, requests, session, utc

from firmware.providers import NoData, ProviderError, octopus

from support import loopback_client, raises, read_fixture

D = "octopus/"
T0 = utc("2024-10-26T23:00:00Z")  # UK midnight before the clocks go back (50 half hours)
T1 = utc("2024-10-28T00:00:00Z")


def cfg(**kw):
    c = {f.name: f.default for f in octopus.CONFIG}
    for k, v in kw.items():
        c["octopus." + k] = v
    return c


def check(s, t0, t1, vat=False):
    h = hours()
    assert s.coverage() == (t0, t1) and len(s) == (t1 - t0) // 1800
    for i in range(len(s)):
        a = s.start_of(i)
        assert s.end_of(i) == a + 1800
        p = h[a - a % 3600]
        want = (p * 105 + (50 if p >= 0 else -50)) // 100 if vat else p
        assert s.prices[i] == want, (i, s.prices[i], want)


def test_two_pages_newest_first_make_one_day_in_order():
    s1, link = octopus.parse(read_fixture(D + "agile_2024-10-27_dst_page1.json"), cfg(vat="exc"),
                             T0, T1)
    assert link.endswith("&page=2") and link.startswith("https://api.octopus.energy/v1/products/")
    s2, link2 = octopus.parse(read_fixture(D + "agile_2024-10-27_dst_page2.json"),
                              cfg(vat="exc"), T0, T1)
    assert link2 is None and len(s1) == 30 and len(s2) == 20
    assert s2.end_s == s1.base_s  # page 2 is older
    merged = s2.merge(s1)
    check(merged, T0, T1)  # UK midnight to midnight: 25 hours, 50 half hours
    assert merged.currency == "GBP"
    inc, _ = octopus.parse(read_fixture(D + "agile_2024-10-27_dst_page1.json"), cfg(), T0, T1)
    assert inc.prices[0] == round(s1.prices[0] * 1.05)


def test_empty_day_and_error_answers():
    http, client = loopback_client()
    base = session("WW_OCTOPUS_PORT")
    c = cfg(baseUrl=base)
    canned(client, base, D + "empty_day.json")
    e = raises(NoData, octopus.fetch, client, c, T0, {})
    assert "E-1R-AGILE-24-10-01-C" in str(e)
    canned(client, base, D + "error_404.json", 404)
    e = raises(ProviderError, octopus.fetch, client, c, T0, {})
    assert str(e) == "octopus: HTTP 404: No EnergyProduct matches the given query."
    e = raises(ProviderError, octopus.fetch, client, cfg(baseUrl=base, region="I"), T0, {})
    assert "No ElectricityTariff" in str(e)
    e = raises(ProviderError, octopus.fetch, client, cfg(baseUrl=base, product="AGILE-99"),
               T0, {})
    assert "No EnergyProduct" in str(e)
    raises(ProviderError, octopus.parse, b'{"results": [{"valid_from": "2024-10-27T00:00:00Z"}]}',
           cfg(), T0, T1)
    ctl(client, base, "fail=503")
    e = raises(http.HTTPError, octopus.fetch, client, c, T0, {})
    assert e.status == 503 and e.retry_after_s == 7


def test_fetch_over_http_follows_pages_and_asks_the_window():
    http, client = loopback_client()
    base = session("WW_OCTOPUS_PORT")
    now = T0 + 1000  # 23:16:40Z: the window starts at the half hour
    s = octopus.fetch(client, cfg(baseUrl=base, vat="exc", hours=25), now, {})
    check(s, T0, T0 + 25 * 3600)
    r = requests(client, base)[0]
    assert r["path"] == ("/v1/products/AGILE-24-10-01/electricity-tariffs/"
                         "E-1R-AGILE-24-10-01-C/standard-unit-rates/")
    assert r["args"]["period_from"] == ["2024-10-26T23:00:00Z"]
    assert r["args"]["period_to"] == ["2024-10-28T00:00:00Z"] and r["args"]["page_size"] == ["52"]
    s = octopus.fetch(client, cfg(baseUrl=base, hours=25), now, {})
    check(s, T0, T0 + 25 * 3600, vat=True)
    # a small page size on the server: three pages, newest first, still one ordered day
    ctl(client, base, "page_size=20")
    n = len(requests(client, base))
    s = octopus.fetch(client, cfg(baseUrl=base, vat="exc", hours=25,
                                  tariff="E-1R-AGILE-24-10-01-C"), now, {})
    check(s, T0, T0 + 25 * 3600)
    got = requests(client, base)[n:]
    assert [r["args"].get("page") for r in got] == [None, ["2"], ["3"]]
