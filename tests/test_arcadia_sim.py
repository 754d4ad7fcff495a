"""The simulator's Arcadia Smart Price server (host_sim/price_server.py ArcadiaApi): the groupBy
values of the SDK enum are grouped as documented (or refused), detailLevel is Quantity Key."""

import base64
import json
import socket
from urllib.parse import quote

import pytest

from firmware.clock.iso import parse_iso
from firmware.clock.tz import Zone
from host_sim.price_server import PriceServer
from host_sim.prices import BUNDLED, bundled_path, load_csv

AUTH = "Basic " + base64.b64encode(b"sim-app:sim-key").decode()


@pytest.fixture(scope="module")
def caiso():
    _, rule, pub = BUNDLED["caiso"]
    return load_csv(bundled_path("caiso")), Zone(rule), pub


def _get(port, now_s, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(("SIMTIME %d\r\nGET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
                   % (now_s, path, AUTH)).encode())
        out = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _q(t0, t1, group=None):
    q = "/rest/v1/prices/smart?fromDateTime=%s&toDateTime=%s" % (quote(t0), quote(t1))
    return q + ("&groupBy=" + group if group else "")


def _mean(series, a, b):
    num = sum((min(e, b) - max(s, a)) * p for s, e, p in series.window(a, b))
    return (num + (b - a) // 2) // (b - a)


def test_group_by_day_month_all_and_refusal(caiso):
    series, zone, pub = caiso
    t0, t1 = "2019-03-09T00:00:00-08:00", "2019-03-12T00:00:00-07:00"  # spring forward inside
    now = parse_iso("2019-03-20T00:00:00-07:00")
    with PriceServer(series, zone, pub) as srv:
        st, hour = _get(srv.port, now, _q(t0, t1, "HOUR"))
        assert st == 200 and len(hour["results"][0]["priceChanges"]) == 24 + 23 + 24
        assert hour["results"][0]["detailLevel"] == "QUANTITY_KEY"
        st, day = _get(srv.port, now, _q(t0, t1, "DAY"))
        pcs = day["results"][0]["priceChanges"]
        assert st == 200 and [(p["fromDateTime"], p["toDateTime"]) for p in pcs] == [
            ("2019-03-09T00:00:00-08:00", "2019-03-10T00:00:00-08:00"),
            ("2019-03-10T00:00:00-08:00", "2019-03-11T00:00:00-07:00"),
            ("2019-03-11T00:00:00-07:00", "2019-03-12T00:00:00-07:00")]
        for p in pcs:  # each day's time-weighted mean (the 23-hour day too)
            a, b = parse_iso(p["fromDateTime"]), parse_iso(p["toDateTime"])
            assert round(p["rateAmount"] * 1e6) == _mean(series, a, b)
        st, month = _get(srv.port, now, _q("2019-02-20T00:00:00-08:00", t1, "month"))
        pcs = month["results"][0]["priceChanges"]
        assert [p["fromDateTime"] for p in pcs] == ["2019-02-20T00:00:00-08:00",
                                                   "2019-03-01T00:00:00-08:00"]
        assert pcs[0]["toDateTime"] == "2019-03-01T00:00:00-08:00"
        st, whole = _get(srv.port, now, _q(t0, t1, "ALL"))
        pcs = whole["results"][0]["priceChanges"]
        assert len(pcs) == 1 and round(pcs[0]["rateAmount"] * 1e6) == \
            _mean(series, parse_iso(t0), parse_iso(t1))
        st, none = _get(srv.port, now, _q(t0, t1, "NONE"))
        st2, omitted = _get(srv.port, now, _q(t0, t1))
        assert none == omitted
        st, err = _get(srv.port, now, _q(t0, t1, "WEEK"))
        assert st == 400 and err["status"] == "error" and \
            err["results"][0]["code"] == "InvalidArgument" and \
            err["results"][0]["propertyName"] == "groupBy"
