"""The simulator's GridX and OpenADR 3 modes (host_sim/apis via price_server.make_api) serve the
bundled real CAISO series: the firmware parsers read back exactly the series' prices, Pacific
days (23 records on the spring-forward day), and only what is published at the simulated time."""

import json
import socket

import pytest

from firmware.clock.iso import parse_iso
from firmware.clock.tz import Zone
from firmware.providers import gridx, openadr3
from host_sim.price_server import PriceServer
from host_sim.prices import BUNDLED, bundled_path, load_csv

GRIDX_Q = ("/v1/getPricing?utility=PGE&market=DAM&program=CalFUSE&ratename=EV2AS"
           "&representativeCircuitId=013532223&startdate=%s&enddate=%s")


@pytest.fixture(scope="module")
def caiso():
    _, rule, pub = BUNDLED["caiso"]
    return load_csv(bundled_path("caiso")), Zone(rule), pub


def _get(port, now_s, path, body=b"", headers=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        hdr = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        s.sendall(("SIMTIME %d\r\n%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n"
                   % (now_s, "POST" if body else "GET", path, len(body), hdr)).encode() + body)
        out = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
    finally:
        s.close()
    head, _, b = out.partition(b"\r\n\r\n")
    return int(head.split()[1]), b


def _series_price(series, t):
    for _s, _e, p in series.window(t, t + 1):
        return p
    return None


def test_gridx_mode_serves_the_series(caiso):
    series, zone, pub = caiso
    with PriceServer(series, zone, pub, provider="gridx") as srv:
        before = parse_iso("2019-03-09T12:00:00-08:00")  # before 13:00: only today
        st, body = _get(srv.port, before, GRIDX_Q % ("20190309", "20190310"))
        assert st == 200
        s = gridx.parse(body, before, {})
        assert len(s) == 24 and s.end_s == parse_iso("2019-03-10T00:00:00-08:00")
        after = parse_iso("2019-03-09T14:00:00-08:00")
        st, body = _get(srv.port, after, GRIDX_Q % ("20190309", "20190310"))
        s = gridx.parse(body, after, {})
        assert len(s) == 24 + 23  # 2019-03-10 springs forward
        assert s.end_s == parse_iso("2019-03-11T00:00:00-07:00")
        for i in range(len(s)):
            assert s.prices[i] == _series_price(series, s.start_of(i))
        assert b'"startIntervalTimeStamp":"2019-03-10T03:00:00-0700"' in body
        st, body = _get(srv.port, after, GRIDX_Q % ("20190320", "20190321"))
        assert st == 200 and json.loads(body)["meta"]["code"] == 204


def test_openadr3_mode_serves_day_events(caiso):
    series, zone, pub = caiso
    with PriceServer(series, zone, pub, provider="openadr3") as srv:
        now = parse_iso("2019-03-09T14:00:00-08:00")
        st, body = _get(srv.port, now, "/auth/token",
                        b"grant_type=client_credentials&client_id=ven-plug-001"
                        b"&client_secret=ven-secret",
                        {"Content-Type": "application/x-www-form-urlencoded"})
        assert st == 200
        tok = json.loads(body)["access_token"]
        st, _ = _get(srv.port, now, "/events?programID=pge-calfuse-ev2as")
        assert st == 401
        st, body = _get(srv.port, now, "/events?programID=pge-calfuse-ev2as&limit=50",
                        headers={"Authorization": "Bearer " + tok})
        assert st == 200
        events = json.loads(body)
        assert [len(e["intervals"]) for e in events] == [24, 24, 23]
        for e in events:
            recs, cur, unit = openadr3.event_records(e, "PRICE", now, "USD", "KWH")
            for s, _, p in recs:
                assert p == _series_price(series, s)
