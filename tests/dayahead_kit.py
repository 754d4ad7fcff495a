"""Shared by the European day-ahead provider tests (test_energidataservice/awattar/octopus/
entsoe.py; both runtimes): the oracle prices and the loopback sessions of tests/srv_prices.py.

The oracle is the real DK1 2024 series in tests/data/dk1_2024_dst.csv, read here with its own
decimal shift (EUR/MWh -> micro-EUR/kWh), plus its October stretch 364 days later, as the
servers serve it; the fixtures in tests/fixtures/<source>/ were cut from the same servers.
"""

import os

from firmware.clock.iso import parse_iso

from support import response_json, unique_tag

SHIFT_S = 364 * 86400
_HOURS = {}


def hours():
    """{start_s: price_u} of every hour the loopback servers know."""
    if _HOURS:
        return _HOURS
    with open((os.getenv("WW_TESTS_DIR") or "tests") + "/data/dk1_2024_dst.csv") as f:
        f.readline()
        for line in f:
            c = line.strip().split(",")
            if len(c) < 3:
                continue
            neg = c[2][0] == "-"
            whole, _, frac = c[2].lstrip("-").partition(".")
            u = int(whole) * 1000 + int((frac + "000")[:3])
            t = parse_iso(c[0])
            _HOURS[t] = -u if neg else u
            if t >= 1729382400:  # 2024-10-20: the October stretch again, in 2025
                _HOURS[t + SHIFT_S] = -u if neg else u
    return _HOURS


def check_hourly(s, t0, t1, step=3600):
    """The schedule has every `step` of [t0, t1) at the oracle's hourly price."""
    h = hours()
    assert s.coverage() == (t0, t1), (s.coverage(), t0, t1)
    assert len(s) == (t1 - t0) // step
    for i in range(len(s)):
        a = s.start_of(i)
        assert s.end_of(i) == a + step
        assert s.prices[i] == h[a - a % 3600], (i, a)


def port(name):
    """A loopback server's port; a missing one fails (the suite starts them)."""
    v = os.getenv(name)
    assert v, name + " not set: tests/srv_prices.py is not running"
    return int(v)


def session(env_name):
    return "http://127.0.0.1:%d/s/%s" % (port(env_name), unique_tag("da"))


def ctl(client, base, q):
    assert response_json(client.get(base + "/_ctl?" + q)) == {"ok": True}


def canned(client, base, fixture, status=200):
    assert response_json(client.get("%s/_canned?f=%s&st=%d" % (base, fixture, status))) == \
        {"ok": True}


def requests(client, base):
    return response_json(client.get(base + "/_requests"))


def utc(text):
    return parse_iso(text)
